import type { Logger } from 'pino';
import { systemClock, type Clock } from '../hardware/core/clock.ts';
import { SensorError } from '../hardware/sensor-error.ts';
import type { HardwareSettings, StationSettings } from './settings.ts';
import { openStationHardware } from './station-hardware.ts';
import { WEATHER_FIELD_TABLE } from '../hardware/core/contract.ts';

export interface ProbeOptions {
  /** How long the wind and rain counters and the vane collect before they are read. Default 5 s. */
  collectMs?: number;
  clock?: Clock;
}

/**
 * `hedgerow sensors`: opens every sensor once and prints what it reads, or exactly why it cannot, so
 * a student can check the wiring one sensor at a time. Returns true when every sensor answered.
 */
export async function probeSensors(
  settings: { station: StationSettings; hardware: HardwareSettings },
  log: Logger,
  print: (line: string) => void,
  options: ProbeOptions = {},
): Promise<boolean> {
  const clock = options.clock ?? systemClock;
  const hardware = await openStationHardware({ ...settings, log, clock });
  let allOk = true;
  try {
    const opened = new Map<string, unknown>();
    for (const sensor of hardware.sensors) {
      opened.set(sensor.name, await sensor.open().then(() => null, (error: unknown) => error));
    }
    const collectMs = options.collectMs ?? 5000;
    print(`${hardware.mode} hardware, ${hardware.build} build; collecting wind and rain for ${collectMs / 1000} s…`);
    print(`anemometer factor ${format(settings.hardware.gpio.anemometerKmhPerHz)} km/h per closure per second (hardware.gpio.anemometerKmhPerHz)`);
    await clock.sleep(collectMs);
    for (const sensor of hardware.sensors) {
      let problem = opened.get(sensor.name);
      let line = '';
      if (problem === null) {
        try {
          const reading = await sensor.read();
          line = sensor.fields.map((f) => `${f} ${format(reading[f])} ${WEATHER_FIELD_TABLE[f].unit}`).join(', ');
        } catch (error) {
          problem = error;
        }
      }
      if (problem) {
        allOk = false;
        const kind = problem instanceof SensorError ? problem.kind.toUpperCase() : 'FAULT';
        print(`${kind.padEnd(7)} ${sensor.name.padEnd(11)} ${problem instanceof Error ? problem.message : String(problem)}`);
      } else {
        print(`ok      ${sensor.name.padEnd(11)} ${line}`);
      }
      await sensor.close().catch(() => undefined);
    }
  } finally {
    await hardware.close();
  }
  return allOk;
}

function format(value: number | null | undefined): string {
  return typeof value === 'number' ? (Math.round(value * 100) / 100).toString() : '—';
}

import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { SensorError } from '../../hardware/sensor-error.ts';
import type { OutgoingRecord, RecordSink, WeatherRecord } from '../../hardware/core/contract.ts';
import type { StationSensor, WeatherFields } from '../../device/station-sensor.ts';
import { WeatherStation } from '../../device/weather-station.ts';
import { ManualClock } from '../hardware/manual-clock.ts';

const log = pino({ level: 'silent' });

class MemorySink implements RecordSink {
  readonly batches: OutgoingRecord[][] = [];
  append(batch: readonly OutgoingRecord[]): void {
    this.batches.push([...batch]);
  }
}

/** A scripted sensor: each read pops the next outcome (a reading or an error). */
function scripted(name: string, fields: (keyof WeatherFields)[], outcomes: (Partial<WeatherFields> | Error)[]): StationSensor & { opens: number } {
  let i = 0;
  return {
    name,
    fields,
    opens: 0,
    async open() {
      this.opens++;
      const next = outcomes[i];
      if (next instanceof Error && (next as SensorError).kind === 'missing') {
        i++;
        throw next;
      }
    },
    async read() {
      const next = outcomes[Math.min(i++, outcomes.length - 1)];
      if (next instanceof Error) throw next;
      return next ?? {};
    },
    async close() {},
  };
}

/** Advances a manual clock one interval at a time, letting the sampler's async reads settle in between. */
async function run(clock: ManualClock, intervalMs: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    clock.advance(intervalMs);
    for (let k = 0; k < 20; k++) await Promise.resolve();
  }
}

describe('WeatherStation', () => {
  it('writes one record per interval with the station topic, device id and every field', async () => {
    const sink = new MemorySink();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const bme = scripted('bme280', ['ambient_temperature', 'air_pressure', 'humidity'], [
      { ambient_temperature: 12.5, air_pressure: 1013.2, humidity: 71 },
    ]);
    const station = new WeatherStation({ stationId: 'field-3', intervalMs: 60_000, sensors: [bme], sink, log, clock });
    await station.start();
    expect(sink.batches).toHaveLength(0);
    await run(clock, 60_000, 3);
    await station.stop();

    expect(sink.batches).toHaveLength(3);
    const first = sink.batches[0]![0]!;
    expect(first.deviceId).toBe('field-3');
    expect(first.topic).toBe('dt/weather/field-3/reading');
    const r = first.record as unknown as WeatherRecord;
    expect(r.ambient_temperature).toBe(12.5);
    expect(r.air_pressure).toBe(1013.2);
    expect(r.ground_temperature).toBeNull();
    expect(r.sensors).toEqual({ bme280: 'ok' });
    const times = sink.batches.map((b) => b[0]!.record.ts);
    expect(times[1]! - times[0]!).toBe(60_000);
  });

  it('turns a fault into a status and null fields while other sensors stay valid, then recovers', async () => {
    const sink = new MemorySink();
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const htu = scripted('htu21d', ['ambient_temperature', 'humidity'], [
      { ambient_temperature: 10, humidity: 80 },
      new SensorError('fault', 'HTU21D', 'CRC error on humidity reading'),
      { ambient_temperature: 11, humidity: 79 },
    ]);
    const ground = scripted('ds18b20', ['ground_temperature'], [{ ground_temperature: 7.25 }]);
    const station = new WeatherStation({ stationId: 's1', intervalMs: 1000, sensors: [htu, ground], sink, log, clock });
    await station.start();
    await run(clock, 1000, 3);
    await station.stop();

    const records = sink.batches.map((b) => b[0]!.record as unknown as WeatherRecord);
    expect(records).toHaveLength(3);
    expect(records[1]!.ambient_temperature).toBeNull();
    expect(records[1]!.humidity).toBeNull();
    expect(records[1]!.sensors.htu21d).toBe('fault: HTU21D CRC error on humidity reading');
    expect(records[1]!.ground_temperature).toBe(7.25);
    expect(records[2]!.sensors.htu21d).toBe('ok');
    expect(records[2]!.ambient_temperature).toBe(11);
    expect(htu.opens).toBe(2);
  });

  it('reports a missing sensor as missing with null fields, never a made-up number', async () => {
    const sink = new MemorySink();
    const missing = scripted('bme280', ['ambient_temperature', 'air_pressure', 'humidity'], [
      new SensorError('missing', 'BME280', 'not found at 0x76/0x77 on /dev/i2c-1'),
      new SensorError('missing', 'BME280', 'not found at 0x76/0x77 on /dev/i2c-1'),
    ]);
    const station = new WeatherStation({ stationId: 's1', intervalMs: 1000, sensors: [missing], sink, log, clock: new ManualClock(Date.UTC(2026, 0, 1)) });
    await station.start();
    const record = await station.sample();
    await station.stop();
    expect(record.sensors.bme280).toBe('missing');
    expect(record.ambient_temperature).toBeNull();
    expect(record.air_pressure).toBeNull();
    expect(sink.batches).toHaveLength(1);
  });

  it('keeps sampling when the outbox throws once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let calls = 0;
    const flaky: RecordSink = {
      append() {
        calls++;
        if (calls === 1) throw new Error('SQLITE_FULL: database or disk is full');
      },
    };
    const sensor = scripted('ds18b20', ['ground_temperature'], [{ ground_temperature: 5 }]);
    const station = new WeatherStation({ stationId: 's1', intervalMs: 1000, sensors: [sensor], sink: flaky, log, clock });
    await station.start();
    await run(clock, 1000, 3);
    await station.stop();
    expect(calls).toBe(3);
  });
});

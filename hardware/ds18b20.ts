import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { systemClock } from './core/clock.ts';
import { SensorError } from './sensor-error.ts';

/**
 * DS18B20 ground probe through the kernel's w1-therm driver. Reading `w1_slave` makes the kernel run a
 * conversion and prints the 9 scratchpad bytes twice:
 *   72 01 4b 46 7f ff 0e 10 57 : crc=57 YES
 *   72 01 4b 46 7f ff 0e 10 57 t=23125
 * Line 1 says whether the CRC matched; line 2 ends in the temperature in milli-°C.
 */
export const W1_DEVICES_ROOT = '/sys/bus/w1/devices';
/** 1-Wire family code of the DS18B20. */
export const DS18B20_FAMILY = '28-';
/** Scratchpad value after power-on, before any conversion: 85 °C, which a ground probe never sees. */
export const POWER_ON_MILLI_C = 85_000;
/** The datasheet's measuring range, milli-°C. */
const MIN_MILLI_C = -55_000;
const MAX_MILLI_C = 125_000;
export const DEFAULT_DS18B20_ATTEMPTS = 3;
export const DEFAULT_DS18B20_RETRY_DELAY_MS = 100;

const SENSOR = 'DS18B20';
const CRC_LINE = /^((?:[0-9a-f]{2} ){9}): crc=[0-9a-f]{2} (YES|NO)$/i;
const TEMPERATURE_LINE = /^(?:[0-9a-f]{2} ){9}t=(-?\d+)$/i;
const ENABLE_HINT =
  'enable 1-Wire (dtoverlay=w1-gpio in /boot/firmware/config.txt, or sudo raspi-config nonint do_onewire 0), ' +
  'wire DQ to GPIO4 with a 4.7 kΩ pull-up to 3.3 V, and reboot';

export type W1Reading = { ok: true; milliC: number } | { ok: false; reason: string };

/** Parses the text of a w1_slave file; a reading that fails names the reason. */
export function parseW1Slave(text: string): W1Reading {
  const lines = text.trim().split('\n');
  const crc = CRC_LINE.exec(lines[0]?.trim() ?? '');
  const temperature = TEMPERATURE_LINE.exec(lines[1]?.trim() ?? '');
  if (lines.length !== 2 || !crc || !temperature) return { ok: false, reason: 'unreadable w1_slave contents' };
  if (crc[2]!.toUpperCase() !== 'YES') return { ok: false, reason: 'CRC check failed (NO)' };
  // All-zero bytes have a CRC of zero too, so the kernel says YES: that is DQ stuck low, not 0 °C.
  if (/^(00 ){9}$/.test(crc[1]!)) return { ok: false, reason: 'scratchpad all zeros (data line held low)' };
  const milliC = Number.parseInt(temperature[1]!, 10);
  if (milliC < MIN_MILLI_C || milliC > MAX_MILLI_C) return { ok: false, reason: `t=${milliC} outside -55..125 °C` };
  if (milliC === POWER_ON_MILLI_C) return { ok: false, reason: 'power-on value 85 °C (no conversion ran)' };
  return { ok: true, milliC };
}

export interface Ds18b20Options {
  /** Default /sys/bus/w1/devices. */
  root?: string;
  /** e.g. "28-0000075a1b2c"; default: the first 28-* device found. */
  deviceId?: string;
  /** Reads per call before a fault is reported (default 3). */
  attempts?: number;
  /** Pause between attempts, ms (default 100). */
  retryDelayMs?: number;
  /** Default: a real timer. */
  sleep?: (ms: number) => Promise<void>;
  log?: Logger;
}

export class Ds18b20 {
  readonly name = SENSOR;
  private readonly root: string;
  private readonly attempts: number;

  constructor(private readonly options: Ds18b20Options = {}) {
    this.root = options.root ?? W1_DEVICES_ROOT;
    this.attempts = Math.max(1, options.attempts ?? DEFAULT_DS18B20_ATTEMPTS);
  }

  /** The DS18B20s on the bus, sorted; throws SensorError(missing) with the fix when there are none. */
  async findDevices(): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.root);
    } catch (error) {
      throw new SensorError('missing', SENSOR, `not found: ${this.root} does not exist, so 1-Wire is off; ${ENABLE_HINT}`, {
        cause: error,
      });
    }
    const devices = entries.filter((entry) => entry.startsWith(DS18B20_FAMILY)).sort();
    if (devices.length > 0) return devices;
    const ghosts = entries.filter((entry) => entry.startsWith('00-'));
    throw new SensorError(
      'missing',
      SENSOR,
      ghosts.length > 0
        ? `not found: only ghost devices (${ghosts.join(', ')}) under ${this.root}, which is what a missing ` +
            `4.7 kΩ pull-up between DQ and 3.3 V looks like`
        : `not found under ${this.root}: ${ENABLE_HINT}`,
    );
  }

  /**
   * One temperature in °C. CRC failures, unreadable text and the 85 °C power-on value are retried; when
   * every attempt fails the last reason becomes a SensorError fault.
   */
  async read(): Promise<number> {
    const deviceId = this.options.deviceId ?? (await this.findDevices())[0]!;
    const path = join(this.root, deviceId, 'w1_slave');
    const sleep = this.options.sleep ?? systemClock.sleep;
    let reason = '';
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await sleep(this.options.retryDelayMs ?? DEFAULT_DS18B20_RETRY_DELAY_MS);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (error) {
        if ((error as { code?: unknown }).code === 'ENOENT') {
          throw new SensorError('missing', SENSOR, `${deviceId} is gone from ${this.root}: check the probe's wiring`, {
            cause: error,
          });
        }
        reason = `read failed (${(error as Error).message})`;
        continue;
      }
      const reading = parseW1Slave(text);
      if (reading.ok) return reading.milliC / 1000;
      reason = reading.reason;
      this.options.log?.debug(`${SENSOR} ${deviceId}: ${reason} (attempt ${attempt} of ${this.attempts})`);
    }
    throw new SensorError('fault', SENSOR, `${deviceId}: ${reason} on all ${this.attempts} attempts; ${faultHint(reason)}`);
  }
}

function faultHint(reason: string): string {
  if (reason.startsWith('power-on')) {
    return "the probe loses power or never converts: check its 3.3 V wire (in parasite mode, VDD to GND needs a strong pull-up)";
  }
  if (reason.startsWith('scratchpad all zeros')) return 'check that DQ is not shorted to GND';
  return 'check the wiring and the 4.7 kΩ pull-up (long cables may need a lower value)';
}

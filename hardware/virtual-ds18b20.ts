import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemClock } from './core/clock.ts';
import type { Clock, TimerHandle } from './core/clock.ts';

/** Faults the virtual probe can show; null is a healthy probe. */
export type Ds18b20Fault = 'crc' | 'garbage' | 'power-on' | 'zeros' | 'missing' | null;

export const DEFAULT_VIRTUAL_DS18B20_ID = '28-00000a1b2c3d';
/** The kernel converts on every read; rewriting once a second is as fresh as any sampler asks. */
export const DEFAULT_VIRTUAL_DS18B20_REFRESH_MS = 1000;
/** TH, TL, config (12-bit), and the reserved bytes, as a real DS18B20 holds them after power-on. */
const TH = 0x4b;
const TL = 0x46;
const CONFIG_12_BIT = 0x7f;
const RESERVED_5 = 0xff;
const RESERVED_7 = 0x10;
/** What a real DS18B20 holds after power-on, before its first conversion, as w1_slave shows it. */
export const POWER_ON_SCRATCHPAD: readonly number[] = [0x50, 0x05, 0x4b, 0x46, 0x7f, 0xff, 0x0c, 0x10, 0x1c];

/** Dallas/Maxim CRC-8 (polynomial x^8 + x^5 + x^4 + 1, bit-reversed 0x8C), as the kernel checks it. */
export function dallasCrc8(bytes: ArrayLike<number>): number {
  let crc = 0;
  for (let i = 0; i < bytes.length; i++) {
    crc ^= bytes[i]!;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x8c : crc >>> 1;
  }
  return crc;
}

/** The 9 scratchpad bytes for `celsius` at 12-bit resolution (1/16 °C). */
export function scratchpad(celsius: number): number[] {
  const raw = Math.round(Math.min(125, Math.max(-55, celsius)) * 16);
  const word = raw & 0xffff;
  // Byte 6 (COUNT_REMAIN) is 0x10 minus the fraction bits on real parts.
  const bytes = [word & 0xff, word >> 8, TH, TL, CONFIG_12_BIT, RESERVED_5, 0x10 - (raw & 0x0f), RESERVED_7];
  return [...bytes, dallasCrc8(bytes)];
}

/** The text the kernel's w1-therm driver gives for a scratchpad, with `t=` as it computes it. */
export function w1SlaveText(bytes: readonly number[]): string {
  const hexBytes = bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const computed = dallasCrc8(bytes.slice(0, 8));
  const signed = (((bytes[1]! << 8) | bytes[0]!) << 16) >> 16;
  const milliC = Math.trunc((signed * 1000) / 16);
  return `${hexBytes} : crc=${computed.toString(16).padStart(2, '0')} ${computed === bytes[8] ? 'YES' : 'NO'}\n${hexBytes} t=${milliC}\n`;
}

export interface VirtualDs18b20Options {
  /** Stands in for /sys/bus/w1/devices; give a temp dir. */
  root: string;
  /** Default 28-00000a1b2c3d. */
  deviceId?: string;
  /** The probe's temperature in °C, asked at each refresh. */
  temperature: () => number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default 1000 ms. */
  refreshMs?: number;
}

/**
 * A DS18B20 as the kernel shows it: a `28-*` directory holding a `w1_slave` file in the real format, so
 * the real reader (ds18b20.ts) is what gets exercised. Faults change what the file says.
 */
export class VirtualDs18b20 {
  readonly name = 'virtual DS18B20';
  readonly deviceId: string;
  private fault: Ds18b20Fault = null;
  private timer: TimerHandle | undefined;

  constructor(private readonly options: VirtualDs18b20Options) {
    this.deviceId = options.deviceId ?? DEFAULT_VIRTUAL_DS18B20_ID;
  }

  async start(): Promise<void> {
    await this.stop();
    await this.refresh();
    const clock = this.options.clock ?? systemClock;
    // A failed rewrite (temp dir removed under us) just leaves the last file in place.
    this.timer = clock.setInterval(() => void this.refresh().catch(() => {}), this.options.refreshMs ?? DEFAULT_VIRTUAL_DS18B20_REFRESH_MS);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) (this.options.clock ?? systemClock).clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Changes the fault and rewrites the file at once. */
  async setFault(fault: Ds18b20Fault): Promise<void> {
    this.fault = fault;
    await this.refresh();
  }

  /** Writes the current reading (or fault) to `w1_slave`, atomically so a reader never sees half a file. */
  async refresh(): Promise<void> {
    const dir = join(this.options.root, this.deviceId);
    if (this.fault === 'missing') {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    await mkdir(dir, { recursive: true });
    const partial = join(dir, 'w1_slave.partial');
    await writeFile(partial, this.contents());
    await rename(partial, join(dir, 'w1_slave'));
  }

  private contents(): string {
    switch (this.fault) {
      case 'garbage':
        return 'ff ff ff ff \x00\x13 crc=\n';
      case 'zeros':
        return w1SlaveText([0, 0, 0, 0, 0, 0, 0, 0, 0]);
      case 'power-on':
        return w1SlaveText(POWER_ON_SCRATCHPAD);
      case 'crc': {
        const bytes = scratchpad(this.options.temperature());
        bytes[0] = bytes[0]! ^ 0x04; // one flipped bit on the wire
        return w1SlaveText(bytes);
      }
      default:
        return w1SlaveText(scratchpad(this.options.temperature()));
    }
  }
}

/**
 * Microchip MCP3427 2-channel 16-bit delta-sigma ADC, as on the Oracle Weather Station HAT: the wind
 * vane on 0x69 and the air quality board on 0x6A. It has no register pointer: a plain write of one
 * configuration byte starts a conversion, a plain read returns the result and the configuration byte,
 * whose bit 7 reads 0 once the result is new.
 */
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import type { I2cBus } from './i2c-bus.ts';
import { dataFault, sensorErrorFrom } from './i2c-sensor-errors.ts';

export const MCP3427_WIND_VANE_ADDRESS = 0x69;
export const MCP3427_AIR_QUALITY_ADDRESS = 0x6a;
/** Written: 1 starts a one-shot conversion. Read: 1 while the result is not yet new. */
export const CONFIG_NOT_READY = 0x80;
export const CONFIG_CHANNEL_SHIFT = 5;
export const CONFIG_CONTINUOUS = 0x10;
export const CONFIG_RATE_MASK = 0x0c;
export const CONFIG_RATE_16BIT = 0x08; // 15 samples/s
export const CONFIG_GAIN_MASK = 0x03;
export const CONFIG_GAIN_1 = 0x00;
/** CH0 (the datasheet's CH1), one-shot, 16 bit, gain 1. */
export const CONFIG_ONE_SHOT_16BIT = CONFIG_NOT_READY | CONFIG_RATE_16BIT | CONFIG_GAIN_1;
export const RESULT_LENGTH = 3; // upper, lower, configuration
export const VREF = 2.048;
export const FULL_SCALE = 32767;

/** 16 bit runs at 15 samples/s: 66.7 ms per conversion. */
const CONVERSION_MS = 70;
const POLL_MS = 10;
const POLLS = 5;

export type Mcp3427Channel = 0 | 1;

export interface Mcp3427Reading {
  /** Signed 16-bit output code. */
  raw: number;
  /** Volts at the input (gain 1). */
  volts: number;
}

/** The configuration byte that starts a one-shot 16-bit conversion on `channel`. */
export function configFor(channel: Mcp3427Channel): number {
  return CONFIG_ONE_SHOT_16BIT | (channel << CONFIG_CHANNEL_SHIFT);
}

/** Output code and readiness from the 3 bytes read. */
export function decodeResult(bytes: Uint8Array): { ready: boolean; raw: number } {
  const [upper = 0, lower = 0, config = CONFIG_NOT_READY] = bytes;
  return { ready: (config & CONFIG_NOT_READY) === 0, raw: (((upper << 8) | lower) << 16) >> 16 };
}

export function rawToVolts(raw: number): number {
  return (raw * VREF) / FULL_SCALE;
}

/**
 * Air quality in percent, as the Oracle Weather Station computed it from the TGS2600 gas sensor board
 * on 0x6A (tgs2600.py: `100 / max * (max - value)` with max 32767): the cleaner the air, the lower the
 * sensor's output voltage and the higher the figure. Clipped to 0..100.
 */
export function airQualityPercent(raw: number): number {
  return Math.min(100, Math.max(0, (100 * (FULL_SCALE - raw)) / FULL_SCALE));
}

export interface Mcp3427Options {
  bus: I2cBus;
  /** 0x69 (wind vane) or 0x6A (air quality board), or another strapped address. */
  address: number;
  /** Default 0. */
  channel?: Mcp3427Channel;
  /** Name in messages, e.g. "wind vane ADC". Default "MCP3427". */
  name?: string;
  clock?: Pick<Clock, 'sleep'>;
}

export class Mcp3427 {
  readonly sensor: string;
  readonly address: number;
  readonly channel: Mcp3427Channel;
  private readonly bus: I2cBus;
  private readonly clock: Pick<Clock, 'sleep'>;

  constructor(options: Mcp3427Options) {
    this.bus = options.bus;
    this.address = options.address;
    this.channel = options.channel ?? 0;
    if (this.channel !== 0 && this.channel !== 1) throw new RangeError(`MCP3427 channel must be 0 or 1, got ${String(this.channel)}`);
    this.sensor = options.name ?? 'MCP3427';
    this.clock = options.clock ?? systemClock;
  }

  /** Checks that the ADC answers; reading its output does not disturb it. */
  async open(): Promise<void> {
    try {
      await this.bus.read(this.address, RESULT_LENGTH);
    } catch (err) {
      throw sensorErrorFrom(err, this.sensor, this.bus, this.address, 'opening');
    }
  }

  /** One 16-bit conversion on the configured channel. */
  async read(): Promise<Mcp3427Reading> {
    try {
      await this.bus.write(this.address, Uint8Array.of(configFor(this.channel)));
      await this.clock.sleep(CONVERSION_MS);
      for (let poll = 1; ; poll++) {
        const { ready, raw } = decodeResult(await this.bus.read(this.address, RESULT_LENGTH));
        if (ready) return { raw, volts: rawToVolts(raw) };
        if (poll >= POLLS) throw dataFault(this.sensor, this.bus, this.address, 'conversion never finished', 'power-cycle the board');
        await this.clock.sleep(POLL_MS);
      }
    } catch (err) {
      throw sensorErrorFrom(err, this.sensor, this.bus, this.address, 'reading');
    }
  }

  /** Nothing to release: the bus belongs to the caller and a one-shot ADC idles by itself. */
  async close(): Promise<void> {}
}

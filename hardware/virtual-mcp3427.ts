/**
 * An MCP3427 that answers the real protocol: a configuration byte written starts a conversion (one-shot)
 * or selects continuous mode; a read returns the output code and the configuration byte, whose bit 7
 * stays 1 until a new result is in. Voltages are set per channel.
 */
import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import {
  CONFIG_CHANNEL_SHIFT, CONFIG_CONTINUOUS, CONFIG_GAIN_MASK, CONFIG_NOT_READY, CONFIG_RATE_MASK, VREF,
} from './mcp3427.ts';
import type { Mcp3427Channel } from './mcp3427.ts';
import type { VirtualI2cDevice } from './virtual-i2c-bus.ts';

/** Sample rate field (bits 3..2) to conversion time in ms and the largest positive code. */
const RATES = [
  { ms: 1000 / 240, max: 2047 }, // 12 bit
  { ms: 1000 / 60, max: 8191 }, // 14 bit
  { ms: 1000 / 15, max: 32767 }, // 16 bit
  { ms: 1000 / 15, max: 32767 },
] as const;
const GAINS = [1, 2, 4, 8] as const;
/** Power-on default: CH1, continuous, 12 bit, gain 1, no result yet. */
const POWER_ON_CONFIG = 0x90;

/** `never-ready`: conversions never finish, so bit 7 of the configuration byte stays 1. */
export type VirtualMcp3427Fault = 'never-ready';

export interface VirtualMcp3427Options {
  clock?: Pick<Clock, 'now'>;
}

export class VirtualMcp3427 implements VirtualI2cDevice {
  private readonly clock: Pick<Clock, 'now'>;
  private readonly voltages = [0, 0];
  private config = POWER_ON_CONFIG;
  private output = 0;
  private fresh = false;
  private convertEnd: number;
  private fault: VirtualMcp3427Fault | null = null;
  /** Conversions started, for tests. */
  measurements = 0;

  constructor(options: VirtualMcp3427Options = {}) {
    this.clock = options.clock ?? systemClock;
    this.convertEnd = this.clock.now() + this.rate().ms;
  }

  /** Sets the input voltage of `channel` (volts, differential). */
  setVoltage(volts: number, channel: Mcp3427Channel = 0): void {
    this.voltages[channel] = volts;
  }

  setFault(fault: VirtualMcp3427Fault | null): void {
    this.fault = fault;
  }

  write(bytes: Uint8Array): void {
    const [config] = bytes;
    if (config === undefined) return;
    this.config = config & ~CONFIG_NOT_READY;
    // One-shot starts only when bit 7 is written as 1; continuous mode restarts on any write.
    if ((config & CONFIG_CONTINUOUS) !== 0 || (config & CONFIG_NOT_READY) !== 0) this.start();
  }

  read(length: number): Uint8Array {
    this.settle();
    const ready = this.fresh && this.fault !== 'never-ready';
    const out = new Uint8Array(length);
    out[0] = (this.output >> 8) & 0xff;
    if (length > 1) out[1] = this.output & 0xff;
    // The configuration byte repeats for as long as the master keeps reading.
    out.fill(this.config | (ready ? 0 : CONFIG_NOT_READY), 2);
    if (ready) this.fresh = false;
    return out;
  }

  private start(): void {
    this.convertEnd = this.clock.now() + this.rate().ms;
    this.fresh = false;
    this.measurements++;
  }

  private rate(): (typeof RATES)[number] {
    return RATES[(this.config & CONFIG_RATE_MASK) >> 2] ?? RATES[2];
  }

  private settle(): void {
    if (this.clock.now() < this.convertEnd) return;
    const channel = (this.config >> CONFIG_CHANNEL_SHIFT) & 0x01;
    const gain = GAINS[this.config & CONFIG_GAIN_MASK] ?? 1;
    const { max } = this.rate();
    const code = Math.round(((this.voltages[channel] ?? 0) * gain * max) / VREF);
    this.output = Math.min(max, Math.max(-max - 1, code));
    this.fresh = true;
    // Continuous mode converts again straight away; one-shot goes idle.
    this.convertEnd = (this.config & CONFIG_CONTINUOUS) !== 0 ? this.convertEnd + this.rate().ms : Number.POSITIVE_INFINITY;
  }
}

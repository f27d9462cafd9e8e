import type { Logger } from 'pino';
import { systemClock } from './core/clock.ts';
import type { Clock, TimerHandle } from './core/clock.ts';
import { classifyVaneVoltage, DirectionSum } from './wind-vane.ts';
import type { VaneOptions } from './wind-vane.ts';

/** One vane reading a second gives 300 samples over a 5 min record: plenty for a mean, light on the bus. */
export const DEFAULT_VANE_SAMPLE_MS = 1000;

export interface WindDirection {
  /** Vector mean of the matched samples, degrees in [0, 360), or null with none (or when they cancel). */
  directionDeg: number | null;
  /** Readings that matched a direction. */
  samples: number;
  /** Readings outside every bin, dropped (a loose wire, a saturated ADC). */
  unmatched: number;
  /** Reads that threw. */
  failed: number;
  /** The last read error, if any read failed since the last take. */
  lastError: unknown;
}

export interface WindVaneSamplerOptions {
  /** One reading of the vane's divider, in volts (the MCP3427 on 0x69 CH0, or a virtual one). */
  readVolts: () => Promise<number>;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default 1000 ms. */
  sampleEveryMs?: number;
  /** Divider supply and ADC ceiling, see wind-vane.ts. */
  vane?: VaneOptions;
  log?: Logger;
}

/**
 * Samples the wind vane through the interval and gives the vector mean of the directions at each take.
 * A failing read is counted, not thrown: the sampler decides what the record's status says.
 */
export class WindVaneSampler {
  readonly name = 'wind vane';
  private readonly clock: Clock;
  private readonly sum = new DirectionSum();
  private timer: TimerHandle | undefined;
  private reading = false;
  private unmatched = 0;
  private failed = 0;
  private lastError: unknown;

  constructor(private readonly options: WindVaneSamplerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async start(): Promise<void> {
    await this.stop();
    this.take();
    this.timer = this.clock.setInterval(() => void this.sample(), this.options.sampleEveryMs ?? DEFAULT_VANE_SAMPLE_MS);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the vane once; skipped while a previous read is still on the bus. */
  async sample(): Promise<void> {
    if (this.reading) return;
    this.reading = true;
    try {
      const direction = classifyVaneVoltage(await this.options.readVolts(), this.options.vane);
      if (direction === null) this.unmatched++;
      else this.sum.add(direction.degrees);
    } catch (error) {
      if (this.failed === 0) this.options.log?.debug({ err: error }, 'wind vane read failed');
      this.failed++;
      this.lastError = error;
    } finally {
      this.reading = false;
    }
  }

  /** The interval's direction; starts a new interval. */
  take(): WindDirection {
    const result = {
      directionDeg: this.sum.mean,
      samples: this.sum.count,
      unmatched: this.unmatched,
      failed: this.failed,
      lastError: this.lastError,
    };
    this.sum.reset();
    this.unmatched = 0;
    this.failed = 0;
    this.lastError = undefined;
    return result;
  }
}

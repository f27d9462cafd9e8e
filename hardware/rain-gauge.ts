import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import { RAIN_DEBOUNCE_MS } from './debouncer.ts';
import { EdgeCounter } from './edge-counter.ts';
import type { EdgeInput } from './edge-input.ts';

/** Rain per bucket tip, mm (design.md §4). */
export const MM_PER_TIP = 0.2794;

/** Millimetres for `tips` tips, rounded to 0.1 µm so sums do not show float dust (3 tips = 0.8382). */
export function rainMm(tips: number): number {
  return Math.round(tips * MM_PER_TIP * 10_000) / 10_000;
}

/** Tips per second at a rain rate of `mmPerHour`; drives the virtual rain gauge. */
export function tipRateForMmPerHour(mmPerHour: number): number {
  return Math.max(0, mmPerHour) / MM_PER_TIP / 3600;
}

export interface Rainfall {
  /** Rain since the last take, mm. */
  mm: number;
  /** Debounced tips counted. */
  tips: number;
  /** Edges dropped as bounce. */
  bounces: number;
  /** Length of the interval the figure covers, ms. */
  intervalMs: number;
}

export interface RainGaugeOptions {
  /** The bucket switch's edges: OnoffEdgeInput on BCM 6, or a VirtualEdgeInput. */
  input: EdgeInput;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default 300 ms. */
  debounceMs?: number;
}

/** Counts tipping-bucket tips between takes. */
export class RainGauge {
  readonly name = 'rain gauge';
  private readonly clock: Clock;
  private readonly counter: EdgeCounter;
  private intervalStart: number;

  constructor(options: RainGaugeOptions) {
    this.clock = options.clock ?? systemClock;
    this.counter = new EdgeCounter(options.input, options.debounceMs ?? RAIN_DEBOUNCE_MS);
    this.intervalStart = this.clock.now();
  }

  async start(): Promise<void> {
    this.intervalStart = this.clock.now();
    await this.counter.start();
  }

  stop(): Promise<void> {
    return this.counter.stop();
  }

  take(): Rainfall {
    const now = this.clock.now();
    const { edges, bounces } = this.counter.take();
    const rainfall = { mm: rainMm(edges), tips: edges, bounces, intervalMs: now - this.intervalStart };
    this.intervalStart = now;
    return rainfall;
  }
}

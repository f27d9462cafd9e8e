import { systemClock } from './core/clock.ts';
import type { Clock, TimerHandle } from './core/clock.ts';
import type { EdgeInput, EdgeListener } from './edge-input.ts';

/** Edges are produced in batches this often; each edge still carries its own exact time. */
export const DEFAULT_VIRTUAL_TICK_MS = 100;

export interface SwitchBounce {
  /** Extra edges after every real one. */
  count: number;
  /** Spacing of the extra edges in ms. */
  spacingMs: number;
}

export interface VirtualEdgeInputOptions {
  /** Human name used in messages, e.g. "virtual anemometer". */
  name: string;
  /** Edges per second as a function of epoch ms; negative or non-finite values count as 0. */
  rate: (atMs: number) => number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Batch period in ms (default 100). */
  tickMs?: number;
  /** Contact bounce to inject after every edge, for exercising the debouncer (default none). */
  bounce?: SwitchBounce;
}

/**
 * An edge source driven by a rate function, standing in for a reed switch. Edges are spaced exactly:
 * the rate is integrated tick by tick and an edge falls where the running count crosses a whole number,
 * so 2 edges/s gives edges 500 ms apart and a rate of 0.01/s gives one edge every 100 s, no randomness.
 * Every edge handed out in a tick is timestamped at or before that tick's time.
 */
export class VirtualEdgeInput implements EdgeInput {
  readonly name: string;
  private readonly clock: Clock;
  private readonly tickMs: number;
  private timer: TimerHandle | undefined;
  private listener: EdgeListener | undefined;
  private lastMs = 0;
  /** Fraction of an edge accumulated since the last whole edge. */
  private phase = 0;
  /** Bounce edges that fall after the current tick. */
  private pendingBounces: number[] = [];

  constructor(private readonly options: VirtualEdgeInputOptions) {
    this.name = options.name;
    this.clock = options.clock ?? systemClock;
    this.tickMs = options.tickMs ?? DEFAULT_VIRTUAL_TICK_MS;
  }

  async start(onEdge: EdgeListener): Promise<void> {
    await this.stop();
    this.listener = onEdge;
    this.lastMs = this.clock.now();
    this.phase = 0;
    this.pendingBounces = [];
    this.timer = this.clock.setInterval(() => this.tick(), this.tickMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
    this.timer = undefined;
    this.listener = undefined;
  }

  private tick(): void {
    const now = this.clock.now();
    const spanMs = now - this.lastMs;
    if (spanMs <= 0) return;
    const edges = [...this.pendingBounces.filter((t) => t <= now)];
    this.pendingBounces = this.pendingBounces.filter((t) => t > now);
    const rate = sanitise(this.options.rate(this.lastMs + spanMs / 2));
    const total = this.phase + (rate * spanMs) / 1000;
    for (let k = 1; k <= Math.floor(total); k++) {
      const at = this.lastMs + ((k - this.phase) / rate) * 1000;
      edges.push(at);
      for (let b = 1; b <= (this.options.bounce?.count ?? 0); b++) {
        const bounceAt = at + b * (this.options.bounce?.spacingMs ?? 0);
        (bounceAt <= now ? edges : this.pendingBounces).push(bounceAt);
      }
    }
    this.phase = total - Math.floor(total);
    this.lastMs = now;
    edges.sort((a, b) => a - b);
    for (const at of edges) this.listener?.(at);
  }
}

function sanitise(rate: number): number {
  return Number.isFinite(rate) && rate > 0 ? rate : 0;
}

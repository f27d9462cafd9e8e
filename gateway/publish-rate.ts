/** Waits; resolves early (without error) when the signal aborts. Injected so tests run on fake time. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const WINDOW_MS = 1_000;
/** A tenth of the rate in any tenth of a second, so the second's publishes are spread over it. */
const BURST_MS = 100;

/**
 * At most `perSecond` publishes in any 1-second window (AWS IoT Core allows 100 per connection), and
 * at most a tenth of them in any 100 ms. Sliding windows, not a token bucket: a bucket would allow a
 * burst of twice the rate across the edge of a second. The finer window spreads the publishes out:
 * a whole second's envelopes sent at once would wait in memory for their PUBACKs together, long
 * enough for the collector to promote them to the old generation (up to 100 × 128 KB at a time).
 */
export class PublishRate {
  private readonly times: number[] = [];
  private readonly burst: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
    private readonly sleep: Sleep,
  ) {
    this.burst = Math.max(1, Math.ceil(perSecond / (WINDOW_MS / BURST_MS)));
  }

  /** How many publishes fit right now; Infinity when unlimited (0). */
  available(): number {
    if (this.perSecond <= 0) return Infinity;
    const now = this.now();
    while (this.times.length > 0 && this.times[0]! <= now - WINDOW_MS) this.times.shift();
    return Math.max(0, Math.min(this.perSecond - this.times.length, this.burst - this.recent(now)));
  }

  /** Takes a slot if one is free now, without awaiting: the common case stays synchronous. */
  tryTake(): boolean {
    if (this.available() === 0) return false;
    if (this.perSecond > 0) this.times.push(this.now());
    return true;
  }

  /** Resolves when a publish fits (without taking it) or the signal aborts. */
  async wait(signal?: AbortSignal): Promise<void> {
    while (this.available() === 0 && !signal?.aborted) {
      const now = this.now();
      const secondFrees = this.times.length >= this.perSecond ? this.times[0]! + WINDOW_MS : now;
      const burstFrees = this.recent(now) >= this.burst ? this.times[this.times.length - this.burst]! + BURST_MS : now;
      await this.sleep(Math.max(1, Math.max(secondFrees, burstFrees) - now), signal);
    }
  }

  /** Resolves when one more publish fits, and takes it. */
  async take(signal?: AbortSignal): Promise<void> {
    while (!this.tryTake()) {
      if (signal?.aborted) return;
      await this.wait(signal);
    }
  }

  /** Publishes in the last BURST_MS. */
  private recent(now: number): number {
    let count = 0;
    for (let i = this.times.length - 1; i >= 0 && this.times[i]! > now - BURST_MS; i -= 1) count += 1;
    return count;
  }
}

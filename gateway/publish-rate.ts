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

/**
 * At most `perSecond` publishes in any 1-second window (AWS IoT Core allows 100 per connection). A
 * sliding window, not a token bucket: a bucket would allow a burst of twice the rate across the
 * edge of a second.
 */
export class PublishRate {
  private readonly times: number[] = [];

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
    private readonly sleep: Sleep,
  ) {}

  /** Takes a slot if one is free now, without awaiting: the common case stays synchronous. */
  tryTake(): boolean {
    if (this.perSecond <= 0) return true;
    const now = this.now();
    while (this.times.length > 0 && this.times[0]! <= now - WINDOW_MS) this.times.shift();
    if (this.times.length >= this.perSecond) return false;
    this.times.push(now);
    return true;
  }

  /** Resolves when one more publish fits; 0 means unlimited. */
  async take(signal?: AbortSignal): Promise<void> {
    if (this.perSecond <= 0) return;
    for (;;) {
      const now = this.now();
      while (this.times.length > 0 && this.times[0]! <= now - WINDOW_MS) this.times.shift();
      if (this.times.length < this.perSecond) {
        this.times.push(now);
        return;
      }
      await this.sleep(this.times[0]! + WINDOW_MS - now, signal);
      if (signal?.aborted) return;
    }
  }
}

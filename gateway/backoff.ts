/**
 * Reconnect delays: exponential backoff with full jitter (a uniform delay between 0 and the doubled
 * bound), so a school's worth of Pis coming back after an outage do not reconnect in step.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const bound = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 30));
    this.failures += 1;
    return Math.floor(this.random() * bound);
  }

  /** After a successful connection the next failure starts from the smallest bound again. */
  reset(): void {
    this.failures = 0;
  }
}

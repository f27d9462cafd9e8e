/**
 * Commands sent to a device and not yet answered. A driver that must not be closed mid-command (pcsclite
 * holds a lock for each one) waits for them with settle() before it closes.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  get size(): number {
    return this.pending.size;
  }

  /** Runs a command and keeps it here until it settles. A synchronous throw becomes a rejection. */
  run<T>(command: () => Promise<T>): Promise<T> {
    let promise: Promise<T>;
    try {
      promise = command();
    } catch (error) {
      return Promise.reject(error);
    }
    this.pending.add(promise);
    const done = () => this.pending.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /** Resolves when every command now in flight has settled, or after `ms`, whichever comes first. */
  async settle(ms: number): Promise<void> {
    if (this.pending.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([Promise.allSettled([...this.pending]), timeout]);
    clearTimeout(timer);
  }
}

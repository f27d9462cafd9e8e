import type { Clock, TimerHandle } from '../../hardware/core/clock.ts';

interface Timer {
  id: number;
  due: number;
  /** Repeat period, or undefined for a one-shot timer or sleep. */
  every: number | undefined;
  callback: () => void;
}

/**
 * A clock that moves only when a test calls `advance()`. Timers fire in due order, each seeing `now()`
 * equal to its own due time, so a 5 s advance with a 100 ms interval runs 50 ticks at 100, 200, ... ms.
 */
export class ManualClock implements Clock {
  private timers: Timer[] = [];
  private nextId = 1;

  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, due: this.current + ms, every: undefined, callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.clearInterval(handle);
  }

  setInterval(callback: () => void, ms: number): TimerHandle {
    const timer = { id: this.nextId++, due: this.current + ms, every: ms, callback };
    this.timers.push(timer);
    return timer.id;
  }

  clearInterval(handle: TimerHandle): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.timers.push({ id: this.nextId++, due: this.current + ms, every: undefined, callback: resolve });
    });
  }

  /** Number of timers and sleeps still pending. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const next = this.timers.reduce<Timer | undefined>((a, b) => (a === undefined || b.due < a.due ? b : a), undefined);
      if (next === undefined || next.due > end) break;
      this.current = next.due;
      if (next.every === undefined) this.clearInterval(next.id);
      else next.due += next.every;
      next.callback();
    }
    this.current = end;
  }
}

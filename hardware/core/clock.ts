/**
 * The one clock of every layer. Counters timestamp edges, virtual devices tick, drivers wait between
 * retries, and the cloud engine schedules datasets and retention through this interface, so tests drive
 * time by hand (test/hardware/manual-clock.ts, test/cloud/engine/engine-fixture.ts) instead of sleeping.
 * A part that needs less asks for less: the engine takes `Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>`.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** A one-shot timer. The system clock's does not keep the process alive on its own. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // Unref'd: a pending dataset run or retention sweep must not hold a stopping process open.
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  // Not unref'd: the station's own sampling interval is what keeps its process alive.
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

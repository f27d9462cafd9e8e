/**
 * Time as the hardware layer sees it. Counters timestamp edges, virtual devices tick and drivers wait
 * between retries through this one interface, so tests drive time by hand (test/hardware/manual-clock.ts)
 * instead of sleeping.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setInterval(callback: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle): void;
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  // Not unref'd: the station's own sampling interval is what keeps its process alive.
  setInterval: (callback, ms) => setInterval(callback, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

import type { Clock } from '../../hardware/core/clock.ts';

/**
 * A clock whose sleep() moves time forward at once: drivers wait their datasheet times and virtual
 * devices see that time pass, with no real waiting. `slept` records every wait, for tests about timing.
 */
export class SteppingClock implements Pick<Clock, 'now' | 'sleep'> {
  readonly slept: number[] = [];

  constructor(private current = 0) {}

  now(): number {
    return this.current;
  }

  async sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.current += ms;
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

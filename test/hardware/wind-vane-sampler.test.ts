import { describe, expect, it } from 'vitest';
import { voltageForDirection } from '../../hardware/wind-vane.ts';
import { WindVaneSampler } from '../../hardware/wind-vane-sampler.ts';
import { ManualClock } from './manual-clock.ts';

/** Lets the promise callbacks of the sampler's reads run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

async function run(sampler: WindVaneSampler, clock: ManualClock, seconds: number): Promise<void> {
  for (let i = 0; i < seconds; i++) {
    clock.advance(1000);
    await settle();
  }
}

describe('WindVaneSampler', () => {
  it('samples once a second and takes the vector mean across north', async () => {
    const clock = new ManualClock(0);
    const directions = [337.5, 22.5, 0, 337.5, 22.5];
    let i = 0;
    const sampler = new WindVaneSampler({ readVolts: async () => voltageForDirection(directions[i++ % 5]!), clock });
    await sampler.start();
    await run(sampler, clock, 10);
    expect(sampler.take()).toEqual({ directionDeg: 0, samples: 10, unmatched: 0, failed: 0, lastError: undefined });
    await sampler.stop();
    expect(clock.pending).toBe(0);
  });

  it('drops unmatched readings and counts failed reads without throwing', async () => {
    const clock = new ManualClock(0);
    const readings: (number | Error)[] = [voltageForDirection(90), 3.2, new Error('EIO'), voltageForDirection(90), 0];
    let i = 0;
    const sampler = new WindVaneSampler({
      readVolts: async () => {
        const reading = readings[i++]!;
        if (reading instanceof Error) throw reading;
        return reading;
      },
      clock,
    });
    await sampler.start();
    await run(sampler, clock, 5);
    const result = sampler.take();
    expect(result).toMatchObject({ directionDeg: 90, samples: 2, unmatched: 2, failed: 1 });
    expect((result.lastError as Error).message).toBe('EIO');
    expect(sampler.take()).toEqual({ directionDeg: null, samples: 0, unmatched: 0, failed: 0, lastError: undefined });
  });

  it('skips a tick while the previous read is still on the bus', async () => {
    const clock = new ManualClock(0);
    let calls = 0;
    let release: (() => void) | undefined;
    const sampler = new WindVaneSampler({
      readVolts: () => {
        calls++;
        return new Promise((resolve) => (release = () => resolve(voltageForDirection(180))));
      },
      clock,
    });
    await sampler.start();
    await run(sampler, clock, 3);
    expect(calls).toBe(1);
    release?.();
    await settle();
    expect(sampler.take()).toMatchObject({ directionDeg: 180, samples: 1 });
  });
});

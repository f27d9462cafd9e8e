import { describe, expect, it } from 'vitest';
import { MM_PER_TIP, RainGauge, rainMm, tipRateForMmPerHour } from '../../hardware/rain-gauge.ts';
import { VirtualEdgeInput } from '../../hardware/virtual-edge-input.ts';
import { FakeEdgeInput } from './fake-edge-input.ts';
import { ManualClock } from './manual-clock.ts';

describe('rain maths', () => {
  it('counts 0.2794 mm per tip without float dust', () => {
    expect(MM_PER_TIP).toBe(0.2794);
    expect(rainMm(1)).toBe(0.2794);
    expect(rainMm(3)).toBe(0.8382);
    expect(rainMm(10)).toBe(2.794);
    expect(rainMm(0)).toBe(0);
  });

  it('turns a rain rate into tips per second', () => {
    expect(tipRateForMmPerHour(0.2794 * 3600)).toBeCloseTo(1, 9);
    expect(tipRateForMmPerHour(-1)).toBe(0);
  });
});

describe('RainGauge', () => {
  it('drops a bounce inside 300 ms and counts the next tip after it', async () => {
    const clock = new ManualClock(0);
    const input = new FakeEdgeInput();
    const gauge = new RainGauge({ input, clock });
    await gauge.start();
    input.emit(1_000, 1_040, 1_299, 1_400, 5_000);
    clock.advance(10_000);
    const rain = gauge.take();
    expect(rain).toEqual({ mm: rainMm(3), tips: 3, bounces: 2, intervalMs: 10_000 });
  });

  it('returns rain since the last take only', async () => {
    const clock = new ManualClock(0);
    const input = new FakeEdgeInput();
    const gauge = new RainGauge({ input, clock });
    await gauge.start();
    input.emit(1_000, 2_000);
    expect(gauge.take().tips).toBe(2);
    input.emit(3_000);
    expect(gauge.take().mm).toBe(0.2794);
    expect(gauge.take().mm).toBe(0);
    await gauge.stop();
    expect(input.started).toBe(false);
  });

  it('measures an hour of 10 mm/h from a bouncing virtual gauge to within a tip', async () => {
    const clock = new ManualClock(0);
    const input = new VirtualEdgeInput({
      name: 'rain',
      rate: () => tipRateForMmPerHour(10),
      clock,
      bounce: { count: 3, spacingMs: 20 },
      tickMs: 1000,
    });
    const gauge = new RainGauge({ input, clock });
    await gauge.start();
    clock.advance(3_600_000);
    const rain = gauge.take();
    expect(Math.abs(rain.mm - 10)).toBeLessThan(MM_PER_TIP);
    expect(rain.bounces).toBe(rain.tips * 3);
  });
});

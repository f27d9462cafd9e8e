import { describe, expect, it } from 'vitest';
import {
  Anemometer,
  ARGENT_KMH_PER_HZ,
  edgeRateForKmh,
  gustWindKmh,
  GustWindows,
  kmhFromEdgeRate,
  KMH_PER_ROTATION_PER_SECOND,
  meanWindKmh,
  WEATHER_HAT_KMH_PER_HZ,
} from '../../hardware/anemometer.ts';
import { VirtualEdgeInput } from '../../hardware/virtual-edge-input.ts';
import { FakeEdgeInput } from './fake-edge-input.ts';
import { ManualClock } from './manual-clock.ts';

/** Speed for one rotation per second, worked out from the cup geometry: 2π r · factor, m/s → km/h. */
const ONE_ROTATION_KMH = 2 * Math.PI * 0.09 * 1.18 * 3.6;

describe('anemometer maths', () => {
  it('gives 2.4 km/h for one rotation per second (2 closures/s)', () => {
    expect(KMH_PER_ROTATION_PER_SECOND).toBeCloseTo(2.4, 2);
    expect(kmhFromEdgeRate(2)).toBeCloseTo(ONE_ROTATION_KMH, 9);
    expect(kmhFromEdgeRate(2)).toBeCloseTo(2.4, 2);
    expect(meanWindKmh(120, 60_000)).toBeCloseTo(2.4, 2);
  });

  it('inverts speed to edge rate for the virtual anemometer', () => {
    expect(edgeRateForKmh(ONE_ROTATION_KMH)).toBeCloseTo(2, 9);
    expect(edgeRateForKmh(kmhFromEdgeRate(17.5))).toBeCloseTo(17.5, 9);
    expect(edgeRateForKmh(-3)).toBe(0);
  });

  it("uses the kit's factor: 1.2 km/h per closure/s for the Weather HAT kit, 2.4 for SparkFun's (Argent)", () => {
    // Raspberry Pi guide: 2 closures per rotation, 1 rotation/s = 2.4 km/h. SparkFun sheet: 1 closure/s = 2.4 km/h.
    expect(WEATHER_HAT_KMH_PER_HZ).toBeCloseTo(ONE_ROTATION_KMH / 2, 12);
    expect(kmhFromEdgeRate(1)).toBeCloseTo(1.2, 2);
    expect(kmhFromEdgeRate(1, ARGENT_KMH_PER_HZ)).toBe(2.4);
    expect(meanWindKmh(60, 60_000, ARGENT_KMH_PER_HZ)).toBeCloseTo(2.4, 12);
    expect(edgeRateForKmh(24, ARGENT_KMH_PER_HZ)).toBeCloseTo(10, 12);
    expect(edgeRateForKmh(24)).toBeCloseTo(2 * 10 * (2.4 / ONE_ROTATION_KMH), 12);
    expect(gustWindKmh([0, 1000, 2000, 3000, 4000], 5000, ARGENT_KMH_PER_HZ)).toBeCloseTo(2.4, 12);
  });

  it('gives 0 for an empty interval', () => {
    expect(meanWindKmh(10, 0)).toBe(0);
  });

  it('takes the busiest 5 s window of the fixed grid as the gust', () => {
    const calm = Array.from({ length: 5 }, (_, i) => i * 1000); // 1 edge/s in window 0
    const burst = Array.from({ length: 40 }, (_, i) => 5000 + i * 120); // 40 edges in window 1
    const after = Array.from({ length: 5 }, (_, i) => 10_000 + i * 1000);
    expect(gustWindKmh([...calm, ...burst, ...after])).toBeCloseTo(kmhFromEdgeRate(8), 9);
  });

  it('splits a burst that straddles a grid line between two windows', () => {
    const burst = Array.from({ length: 40 }, (_, i) => 2500 + i * 120); // 2.5 s .. 7.2 s
    const windows = new GustWindows(5000);
    for (const at of burst) windows.add(at);
    // 21 edges before 5 s, 19 after: the gust is the larger part, not all 40.
    expect(windows.gustKmh).toBeCloseTo(kmhFromEdgeRate(21 / 5), 9);
    windows.reset();
    expect(windows.gustKmh).toBe(0);
  });
});

/** An anemometer on a virtual input with edge rate `rate`, started at `startMs` on a manual clock. */
async function virtualAnemometer(
  rate: (at: number) => number,
  startMs = 0,
  kmhPerHz?: number,
): Promise<{ anemometer: Anemometer; clock: ManualClock }> {
  const clock = new ManualClock(startMs);
  const anemometer = new Anemometer({ input: new VirtualEdgeInput({ name: 'wind', rate, clock }), clock, ...(kmhPerHz === undefined ? {} : { kmhPerHz }) });
  await anemometer.start();
  return { anemometer, clock };
}

describe('Anemometer', () => {
  it('reads 2.4 km/h mean and gust from a virtual anemometer turning once per second', async () => {
    const { anemometer, clock } = await virtualAnemometer(() => 2, 1_700_000_000_000);
    clock.advance(60_000);
    const wind = anemometer.take();
    expect(wind.edges).toBe(120);
    expect(wind.intervalMs).toBe(60_000);
    expect(wind.meanKmh).toBeCloseTo(2.4, 2);
    expect(wind.gustKmh).toBeCloseTo(wind.meanKmh, 9);
    await anemometer.stop();
  });

  it('counts 2.4 km/h per closure per second with the Argent factor, mean and gust alike', async () => {
    const start = 1_700_000_000_000;
    const rate = (at: number): number => (at >= start + 20_000 && at < start + 25_000 ? 20 : 2);
    const { anemometer, clock } = await virtualAnemometer(rate, start, ARGENT_KMH_PER_HZ);
    clock.advance(60_000);
    const wind = anemometer.take();
    expect(wind.edges).toBe(2 * 55 + 20 * 5);
    expect(wind.meanKmh).toBeCloseTo((210 / 60) * 2.4, 9);
    expect(wind.gustKmh).toBeCloseTo(20 * 2.4, 9);
    await anemometer.stop();
  });

  it('shows a 5 s burst as the gust while the mean stays lower', async () => {
    const start = 1_700_000_000_000; // a multiple of 5 s, so the burst fills one grid window
    const rate = (at: number): number => (at >= start + 20_000 && at < start + 25_000 ? 20 : 2);
    const { anemometer, clock } = await virtualAnemometer(rate, start);
    clock.advance(60_000);
    const wind = anemometer.take();
    expect(wind.edges).toBe(2 * 55 + 20 * 5);
    expect(wind.meanKmh).toBeCloseTo(kmhFromEdgeRate(210 / 60), 6);
    expect(wind.gustKmh).toBeCloseTo(kmhFromEdgeRate(20), 6);
    expect(wind.gustKmh).toBeGreaterThan(3 * wind.meanKmh);
  });

  it('starts a fresh interval on each take', async () => {
    let rate = 10;
    const { anemometer, clock } = await virtualAnemometer(() => rate);
    clock.advance(30_000);
    expect(anemometer.take().edges).toBe(300);
    rate = 4;
    clock.advance(30_000);
    const second = anemometer.take();
    expect(second.edges).toBe(120);
    expect(second.gustKmh).toBeCloseTo(kmhFromEdgeRate(4), 6);
    clock.advance(10_000);
    await anemometer.stop();
    clock.advance(10_000);
    const third = anemometer.take();
    expect(third.edges).toBe(40);
    expect(third.intervalMs).toBe(20_000);
  });

  it('never reports a gust below the mean, even over an interval shorter than a window', async () => {
    const { anemometer, clock } = await virtualAnemometer(() => 10);
    clock.advance(2_000);
    const wind = anemometer.take();
    expect(wind.meanKmh).toBeCloseTo(kmhFromEdgeRate(10), 6);
    expect(wind.gustKmh).toBe(wind.meanKmh);
  });

  it('drops contact bounce shorter than the 1 ms debounce', async () => {
    const clock = new ManualClock(0);
    const input = new FakeEdgeInput();
    const anemometer = new Anemometer({ input, clock });
    await anemometer.start();
    input.emit(100, 100.4, 600, 600.2, 600.9, 1100);
    clock.advance(2_000);
    const wind = anemometer.take();
    expect(wind.edges).toBe(3);
    expect(wind.bounces).toBe(3);
  });
});

import { describe, expect, it } from 'vitest';
import { Anemometer } from '../../hardware/anemometer.ts';
import { VirtualEdgeInput } from '../../hardware/virtual-edge-input.ts';
import { anemometerEdgeRate, VirtualWeather } from '../../hardware/virtual-weather.ts';
import { ManualClock } from './manual-clock.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FIVE_MIN = 300_000;
const REGION = 'hedgerow-demo';
const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** The demo's three stations: one region, three sites. */
function demo() {
  return {
    field: new VirtualWeather('north-field', { region: REGION, site: 'field' }),
    riverside: new VirtualWeather('riverside', { region: REGION, site: 'riverside' }),
    hilltop: new VirtualWeather('hilltop', { region: REGION, site: 'hilltop' }),
  };
}

function week(weather: VirtualWeather, start: number) {
  const at = Array.from({ length: (7 * DAY) / HOUR }, (_, i) => weather.weatherAt(start + i * HOUR));
  return {
    temperature: at.map((w) => w.temperature),
    humidity: mean(at.map((w) => w.humidity)),
    pressure: mean(at.map((w) => w.pressure)),
    wind: mean(at.map((w) => w.windSpeedKmh)),
  };
}

/** Mean over days of (max - min) air temperature. */
function dailySwing(temperatures: readonly number[]): number {
  const days = Array.from({ length: temperatures.length / 24 }, (_, d) => temperatures.slice(d * 24, d * 24 + 24));
  return mean(days.map((day) => Math.max(...day) - Math.min(...day)));
}

describe('VirtualWeather sites', () => {
  // Several weeks across the year, so no one front decides the comparison.
  const starts = [Date.UTC(2026, 0, 5), Date.UTC(2026, 3, 6), Date.UTC(2026, 6, 6), Date.UTC(2026, 9, 5), Date.UTC(2026, 11, 1)];

  it.each(starts)('over the week from %i the hilltop is colder, windier and at a lower pressure than the field', (start) => {
    const { field, hilltop } = demo();
    const f = week(field, start);
    const h = week(hilltop, start);
    expect(mean(h.temperature)).toBeLessThan(mean(f.temperature) - 0.8);
    expect(h.wind).toBeGreaterThan(f.wind * 1.3);
    // 220 m up: the barometric formula gives ~26 hPa less.
    expect(f.pressure - h.pressure).toBeGreaterThan(20);
    expect(f.pressure - h.pressure).toBeLessThan(32);
  });

  it.each(starts)('over the week from %i the riverside hollow is damper, with a larger daily swing and colder nights', (start) => {
    const { field, riverside } = demo();
    const f = week(field, start);
    const r = week(riverside, start);
    expect(r.humidity).toBeGreaterThan(f.humidity + 3);
    expect(dailySwing(r.temperature)).toBeGreaterThan(dailySwing(f.temperature) * 1.2);
    expect(Math.min(...r.temperature)).toBeLessThan(Math.min(...f.temperature));
    expect(r.wind).toBeLessThan(f.wind);
  });

  it('neighbours in one region share their fronts; a station of its own region does not', () => {
    const { field, hilltop } = demo();
    const year = [Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1)] as const;
    expect(hilltop.frontsBetween(...year)).toEqual(field.frontsBetween(...year));
    expect(new VirtualWeather('north-field').frontsBetween(...year)).not.toEqual(field.frontsBetween(...year));
  });

  it('keeps "same id, site and instant give the same weather"', () => {
    const a = new VirtualWeather('riverside', { region: REGION, site: 'riverside' });
    const b = new VirtualWeather('riverside', { region: REGION, site: 'riverside' });
    for (let t = starts[0]!; t < starts[0]! + DAY; t += 7 * 60_000 + 13) expect(b.weatherAt(t)).toEqual(a.weatherAt(t));
  });
});

describe('VirtualWeather.windOver (the backfill\'s anemometer)', () => {
  it('gives a gust at or above the mean over every 5 min record of a day, and above it in most', () => {
    const { field } = demo();
    const start = Date.UTC(2026, 2, 10);
    let above = 0;
    const ratios: number[] = [];
    for (let t = start; t < start + DAY; t += FIVE_MIN) {
      const wind = field.windOver(t, t + FIVE_MIN);
      expect(wind.gustKmh).toBeGreaterThanOrEqual(wind.meanKmh);
      if (wind.gustKmh > wind.meanKmh * 1.05) above += 1;
      if (wind.meanKmh > 2) ratios.push(wind.gustKmh / wind.meanKmh);
    }
    expect(above).toBeGreaterThan(0.9 * (DAY / FIVE_MIN));
    // A believable gust factor for a 5 s gust over a 5 min mean: 1.2..2.
    expect(mean(ratios)).toBeGreaterThan(1.2);
    expect(mean(ratios)).toBeLessThan(2);
  });

  it('agrees with a virtual anemometer counting the same weather\'s edges', async () => {
    const weather = new VirtualWeather('north-field', { region: REGION });
    const start = Date.UTC(2026, 2, 10, 12);
    const clock = new ManualClock(start);
    const anemometer = new Anemometer({ input: new VirtualEdgeInput({ name: 'a', rate: anemometerEdgeRate(weather), clock }), clock });
    await anemometer.start();
    for (let i = 0; i < (10 * 60_000) / 100; i++) clock.advance(100);
    const counted = anemometer.take();
    await anemometer.stop();
    const modelled = weather.windOver(start, start + 10 * 60_000);
    expect(modelled.meanKmh).toBeCloseTo(counted.meanKmh, -0.3);
    expect(Math.abs(modelled.gustKmh - counted.gustKmh) / counted.gustKmh).toBeLessThan(0.15);
    expect(counted.gustKmh).toBeGreaterThan(counted.meanKmh * 1.1);
  });

  it('an interval shorter than a gust window reports its mean as the gust, as the anemometer does', () => {
    const wind = new VirtualWeather('x').windOver(Date.UTC(2026, 2, 10), Date.UTC(2026, 2, 10) + 3000);
    expect(wind.gustKmh).toBe(wind.meanKmh);
  });
});

describe('VirtualWeather.override', () => {
  it('holds the overridden quantities at every instant until cleared, and leaves the rest to the model', () => {
    const weather = new VirtualWeather('riverside', { region: REGION, site: 'riverside' });
    const t = Date.UTC(2026, 5, 1, 14);
    const before = weather.weatherAt(t);
    weather.override({ temperature: -3, groundTemperature: -1 });
    expect(weather.weatherAt(t)).toEqual({ ...before, temperature: -3, groundTemperature: -1 });
    expect(weather.weatherAt(t + DAY).temperature).toBe(-3);
    weather.override({ windSpeedKmh: 40 });
    expect(weather.weatherAt(t).temperature).toBe(before.temperature);
    expect(weather.windOver(t, t + FIVE_MIN)).toEqual({ meanKmh: 40, gustKmh: 40 });
    weather.override({});
    expect(weather.weatherAt(t)).toEqual(before);
  });
});

import { describe, expect, it } from 'vitest';
import { Anemometer, ARGENT_KMH_PER_HZ, edgeRateForKmh, WEATHER_HAT_KMH_PER_HZ } from '../../hardware/anemometer.ts';
import { RainGauge, MM_PER_TIP, tipRateForMmPerHour } from '../../hardware/rain-gauge.ts';
import { VirtualEdgeInput } from '../../hardware/virtual-edge-input.ts';
import { anemometerEdgeRate, rainGaugeTipRate, VirtualWeather } from '../../hardware/virtual-weather.ts';
import type { Weather } from '../../hardware/virtual-weather.ts';
import { vectorMeanDirection } from '../../hardware/wind-vane.ts';
import { ManualClock } from './manual-clock.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const YEAR_START = Date.UTC(2025, 0, 1);
const STATIONS = ['station-1', 'station-2', 'ridge-school'];

function samples(weather: VirtualWeather, start: number, end: number, step: number): Weather[] {
  const out: Weather[] = [];
  for (let t = start; t < end; t += step) out.push(weather.weatherAt(t));
  return out;
}

const mean = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

function correlation(a: readonly number[], b: readonly number[]): number {
  const ma = mean(a);
  const mb = mean(b);
  const cov = mean(a.map((x, i) => (x - ma) * (b[i]! - mb)));
  return cov / Math.sqrt(mean(a.map((x) => (x - ma) ** 2)) * mean(b.map((y) => (y - mb) ** 2)));
}

/** Hourly means by hour of day over `days` days from `start`. */
function byHour(weather: VirtualWeather, start: number, days: number, pick: (w: Weather) => number): number[] {
  return Array.from({ length: 24 }, (_, h) =>
    mean(Array.from({ length: days }, (_, d) => pick(weather.weatherAt(start + d * DAY + h * HOUR)))),
  );
}

const argMin = (values: readonly number[]): number => values.indexOf(Math.min(...values));
const argMax = (values: readonly number[]): number => values.indexOf(Math.max(...values));

describe('VirtualWeather', () => {
  it('is a pure function of station id and time', () => {
    const a = new VirtualWeather('station-1');
    const b = new VirtualWeather('station-1');
    for (let t = YEAR_START; t < YEAR_START + 3 * DAY; t += 7 * 60_000 + 13) expect(b.weatherAt(t)).toEqual(a.weatherAt(t));
    expect(a.seed).toBe(b.seed);
  });

  it('gives different stations different weather', () => {
    const [one, two] = ['station-1', 'station-2'].map((id) => new VirtualWeather(id)) as [VirtualWeather, VirtualWeather];
    expect(one.seed).not.toBe(two.seed);
    const week = [YEAR_START + 100 * DAY, YEAR_START + 107 * DAY] as const;
    const t1 = samples(one, ...week, HOUR).map((w) => w.temperature);
    const t2 = samples(two, ...week, HOUR).map((w) => w.temperature);
    expect(mean(t1.map((t, i) => Math.abs(t - t2[i]!)))).toBeGreaterThan(0.5);
    const year = [YEAR_START, YEAR_START + 365 * DAY] as const;
    expect(one.frontsBetween(...year).map((f) => f.atMs)).not.toEqual(two.frontsBetween(...year).map((f) => f.atMs));
  });

  it.each(STATIONS)('%s stays in realistic ranges over a year, with a believable rainfall', (id) => {
    const weather = new VirtualWeather(id);
    const year = samples(weather, YEAR_START, YEAR_START + 365 * DAY, HOUR / 4);
    const range = (pick: (w: Weather) => number): [number, number] => {
      const values = year.map(pick);
      return [Math.min(...values), Math.max(...values)];
    };
    const within = ([low, high]: [number, number], min: number, max: number): void => {
      expect(low).toBeGreaterThanOrEqual(min);
      expect(high).toBeLessThanOrEqual(max);
    };
    within(range((w) => w.pressure), 950, 1050);
    within(range((w) => w.humidity), 0, 100);
    within(range((w) => w.temperature), -30, 45);
    within(range((w) => w.groundTemperature), -10, 35);
    within(range((w) => w.windSpeedKmh), 0, 150);
    within(range((w) => w.windDirectionDeg), 0, 359.999999);
    within(range((w) => w.rainRateMmPerHour), 0, 100);
    within(range((w) => w.airQuality), 0, 100);
    // Not stuck: each quantity actually moves over a year.
    expect(range((w) => w.pressure)[1] - range((w) => w.pressure)[0]).toBeGreaterThan(25);
    expect(range((w) => w.windDirectionDeg)[1] - range((w) => w.windDirectionDeg)[0]).toBeGreaterThan(180);
    expect(range((w) => w.airQuality)[1] - range((w) => w.airQuality)[0]).toBeGreaterThan(10);
    const annualRainMm = year.reduce((sum, w) => sum + w.rainRateMmPerHour / 4, 0);
    expect(annualRainMm).toBeGreaterThan(300);
    expect(annualRainMm).toBeLessThan(2500);
    const rainyShare = year.filter((w) => w.rainRateMmPerHour > 0).length / year.length;
    expect(rainyShare).toBeGreaterThan(0.03);
    expect(rainyShare).toBeLessThan(0.25);
    // Summer is warmer than winter.
    const january = mean(samples(weather, YEAR_START, YEAR_START + 31 * DAY, HOUR).map((w) => w.temperature));
    const july = mean(samples(weather, YEAR_START + 181 * DAY, YEAR_START + 212 * DAY, HOUR).map((w) => w.temperature));
    expect(july - january).toBeGreaterThan(6);
  });

  it.each(STATIONS)('%s is coldest near dawn and warmest mid afternoon; the ground lags and swings less', (id) => {
    const weather = new VirtualWeather(id);
    const spring = YEAR_START + 90 * DAY;
    const air = byHour(weather, spring, 60, (w) => w.temperature);
    const ground = byHour(weather, spring, 60, (w) => w.groundTemperature);
    expect(argMin(air)).toBeGreaterThanOrEqual(3);
    expect(argMin(air)).toBeLessThanOrEqual(8);
    expect(argMax(air)).toBeGreaterThanOrEqual(13);
    expect(argMax(air)).toBeLessThanOrEqual(17);
    const airSwing = Math.max(...air) - Math.min(...air);
    expect(airSwing).toBeGreaterThan(4);
    expect(airSwing).toBeLessThan(14);
    expect(Math.max(...ground) - Math.min(...ground)).toBeLessThan(0.5 * airSwing);
    expect(argMax(ground)).toBeGreaterThan(argMax(air));
  });

  it.each(STATIONS)('%s has humidity inverse to temperature, and high in rain', (id) => {
    const weather = new VirtualWeather(id);
    const spring = YEAR_START + 90 * DAY;
    expect(correlation(byHour(weather, spring, 60, (w) => w.temperature), byHour(weather, spring, 60, (w) => w.humidity))).toBeLessThan(-0.8);
    const year = samples(weather, YEAR_START, YEAR_START + 365 * DAY, HOUR / 2);
    const wet = year.filter((w) => w.rainRateMmPerHour > 1);
    const dry = year.filter((w) => w.rainRateMmPerHour === 0);
    expect(mean(wet.map((w) => w.humidity))).toBeGreaterThan(85);
    expect(mean(wet.map((w) => w.humidity))).toBeGreaterThan(mean(dry.map((w) => w.humidity)) + 10);
    // Fronts bring the rain: pressure is lower when it rains.
    expect(mean(wet.map((w) => w.pressure))).toBeLessThan(mean(dry.map((w) => w.pressure)) - 5);
  });

  it.each(STATIONS)('%s: fronts drop the pressure, raise the wind and veer it as they pass', (id) => {
    const weather = new VirtualWeather(id);
    const fronts = weather.frontsBetween(YEAR_START, YEAR_START + 365 * DAY).filter((f) => f.intensity > 0.6);
    expect(fronts.length).toBeGreaterThan(10);
    const hourlyDirection = (at: number): number =>
      vectorMeanDirection(samples(weather, at - HOUR / 2, at + HOUR / 2, 60_000).map((w) => w.windDirectionDeg))!;
    const turns = fronts.map((f) => {
      const before = hourlyDirection(f.atMs - f.widthHours * HOUR);
      const after = hourlyDirection(f.atMs + f.widthHours * HOUR);
      return ((after - before + 540) % 360) - 180; // clockwise positive, in (-180, 180]
    });
    expect(mean(turns)).toBeGreaterThan(20);
    const drops = fronts.map((f) => weather.weatherAt(f.atMs - 2 * DAY).pressure - weather.weatherAt(f.atMs).pressure);
    expect(mean(drops)).toBeGreaterThan(8);
    const hourMeanWind = (at: number): number => mean(samples(weather, at - HOUR / 2, at + HOUR / 2, 10_000).map((w) => w.windSpeedKmh));
    expect(mean(fronts.map((f) => hourMeanWind(f.atMs)))).toBeGreaterThan(1.5 * mean(fronts.map((f) => hourMeanWind(f.atMs - 2 * DAY))));
  });

  it.each(STATIONS)('%s has gusty wind: the best 5 s of an hour is well above the hour mean', (id) => {
    const weather = new VirtualWeather(id);
    const hour = samples(weather, YEAR_START + 100 * DAY + 13 * HOUR, YEAR_START + 100 * DAY + 14 * HOUR, 1000).map((w) => w.windSpeedKmh);
    const windows = Array.from({ length: 720 }, (_, i) => mean(hour.slice(i * 5, i * 5 + 5)));
    expect(Math.max(...windows)).toBeGreaterThan(1.2 * mean(hour));
    expect(Math.min(...windows)).toBeLessThan(0.85 * mean(hour));
  });
});

describe('virtual weather driving the edge counters', () => {
  it('gives the anemometer edge rate and the rain tip rate of the weather at each instant', () => {
    const weather = new VirtualWeather('station-1');
    const wind = anemometerEdgeRate(weather);
    const rain = rainGaugeTipRate(weather);
    for (let t = YEAR_START; t < YEAR_START + DAY; t += 17 * 60_000) {
      expect(wind(t)).toBe(edgeRateForKmh(weather.weatherAt(t).windSpeedKmh));
      expect(rain(t)).toBe(tipRateForMmPerHour(weather.weatherAt(t).rainRateMmPerHour));
    }
  });

  it('makes a virtual anemometer read the weather mean over ten minutes, with gusts above it', async () => {
    const weather = new VirtualWeather('station-2');
    const start = YEAR_START + 40 * DAY + 12 * HOUR;
    const clock = new ManualClock(start);
    const anemometer = new Anemometer({ input: new VirtualEdgeInput({ name: 'wind', rate: anemometerEdgeRate(weather), clock }), clock });
    await anemometer.start();
    clock.advance(10 * 60_000);
    const reading = anemometer.take();
    const truth = mean(samples(weather, start, start + 10 * 60_000, 100).map((w) => w.windSpeedKmh));
    expect(Math.abs(reading.meanKmh - truth) / truth).toBeLessThan(0.03);
    expect(reading.gustKmh).toBeGreaterThan(1.1 * reading.meanKmh);
    await anemometer.stop();
  });

  it("keeps the weather's speeds with another kit's factor when the anemometer and its virtual input share it", async () => {
    const weather = new VirtualWeather('station-2');
    const start = YEAR_START + 40 * DAY + 12 * HOUR;
    const hat = anemometerEdgeRate(weather);
    const argent = anemometerEdgeRate(weather, ARGENT_KMH_PER_HZ);
    // The Argent cups close once per turn, so half as many edges for the same wind.
    expect(argent(start)).toBeGreaterThan(0);
    expect(argent(start) / hat(start)).toBeCloseTo(WEATHER_HAT_KMH_PER_HZ / 2.4, 12);
    const clock = new ManualClock(start);
    const anemometer = new Anemometer({ input: new VirtualEdgeInput({ name: 'wind', rate: argent, clock }), clock, kmhPerHz: ARGENT_KMH_PER_HZ });
    await anemometer.start();
    clock.advance(10 * 60_000);
    const reading = anemometer.take();
    const truth = mean(samples(weather, start, start + 10 * 60_000, 100).map((w) => w.windSpeedKmh));
    expect(Math.abs(reading.meanKmh - truth) / truth).toBeLessThan(0.03);
    await anemometer.stop();
  });

  it('makes a virtual rain gauge collect the weather rainfall over a wet hour', async () => {
    const weather = new VirtualWeather('station-1');
    let start = YEAR_START;
    while (weather.weatherAt(start).rainRateMmPerHour < 2) start += 10 * 60_000;
    const clock = new ManualClock(start);
    const gauge = new RainGauge({ input: new VirtualEdgeInput({ name: 'rain', rate: rainGaugeTipRate(weather), clock, tickMs: 1000 }), clock });
    await gauge.start();
    clock.advance(HOUR);
    const truth = samples(weather, start, start + HOUR, 1000).reduce((sum, w) => sum + w.rainRateMmPerHour / 3600, 0);
    expect(truth).toBeGreaterThan(MM_PER_TIP);
    expect(Math.abs(gauge.take().mm - truth)).toBeLessThan(MM_PER_TIP);
    await gauge.stop();
  });
});

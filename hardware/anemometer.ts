import { systemClock } from './core/clock.ts';
import type { Clock } from './core/clock.ts';
import { WIND_DEBOUNCE_MS } from './debouncer.ts';
import { EdgeCounter } from './edge-counter.ts';
import type { EdgeInput } from './edge-input.ts';

/** The Weather HAT kit's cup anemometer: its reed switch closes twice per turn (design.md §4). */
export const CLOSURES_PER_ROTATION = 2;
/** Cup radius in metres. */
export const CUP_RADIUS_M = 0.09;
/** Cups turn slower than the wind (they lose energy); the maker's calibration factor makes up for it. */
export const ANEMOMETER_FACTOR = 1.18;
/** km/h for one rotation per second: 2π · 0.09 m · 1.18 · 3.6 ≈ 2.402, the datasheet's "2.4 km/h". */
export const KMH_PER_ROTATION_PER_SECOND = 2 * Math.PI * CUP_RADIUS_M * ANEMOMETER_FACTOR * 3.6;
/**
 * km/h for one switch closure per second, which depends on the kit (hardware.gpio.anemometerKmhPerHz):
 * - the Weather HAT kit, as the Raspberry Pi weather station guide has it: 2 closures per rotation, one
 *   rotation per second = 2.4 km/h, so ≈ 1.2 km/h per closure per second (the default);
 * - SparkFun's weather meter sheet (Argent Data Systems anemometer): one closure per second = 2.4 km/h.
 */
export const WEATHER_HAT_KMH_PER_HZ = KMH_PER_ROTATION_PER_SECOND / CLOSURES_PER_ROTATION;
export const ARGENT_KMH_PER_HZ = 2.4;
/** Gust = the highest mean over a window of this length (WMO uses 3 s; the station's design uses 5 s). */
export const GUST_WINDOW_MS = 5000;

/** Wind speed in km/h for a switch closure rate in edges per second, at `kmhPerHz` km/h per closure per second. */
export function kmhFromEdgeRate(edgesPerSecond: number, kmhPerHz: number = WEATHER_HAT_KMH_PER_HZ): number {
  return edgesPerSecond * kmhPerHz;
}

/** Closures per second the anemometer makes at `kmh`; drives the virtual anemometer. */
export function edgeRateForKmh(kmh: number, kmhPerHz: number = WEATHER_HAT_KMH_PER_HZ): number {
  return Math.max(0, kmh) / kmhPerHz;
}

/** Mean speed over an interval from its edge count; 0 for an empty interval. */
export function meanWindKmh(edges: number, intervalMs: number, kmhPerHz: number = WEATHER_HAT_KMH_PER_HZ): number {
  return intervalMs > 0 ? kmhFromEdgeRate(edges / (intervalMs / 1000), kmhPerHz) : 0;
}

/**
 * Highest edge count in any one gust window. Windows are aligned on a fixed grid of epoch time
 * (0-5 s, 5-10 s, ...), not sliding: cheap to keep for hours of edges, and a burst that straddles a
 * grid line shows as two smaller windows, so the gust can read lower than a sliding window would.
 */
export class GustWindows {
  private window = Number.NaN;
  private count = 0;
  private highest = 0;

  constructor(
    readonly windowMs: number = GUST_WINDOW_MS,
    readonly kmhPerHz: number = WEATHER_HAT_KMH_PER_HZ,
  ) {}

  add(atMs: number): void {
    const window = Math.floor(atMs / this.windowMs);
    // An edge stamped in an earlier window than the current one (out of order) counts in the current one.
    if (!(window <= this.window)) {
      this.window = window;
      this.count = 0;
    }
    this.count++;
    this.highest = Math.max(this.highest, this.count);
  }

  /** The gust speed in km/h: the busiest window's rate. */
  get gustKmh(): number {
    return kmhFromEdgeRate(this.highest / (this.windowMs / 1000), this.kmhPerHz);
  }

  reset(): void {
    this.window = Number.NaN;
    this.count = 0;
    this.highest = 0;
  }
}

/** Gust speed in km/h from edge times (epoch ms, in order) on the fixed window grid. */
export function gustWindKmh(
  edgeTimesMs: readonly number[],
  windowMs: number = GUST_WINDOW_MS,
  kmhPerHz: number = WEATHER_HAT_KMH_PER_HZ,
): number {
  const windows = new GustWindows(windowMs, kmhPerHz);
  for (const at of edgeTimesMs) windows.add(at);
  return windows.gustKmh;
}

export interface WindSpeed {
  /** Mean speed since the last take, km/h. */
  meanKmh: number;
  /** Highest 5 s window since the last take, km/h; never below the mean. */
  gustKmh: number;
  /** Debounced closures counted. */
  edges: number;
  /** Closures dropped as bounce. */
  bounces: number;
  /** Length of the interval the figures cover, ms. */
  intervalMs: number;
}

export interface AnemometerOptions {
  /** The switch's edges: OnoffEdgeInput on BCM 5, or a VirtualEdgeInput. */
  input: EdgeInput;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default 1 ms. */
  debounceMs?: number;
  /** Default 5000 ms. */
  gustWindowMs?: number;
  /** km/h for one closure per second. Default: the Weather HAT kit's, ≈ 1.2. */
  kmhPerHz?: number;
}

/**
 * Counts anemometer closures between takes. Each take covers the time since the previous one (or since
 * start) and starts a fresh interval; a gust window cut by a take counts only its part in each interval.
 */
export class Anemometer {
  readonly name = 'anemometer';
  private readonly clock: Clock;
  private readonly counter: EdgeCounter;
  private readonly gusts: GustWindows;
  private readonly kmhPerHz: number;
  private intervalStart: number;

  constructor(options: AnemometerOptions) {
    this.clock = options.clock ?? systemClock;
    this.kmhPerHz = options.kmhPerHz ?? WEATHER_HAT_KMH_PER_HZ;
    this.gusts = new GustWindows(options.gustWindowMs ?? GUST_WINDOW_MS, this.kmhPerHz);
    this.counter = new EdgeCounter(options.input, options.debounceMs ?? WIND_DEBOUNCE_MS, (at) => this.gusts.add(at));
    this.intervalStart = this.clock.now();
  }

  async start(): Promise<void> {
    this.restart();
    await this.counter.start();
  }

  stop(): Promise<void> {
    return this.counter.stop();
  }

  take(): WindSpeed {
    const intervalMs = this.clock.now() - this.intervalStart;
    const { edges, bounces } = this.counter.take();
    const meanKmh = meanWindKmh(edges, intervalMs, this.kmhPerHz);
    // An interval shorter than a window cannot fill one, so its own mean is the best gust figure.
    const gustKmh = Math.max(this.gusts.gustKmh, meanKmh);
    this.restart();
    return { meanKmh, gustKmh, edges, bounces, intervalMs };
  }

  private restart(): void {
    this.intervalStart = this.clock.now();
    this.gusts.reset();
  }
}

import { roundReading, WEATHER_FIELD_TABLE } from '../../hardware/core/contract.ts';
import {
  mainAggregate,
  SERIES_QUANTITIES,
  SERIES_QUANTITY_NAMES,
  SERIES_RANGES,
  type ComparedSeries,
  type SeriesQuantity,
  type SeriesRange,
  type StationSeries,
} from './series-contract.ts';
import type { WeatherPageSettings } from './weather-page-settings.ts';
import type { SeriesBucket, WeatherSource } from './weather-source.ts';
import { RAIN_SUM } from './weather-sql.ts';

/**
 * The chart series the page draws, computed from the datastore: one station's quantities, or one
 * quantity across the listed stations, on a full time axis with null where a bucket has no reading
 * (uPlot draws a gap there). A full axis is at most 1,460 points (1 year at 6 h), under the
 * contract's 2,016, and lets the compare view share one axis across stations.
 */

/** The buckets of a range at `now`, all aligned to UTC multiples of their size. */
export interface SeriesWindow {
  /** [from, to): `to` is the end of the bucket holding `now`, so the last bucket is the one still filling. */
  from: number;
  to: number;
  bucketMs: number;
  count: number;
  /** Start of the first whole rain bucket at or before `from`: the query reads from here so no rain total is cut short. */
  queryFrom: number;
  rainBucketMs: number;
}

export function seriesWindow(range: SeriesRange, now: number): SeriesWindow {
  const { spanMs, bucketMs, rainBucketMs } = SERIES_RANGES[range];
  const to = Math.floor(now / bucketMs) * bucketMs + bucketMs;
  const from = to - spanMs;
  return { from, to, bucketMs, count: spanMs / bucketMs, queryFrom: Math.floor(from / rainBucketMs) * rainBucketMs, rainBucketMs };
}

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.floor(ms / 1000);

function rounded(quantity: SeriesQuantity, value: number | null): number | null {
  if (value === null) return null;
  const r = roundReading(quantity, value);
  // 359.7° rounds to 360, which is north: keep directions in [0, 360).
  return quantity === 'wind_direction' && r >= 360 ? r - 360 : r;
}

/** Buckets of the query (indexed from queryFrom) placed on the window's full axis, one column per key. */
function fillColumns(window: SeriesWindow, buckets: SeriesBucket[], keys: Array<{ key: string; quantity: SeriesQuantity }>) {
  const columns = Object.fromEntries(keys.map(({ key }) => [key, new Array<number | null>(window.count).fill(null)]));
  const offset = (window.from - window.queryFrom) / window.bucketMs;
  for (const bucket of buckets) {
    const at = bucket.index - offset;
    if (at < 0 || at >= window.count) continue;
    for (const { key, quantity } of keys) columns[key]![at] = rounded(quantity, bucket.values[key] ?? null);
  }
  return columns;
}

/** Rain totals per rain bucket, summed from the query's buckets; only buckets with a rain figure. */
function rainTotals(window: SeriesWindow, buckets: SeriesBucket[]): StationSeries['rain'] {
  const totals = new Map<number, number>();
  for (const bucket of buckets) {
    const mm = bucket.values[RAIN_SUM];
    if (mm === null || mm === undefined) continue;
    const start = window.queryFrom + bucket.index * window.bucketMs;
    const rainStart = Math.floor(start / window.rainBucketMs) * window.rainBucketMs;
    totals.set(rainStart, (totals.get(rainStart) ?? 0) + mm);
  }
  const starts = [...totals.keys()].sort((a, b) => a - b);
  return {
    bucketSeconds: seconds(window.rainBucketMs),
    time: starts.map(seconds),
    mm: starts.map((s) => roundReading('rainfall', totals.get(s)!)),
  };
}

const axis = (window: SeriesWindow) => Array.from({ length: window.count }, (_, i) => seconds(window.from + i * window.bucketMs));

/** Every quantity of one station over a range. */
export async function readStationSeries(source: WeatherSource, stationId: string, range: SeriesRange, now: number): Promise<StationSeries> {
  const window = seriesWindow(range, now);
  const buckets = await source.series(stationId, window.queryFrom, window.to, window.bucketMs, SERIES_QUANTITY_NAMES);
  const keys = SERIES_QUANTITY_NAMES.flatMap((quantity) => SERIES_QUANTITIES[quantity].map((a) => ({ key: `${quantity}_${a}`, quantity })));
  return {
    stationId,
    range,
    from: iso(window.from),
    to: iso(window.to),
    bucketSeconds: seconds(window.bucketMs),
    time: axis(window),
    columns: fillColumns(window, buckets, keys),
    units: Object.fromEntries(keys.map(({ key, quantity }) => [key, WEATHER_FIELD_TABLE[quantity].unit])),
    rain: rainTotals(window, buckets),
  };
}

/**
 * The page's station list: the stations that ever reported (at most maxStations), without those
 * silent longer than hideAfterDays, as the page itself lists them.
 */
export async function listedStations(source: WeatherSource, settings: WeatherPageSettings, now: number): Promise<string[]> {
  const listed: string[] = [];
  for (const id of await source.stationIds(settings.maxStations)) {
    const latest = await source.latest(id);
    if (latest && now - latest.ts <= settings.hideAfterDays * 86_400_000) listed.push(id);
  }
  return listed;
}

/** One quantity's main aggregate at each listed station, on one shared axis. */
export async function readComparedSeries(source: WeatherSource, stationIds: readonly string[], quantity: SeriesQuantity, range: SeriesRange, now: number): Promise<ComparedSeries> {
  const window = seriesWindow(range, now);
  const key = `${quantity}_${mainAggregate(quantity)}`;
  const stations: ComparedSeries['stations'] = [];
  for (const stationId of stationIds) {
    // No rain totals here, so the query starts at the window itself.
    const buckets = await source.series(stationId, window.from, window.to, window.bucketMs, [quantity]);
    const values = fillColumns({ ...window, queryFrom: window.from }, buckets, [{ key, quantity }])[key]!;
    stations.push({ stationId, values });
  }
  return {
    quantity,
    range,
    from: iso(window.from),
    to: iso(window.to),
    bucketSeconds: seconds(window.bucketMs),
    unit: WEATHER_FIELD_TABLE[quantity].unit,
    time: axis(window),
    stations,
  };
}

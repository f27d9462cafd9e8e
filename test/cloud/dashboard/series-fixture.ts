import type { WeatherRecord } from '../../../hardware/core/contract.ts';
import {
  comparedSeries,
  mainAggregate,
  SERIES_QUANTITIES,
  SERIES_QUANTITY_NAMES,
  SERIES_RANGES,
  stationSeries,
  type ComparedSeries,
  type SeriesQuantity,
  type SeriesRange,
  type StationSeries,
} from '../../../cloud/dashboard/series-contract.ts';

/**
 * A minimal, test-only stand-in for the series engineer's data routes: the contract's JSON computed in
 * memory from the records a test wrote, and parsed by the contract's own schemas, so the page is
 * tested against exactly the shapes the real routes must give. Plain arithmetic means (not the vector
 * mean for wind direction): the page only draws what it is given.
 */

type Aggregate = 'min' | 'mean' | 'max';

/** The range's window ending after `now`, aligned to its buckets, with the parts every series JSON shares. */
function window(range: SeriesRange, now: number, bucketMs: number) {
  const to = Math.ceil((now + 1) / bucketMs) * bucketMs;
  const from = to - SERIES_RANGES[range].spanMs;
  const time = Array.from({ length: Math.round((to - from) / bucketMs) }, (_, i) => (from + i * bucketMs) / 1000);
  return { from, to, time, head: { range, from: new Date(from).toISOString(), to: new Date(to).toISOString(), bucketSeconds: bucketMs / 1000, time } };
}

function aggregate(values: number[], how: Aggregate): number | null {
  if (values.length === 0) return null;
  if (how === 'min') return Math.min(...values);
  if (how === 'max') return Math.max(...values);
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Values of `field` per bucket of [from, to). */
function bucketed(records: WeatherRecord[], field: keyof WeatherRecord, from: number, to: number, bucketMs: number): number[][] {
  const buckets: number[][] = Array.from({ length: Math.round((to - from) / bucketMs) }, () => []);
  for (const r of records) {
    const v = r[field];
    if (r.ts < from || r.ts >= to || typeof v !== 'number') continue;
    buckets[Math.floor((r.ts - from) / bucketMs)]!.push(v);
  }
  return buckets;
}

const UNITS: Record<SeriesQuantity, string> = {
  ambient_temperature: '°C', ground_temperature: '°C', humidity: '%', air_pressure: 'hPa', wind_speed: 'km/h', wind_gust_speed: 'km/h', wind_direction: '°',
};

export function seriesFromRecords(stationId: string, records: WeatherRecord[], range: SeriesRange, now: number): StationSeries {
  const { bucketMs, rainBucketMs } = SERIES_RANGES[range];
  const { from, to, head } = window(range, now, bucketMs);
  const columns: Record<string, Array<number | null>> = {};
  const units: Record<string, string> = {};
  for (const q of SERIES_QUANTITY_NAMES) {
    const per = bucketed(records, q, from, to, bucketMs);
    for (const how of SERIES_QUANTITIES[q] as readonly Aggregate[]) {
      columns[`${q}_${how}`] = per.map((values) => aggregate(values, how));
      units[`${q}_${how}`] = UNITS[q];
    }
  }
  const rainWindow = window(range, now, rainBucketMs);
  const rain = bucketed(records, 'rainfall', rainWindow.from, rainWindow.to, rainBucketMs)
    .map((values, i) => ({ t: (rainWindow.from + i * rainBucketMs) / 1000, mm: aggregate(values, 'mean') === null ? null : values.reduce((a, b) => a + b, 0) }))
    .filter((b) => b.mm !== null);
  return stationSeries.parse({
    stationId,
    ...head,
    columns,
    units,
    rain: { bucketSeconds: rainBucketMs / 1000, time: rain.map((b) => b.t), mm: rain.map((b) => b.mm) },
  });
}

export function comparedFromRecords(stations: Record<string, WeatherRecord[]>, quantity: SeriesQuantity, range: SeriesRange, now: number): ComparedSeries {
  const { bucketMs } = SERIES_RANGES[range];
  const { from, to, head } = window(range, now, bucketMs);
  const how = mainAggregate(quantity) as Aggregate;
  return comparedSeries.parse({
    quantity,
    ...head,
    unit: UNITS[quantity],
    stations: Object.entries(stations).map(([stationId, records]) => ({
      stationId,
      values: bucketed(records, quantity, from, to, bucketMs).map((values) => aggregate(values, how)),
    })),
  });
}

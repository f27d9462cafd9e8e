import { z } from 'zod';
import type { WEATHER_FIELD_TABLE } from '../../hardware/core/contract.ts';
import { thingName } from '../../hardware/core/contract.ts';

/**
 * The weather page's data contract: which ranges a chart can show, how finely each is downsampled, and
 * the JSON the page's scripts (and anyone else) read. One module, so the routes that write it, the
 * scripts that draw it and the tests that check it cannot drift apart.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * Each range with its bucket sizes. Buckets are aligned to UTC multiples of their size, so a chart
 * refreshed a minute later shows the same buckets. Points per series stay at or under 2,016.
 */
export const SERIES_RANGES = {
  '24h': { label: '24 hours', spanMs: DAY_MS, bucketMs: 15 * 60_000, rainBucketMs: HOUR_MS },
  '7d': { label: '7 days', spanMs: 7 * DAY_MS, bucketMs: HOUR_MS, rainBucketMs: HOUR_MS },
  '30d': { label: '30 days', spanMs: 30 * DAY_MS, bucketMs: 3 * HOUR_MS, rainBucketMs: DAY_MS },
  '1y': { label: '1 year', spanMs: 365 * DAY_MS, bucketMs: DAY_MS / 4, rainBucketMs: DAY_MS },
} as const satisfies Record<string, { label: string; spanMs: number; bucketMs: number; rainBucketMs: number }>;

export type SeriesRange = keyof typeof SERIES_RANGES;
export const SERIES_RANGE_NAMES = Object.keys(SERIES_RANGES) as SeriesRange[];
export const DEFAULT_SERIES_RANGE: SeriesRange = '24h';
export const seriesRange = z.enum(SERIES_RANGE_NAMES as [SeriesRange, ...SeriesRange[]], {
  error: `range is one of ${SERIES_RANGE_NAMES.join(', ')}`,
});

/** The quantities a chart can draw, each with the aggregates its series carry. */
export const SERIES_QUANTITIES = {
  ambient_temperature: ['min', 'mean', 'max'],
  ground_temperature: ['min', 'mean', 'max'],
  humidity: ['mean'],
  air_pressure: ['mean'],
  wind_speed: ['mean'],
  wind_gust_speed: ['max'],
  /** Vector mean of the direction the wind came from, degrees; null in a calm bucket. */
  wind_direction: ['mean'],
} as const satisfies Partial<Record<keyof typeof WEATHER_FIELD_TABLE, readonly string[]>>;

export type SeriesQuantity = keyof typeof SERIES_QUANTITIES;
export const SERIES_QUANTITY_NAMES = Object.keys(SERIES_QUANTITIES) as SeriesQuantity[];
export const seriesQuantity = z.enum(SERIES_QUANTITY_NAMES as [SeriesQuantity, ...SeriesQuantity[]], {
  error: `quantity is one of ${SERIES_QUANTITY_NAMES.join(', ')}`,
});

/** One column of a chart: a value per bucket, null where the bucket has no reading. */
const column = z.array(z.number().nullable());
/** Bucket starts, epoch seconds UTC (what uPlot's x axis takes). */
const seconds = z.array(z.number().int());

/** GET /public/stations/:stationId/series.json?range=… */
export const stationSeries = z.object({
  stationId: thingName,
  range: seriesRange,
  /** The window, ISO 8601 UTC: [from, to). */
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  bucketSeconds: z.number().int().positive(),
  time: seconds,
  /** Keyed `<quantity>_<aggregate>`, e.g. ambient_temperature_min; each as long as `time`. */
  columns: z.record(z.string(), column),
  /** Unit of each column, e.g. { ambient_temperature_min: '°C' }. */
  units: z.record(z.string(), z.string()),
  /** Rain totals per hour (24h, 7d) or per day (30d, 1y), mm; only buckets with a rain figure. */
  rain: z.object({ bucketSeconds: z.number().int().positive(), time: seconds, mm: column }),
});
export type StationSeries = z.output<typeof stationSeries>;

/** GET /public/compare.json?quantity=…&range=…: one quantity across stations, on one shared time axis. */
export const comparedSeries = z.object({
  quantity: seriesQuantity,
  range: seriesRange,
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  bucketSeconds: z.number().int().positive(),
  unit: z.string(),
  time: seconds,
  /** The quantity's main aggregate (mean, or max for gusts) per station, each as long as `time`. */
  stations: z.array(z.object({ stationId: thingName, values: column })),
});
export type ComparedSeries = z.output<typeof comparedSeries>;

/** The main aggregate of a quantity, the one drawn when only one line fits. */
export function mainAggregate(quantity: SeriesQuantity): string {
  const aggregates: readonly string[] = SERIES_QUANTITIES[quantity];
  return aggregates.includes('mean') ? 'mean' : aggregates[0]!;
}

/** Paths, defined once for routes, scripts and tests. */
export const SERIES_PATHS = {
  station: (stationId: string) => `/public/stations/${encodeURIComponent(stationId)}/series.json`,
  compare: '/public/compare.json',
  /** Raw records of a window as CSV or JSON: ?from=ISO&to=ISO (or ?range=…). */
  download: (stationId: string, format: 'csv' | 'json') => `/public/stations/${encodeURIComponent(stationId)}/records.${format}`,
} as const;

import { WEATHER_FIELDS, type WeatherField } from '../../hardware/core/contract.ts';
import type { CloudStore, QueryRows } from '../storage/cloud-store.ts';
import type { TranslatedQuery } from '../query/query-types.ts';
import type { SeriesQuantity } from './series-contract.ts';
import {
  bucketsSql, columnsSql, countSql, latestSql, recordsSql, seriesAggregates, seriesSql, stationIdsSql, STATION_COLUMN, TIME_COLUMN, type PageView,
} from './weather-sql.ts';

/**
 * Where the weather page reads station data: the weather datastore, read-only. StoreWeatherSource reads
 * it through the engine's CloudStore (queryRows, in the store's SQL dialect: weather-sql.ts), so the
 * page works on whichever backend the engine runs, through the datastore's view: it sees exactly the
 * attributes dataset SQL sees and can never change them.
 */

/** Fields of a weather record the page shows (design.md §3): all but air quality, which the page has no place for. */
export type ReadingField = Exclude<WeatherField, 'air_quality'>;
export const READING_FIELDS: readonly ReadingField[] = WEATHER_FIELDS.filter((f): f is ReadingField => f !== 'air_quality');

export interface LatestReading {
  stationId: string;
  /** Epoch ms of the record. */
  ts: number;
  values: Record<ReadingField, number | null>;
  /** Per-sensor status as the station sent it (`ok`, `missing`, `fault: ...`). */
  sensors: Record<string, string>;
}

/** Aggregates of one time slice [from + index·bucketMs, from + (index+1)·bucketMs). Null: no value in the slice. */
export interface ReadingBucket {
  index: number;
  count: number;
  airMin: number | null;
  airMean: number | null;
  groundMin: number | null;
  groundMean: number | null;
  /** Sum of `rainfall` (mm since the previous record). */
  rain: number | null;
  windMean: number | null;
  gustMax: number | null;
}

/** One bucket of a chart's series: raw (unrounded) aggregates keyed `<quantity>_<aggregate>`, and `rainfall_sum`. */
export interface SeriesBucket {
  /** The slice [from + index·bucketMs, from + (index+1)·bucketMs). */
  index: number;
  values: Record<string, number | null>;
}

/** One raw record of a download, as the datastore holds it. */
export interface StoredRecord {
  ts: number;
  values: Record<WeatherField, number | null>;
  sensors: Record<string, string>;
}

/** One record's readings, as the alert engine walks them in time order. */
export interface TimedReading {
  /** Epoch ms of the record. */
  ts: number;
  values: Record<ReadingField, number | null>;
}

export interface WeatherSource {
  /** Ids of the stations that ever reported, in order, at most `limit`. */
  stationIds(limit: number): Promise<string[]>;
  latest(stationId: string): Promise<LatestReading | undefined>;
  /** Buckets that hold at least one record with from <= ts < to; empty buckets are left out. */
  buckets(stationId: string, from: number, to: number, bucketMs: number): Promise<ReadingBucket[]>;
  /** The chart aggregates of `quantities` (plus the rain sum) per bucket with a record in [from, to); empty buckets left out. */
  series(stationId: string, from: number, to: number, bucketMs: number, quantities: readonly SeriesQuantity[]): Promise<SeriesBucket[]>;
  /** How many records a station has in [from, to). */
  countRecords(stationId: string, from: number, to: number): Promise<number>;
  /** The station's records in [from, to), oldest first, read a slice at a time so a long download holds no lock. */
  records(stationId: string, from: number, to: number): AsyncIterable<StoredRecord>;
  /** Up to `limit` records with ts > `after`, oldest first (the alert engine resumes from its cursor). */
  recordsSince(stationId: string, after: number, limit: number): Promise<TimedReading[]>;
  close(): Promise<void>;
}

/** The SQLite backend's file of datastores (cloud/storage/sqlite-store.ts); tests look inside it. */
export const DATASTORES_FILE = 'datastores.sqlite';
const SENSORS_COLUMN = 'sensors';

export interface StoreWeatherSourceOptions {
  /** The engine's store (AnalyticsEngine.store); its dialect writes the page's SQL. */
  store: Pick<CloudStore, 'queryRows' | 'sqlDialect'>;
  /** Default weather_datastore. */
  datastoreName?: string;
  /** Time limit of one page query. Default PAGE_QUERY_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** A year's series takes about 0.1 s over 10 million rows (test/bench/weather-series.bench.ts); this only stops a runaway. */
export const PAGE_QUERY_TIMEOUT_MS = 20_000;
/** Rows one page query may return: a year at 6 h is 1,460 buckets, a download slice a day of records at one a second. */
const PAGE_MAX_ROWS = 100_000;
/** Read slices of a download; a day is 288 records at the usual 5 minutes, 17,280 at the demo's 5 s. */
const RECORD_SLICE_MS = 86_400_000;
/** Every column the page reads: once the view has them all, its column list is kept instead of read per call. */
const PAGE_COLUMNS = [STATION_COLUMN, TIME_COLUMN, SENSORS_COLUMN, ...WEATHER_FIELDS];

function toNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** The sensors map as stored: JSON text (SQLite) or an object already (PostgreSQL's jsonb). */
function parseSensors(value: unknown): Record<string, string> {
  let parsed: unknown = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      return {};
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
  return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Rows as objects keyed by column name. */
function objects(result: QueryRows): Record<string, unknown>[] {
  return result.rows.map((row) => Object.fromEntries(result.columns.map((c, i) => [c, row[i]])));
}

function readings<F extends string>(fields: readonly F[], row: Record<string, unknown>): Record<F, number | null> {
  return Object.fromEntries(fields.map((f) => [f, toNumber(row[f])])) as Record<F, number | null>;
}

export class StoreWeatherSource implements WeatherSource {
  private readonly store: StoreWeatherSourceOptions['store'];
  private readonly view: string;
  private readonly timeoutMs: number;
  /** The view's columns once it has every column the page reads (it can only gain more). */
  private complete: PageView | undefined;

  constructor(options: StoreWeatherSourceOptions) {
    this.store = options.store;
    this.view = options.datastoreName ?? 'weather_datastore';
    this.timeoutMs = options.timeoutMs ?? PAGE_QUERY_TIMEOUT_MS;
  }

  /** The view and its columns; undefined while the datastore does not exist or has no station and time yet. Read per call until complete: columns appear as attributes do. */
  private async ready(): Promise<PageView | undefined> {
    if (this.complete) return this.complete;
    const dialect = this.store.sqlDialect;
    let result: QueryRows;
    try {
      result = await this.store.queryRows(columnsSql({ dialect, view: this.view }), { timeoutMs: this.timeoutMs, maxRows: 1 });
    } catch {
      return undefined;
    }
    const view: PageView = { dialect, view: this.view, columns: new Set(result.columns.map((c) => c.toLowerCase())) };
    if (!view.columns.has(STATION_COLUMN) || !view.columns.has(TIME_COLUMN)) return undefined;
    if (PAGE_COLUMNS.every((c) => view.columns.has(c))) this.complete = view;
    return view;
  }

  /** Runs a page query; a failure forgets the kept columns (the datastore may have been made anew). */
  private async rows(sql: TranslatedQuery): Promise<Record<string, unknown>[]> {
    try {
      return objects(await this.store.queryRows(sql, { timeoutMs: this.timeoutMs, maxRows: PAGE_MAX_ROWS }));
    } catch (error) {
      this.complete = undefined;
      throw error;
    }
  }

  async stationIds(limit: number): Promise<string[]> {
    const view = await this.ready();
    if (!view) return [];
    return (await this.rows(stationIdsSql(view, limit))).map((r) => String(r.id));
  }

  async latest(stationId: string): Promise<LatestReading | undefined> {
    const view = await this.ready();
    if (!view) return undefined;
    const [row] = await this.rows(latestSql(view, stationId, [...READING_FIELDS, SENSORS_COLUMN]));
    const ts = toNumber(row?.ts);
    if (!row || ts === null) return undefined;
    return { stationId, ts, values: readings(READING_FIELDS, row), sensors: parseSensors(row[SENSORS_COLUMN]) };
  }

  async buckets(stationId: string, from: number, to: number, bucketMs: number): Promise<ReadingBucket[]> {
    const view = await this.ready();
    if (!view) return [];
    const rows = await this.rows(bucketsSql(view, stationId, from, to, bucketMs));
    return rows.map((r) => ({
      index: Number(r.idx),
      count: Number(r.count),
      airMin: toNumber(r.air_min),
      airMean: toNumber(r.air_mean),
      groundMin: toNumber(r.ground_min),
      groundMean: toNumber(r.ground_mean),
      rain: toNumber(r.rain),
      windMean: toNumber(r.wind_mean),
      gustMax: toNumber(r.gust_max),
    }));
  }

  async series(stationId: string, from: number, to: number, bucketMs: number, quantities: readonly SeriesQuantity[]): Promise<SeriesBucket[]> {
    const view = await this.ready();
    if (!view) return [];
    const keys = seriesAggregates(quantities);
    const rows = await this.rows(seriesSql(view, stationId, from, to, bucketMs, quantities));
    return rows.map((r) => ({ index: Number(r.idx), values: readings(keys, r) }));
  }

  async countRecords(stationId: string, from: number, to: number): Promise<number> {
    const view = await this.ready();
    if (!view) return 0;
    const [row] = await this.rows(countSql(view, stationId, from, to));
    // PostgreSQL's count is a bigint, which its driver gives as text.
    return Number(row?.n ?? 0);
  }

  async *records(stationId: string, from: number, to: number): AsyncIterable<StoredRecord> {
    const view = await this.ready();
    if (!view) return;
    for (let start = from; start < to; start += RECORD_SLICE_MS) {
      const range = { from: start, to: Math.min(to, start + RECORD_SLICE_MS) };
      for (const row of await this.rows(recordsSql(view, stationId, range, [...WEATHER_FIELDS, SENSORS_COLUMN]))) {
        const ts = toNumber(row.ts);
        if (ts === null) continue;
        yield { ts, values: readings(WEATHER_FIELDS, row), sensors: parseSensors(row[SENSORS_COLUMN]) };
      }
    }
  }

  async recordsSince(stationId: string, after: number, limit: number): Promise<TimedReading[]> {
    const view = await this.ready();
    if (!view) return [];
    const rows = await this.rows(recordsSql(view, stationId, { after, limit }, READING_FIELDS));
    return rows.flatMap((row) => {
      const ts = toNumber(row.ts);
      return ts === null ? [] : [{ ts, values: readings(READING_FIELDS, row) }];
    });
  }

  /** The store is the engine's, which closes it. */
  async close(): Promise<void> {
    this.complete = undefined;
  }
}

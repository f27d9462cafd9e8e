import Database from 'better-sqlite3';
import { join } from 'node:path';
import { WEATHER_FIELDS, type WeatherField } from '../../hardware/core/contract.ts';
import { sqlIdentifier } from '../query/sql-tokenizer.ts';
import { SERIES_QUANTITIES, type SeriesQuantity } from './series-contract.ts';

/**
 * Where the weather page reads station data: the weather datastore, read-only. The interface keeps the
 * page independent of the storage backend; SqliteWeatherSource reads the engine's datastores.sqlite on
 * its own read-only connection (WAL lets it read while the engine writes), through the datastore's view,
 * so it sees exactly the attributes dataset SQL sees and can never change them.
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

/** The SQLite backend's file of datastores (cloud/storage/sqlite-store.ts). */
export const DATASTORES_FILE = 'datastores.sqlite';
const STATION_COLUMN = 'device_id';
const TIME_COLUMN = 'ts';
const SENSORS_COLUMN = 'sensors';

export interface SqliteWeatherSourceOptions {
  /** The engine's data folder (cloud.dataDir). */
  dataDir: string;
  /** Default weather_datastore. */
  datastoreName?: string;
}

function toNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function parseSensors(value: unknown): Record<string, string> {
  if (typeof value !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(value);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'));
  } catch {
    return {};
  }
}

/** Aggregates the series SQL computes per bucket, keyed as the contract's columns. */
export function seriesAggregates(quantities: readonly SeriesQuantity[]): string[] {
  return [...quantities.flatMap((q) => SERIES_QUANTITIES[q].map((a) => `${q}_${a}`)), RAIN_SUM];
}
export const RAIN_SUM = 'rainfall_sum';
/** Read slices of a download; a day is 288 records at the usual 5 minutes, 17,280 at the demo's 5 s. */
const RECORD_SLICE_MS = 86_400_000;

/**
 * The SQL for one station's series over the weather view: one pass over the (device_id, ts) index.
 * Wind direction is a vector mean of unit vectors (SQLite's math functions, which better-sqlite3
 * builds in: SQLITE_ENABLE_MATH_FUNCTIONS), so 350° and 10° average to 0°, not 180°. A vane at rest
 * points anywhere, so records with no wind add a zero vector; a bucket whose vectors sum to nothing
 * (all calm, or directions that cancel) has no direction. The sums are taken once, in the inner
 * query, and turned into an angle per bucket outside it. Exported so the benchmark runs this SQL raw.
 */
export function seriesSql(view: string, column: (name: string) => string, quantities: readonly SeriesQuantity[]): string {
  const inner: string[] = ['CAST((ts - @from) / @bucket AS INTEGER) AS idx'];
  const outer: string[] = ['idx'];
  for (const q of quantities) {
    const c = column(q);
    for (const aggregate of SERIES_QUANTITIES[q]) {
      const key = sqlIdentifier(`${q}_${aggregate}`);
      if (q !== 'wind_direction') {
        inner.push(`${aggregate === 'mean' ? 'avg' : aggregate}(${c}) AS ${key}`);
        outer.push(key);
        continue;
      }
      const moving = `(${column('wind_speed')} IS NOT 0)`;
      inner.push(`sum(sin(radians(${c})) * ${moving}) AS dir_s`, `sum(cos(radians(${c})) * ${moving}) AS dir_c`);
      outer.push(`CASE WHEN abs(dir_s) + abs(dir_c) > 1e-9 THEN mod(degrees(atan2(dir_s, dir_c)) + 360, 360) END AS ${key}`);
    }
  }
  inner.push(`sum(${column('rainfall')}) AS ${RAIN_SUM}`);
  outer.push(RAIN_SUM);
  const buckets = `SELECT ${inner.join(', ')} FROM ${sqlIdentifier(view)} WHERE device_id = @station AND ts >= @from AND ts < @to GROUP BY idx`;
  return `SELECT ${outer.join(', ')} FROM (${buckets}) ORDER BY idx`;
}

export class SqliteWeatherSource implements WeatherSource {
  private db: Database.Database | undefined;
  private readonly file: string;
  private readonly view: string;

  constructor(options: SqliteWeatherSourceOptions) {
    this.file = join(options.dataDir, DATASTORES_FILE);
    this.view = options.datastoreName ?? 'weather_datastore';
  }

  /** The connection, opened on first use: the engine creates the file when it starts, maybe after us. */
  private connection(): Database.Database | undefined {
    if (this.db) return this.db;
    try {
      this.db = new Database(this.file, { readonly: true, fileMustExist: true });
    } catch {
      return undefined;
    }
    return this.db;
  }

  /** The view's columns, lower-cased; empty when the datastore does not exist (yet). Read per call: columns appear as attributes do. */
  private columns(db: Database.Database): Set<string> {
    const rows = db.prepare('SELECT name FROM pragma_table_info(?)').all(this.view) as { name: string }[];
    return new Set(rows.map((r) => r.name.toLowerCase()));
  }

  /** `col` when the view has it, else NULL, so a datastore that never saw a ground sensor still answers. */
  private column(columns: Set<string>, name: string): string {
    return columns.has(name) ? sqlIdentifier(name) : 'NULL';
  }

  private ready(): { db: Database.Database; columns: Set<string> } | undefined {
    const db = this.connection();
    if (!db) return undefined;
    const columns = this.columns(db);
    if (!columns.has(STATION_COLUMN) || !columns.has(TIME_COLUMN)) return undefined;
    return { db, columns };
  }

  async stationIds(limit: number): Promise<string[]> {
    const open = this.ready();
    if (!open) return [];
    // A skip scan over the (device_id, ts) index: one seek per station instead of reading every row.
    const v = sqlIdentifier(this.view);
    const rows = open.db
      .prepare(
        `WITH RECURSIVE s(id) AS (
           SELECT min(device_id) FROM ${v} WHERE device_id IS NOT NULL
           UNION ALL SELECT (SELECT min(device_id) FROM ${v} WHERE device_id > s.id) FROM s WHERE s.id IS NOT NULL
         ) SELECT id FROM s WHERE id IS NOT NULL LIMIT ?`,
      )
      .all(limit) as { id: unknown }[];
    return rows.map((r) => String(r.id));
  }

  async latest(stationId: string): Promise<LatestReading | undefined> {
    const open = this.ready();
    if (!open) return undefined;
    const selected = [...READING_FIELDS, SENSORS_COLUMN].map((f) => `${this.column(open.columns, f)} AS ${sqlIdentifier(f)}`);
    const row = open.db
      .prepare(`SELECT ts, ${selected.join(', ')} FROM ${sqlIdentifier(this.view)} WHERE device_id = ? AND ts IS NOT NULL ORDER BY ts DESC LIMIT 1`)
      .get(stationId) as Record<string, unknown> | undefined;
    const ts = toNumber(row?.ts);
    if (!row || ts === null) return undefined;
    const values = Object.fromEntries(READING_FIELDS.map((f) => [f, toNumber(row[f])])) as Record<ReadingField, number | null>;
    return { stationId, ts, values, sensors: parseSensors(row[SENSORS_COLUMN]) };
  }

  async buckets(stationId: string, from: number, to: number, bucketMs: number): Promise<ReadingBucket[]> {
    const open = this.ready();
    if (!open) return [];
    const c = (name: string) => this.column(open.columns, name);
    const air = c('ambient_temperature');
    const ground = c('ground_temperature');
    const rows = open.db
      .prepare(
        `SELECT CAST((ts - @from) / @bucket AS INTEGER) AS idx, count(*) AS count,
           min(${air}) AS airMin, avg(${air}) AS airMean, min(${ground}) AS groundMin, avg(${ground}) AS groundMean,
           sum(${c('rainfall')}) AS rain, avg(${c('wind_speed')}) AS windMean, max(${c('wind_gust_speed')}) AS gustMax
         FROM ${sqlIdentifier(this.view)} WHERE device_id = @station AND ts >= @from AND ts < @to
         GROUP BY idx ORDER BY idx`,
      )
      .all({ station: stationId, from, to, bucket: bucketMs }) as Record<string, unknown>[];
    return rows.map((r) => ({
      index: Number(r.idx),
      count: Number(r.count),
      airMin: toNumber(r.airMin),
      airMean: toNumber(r.airMean),
      groundMin: toNumber(r.groundMin),
      groundMean: toNumber(r.groundMean),
      rain: toNumber(r.rain),
      windMean: toNumber(r.windMean),
      gustMax: toNumber(r.gustMax),
    }));
  }

  async series(stationId: string, from: number, to: number, bucketMs: number, quantities: readonly SeriesQuantity[]): Promise<SeriesBucket[]> {
    const open = this.ready();
    if (!open) return [];
    const keys = seriesAggregates(quantities);
    const rows = open.db
      .prepare(seriesSql(this.view, (name) => this.column(open.columns, name), quantities))
      .all({ station: stationId, from, to, bucket: bucketMs }) as Record<string, unknown>[];
    return rows.map((r) => ({ index: Number(r.idx), values: Object.fromEntries(keys.map((k) => [k, toNumber(r[k])])) }));
  }

  async countRecords(stationId: string, from: number, to: number): Promise<number> {
    const open = this.ready();
    if (!open) return 0;
    const row = open.db.prepare(`SELECT count(*) AS n FROM ${sqlIdentifier(this.view)} WHERE device_id = ? AND ts >= ? AND ts < ?`).get(stationId, from, to) as { n: number };
    return row.n;
  }

  async *records(stationId: string, from: number, to: number): AsyncIterable<StoredRecord> {
    const open = this.ready();
    if (!open) return;
    const selected = [...WEATHER_FIELDS, SENSORS_COLUMN].map((f) => `${this.column(open.columns, f)} AS ${sqlIdentifier(f)}`);
    const slice = open.db.prepare(`SELECT ts, ${selected.join(', ')} FROM ${sqlIdentifier(this.view)} WHERE device_id = ? AND ts >= ? AND ts < ? ORDER BY ts`);
    for (let start = from; start < to; start += RECORD_SLICE_MS) {
      const rows = slice.all(stationId, start, Math.min(to, start + RECORD_SLICE_MS)) as Record<string, unknown>[];
      for (const row of rows) {
        const ts = toNumber(row.ts);
        if (ts === null) continue;
        const values = Object.fromEntries(WEATHER_FIELDS.map((f) => [f, toNumber(row[f])])) as Record<WeatherField, number | null>;
        yield { ts, values, sensors: parseSensors(row[SENSORS_COLUMN]) };
      }
    }
  }

  async recordsSince(stationId: string, after: number, limit: number): Promise<TimedReading[]> {
    const open = this.ready();
    if (!open) return [];
    const selected = READING_FIELDS.map((f) => `${this.column(open.columns, f)} AS ${sqlIdentifier(f)}`);
    const rows = open.db
      .prepare(`SELECT ts, ${selected.join(', ')} FROM ${sqlIdentifier(this.view)} WHERE device_id = ? AND ts > ? ORDER BY ts LIMIT ?`)
      .all(stationId, after, limit) as Record<string, unknown>[];
    return rows.flatMap((row) => {
      const ts = toNumber(row.ts);
      if (ts === null) return [];
      return [{ ts, values: Object.fromEntries(READING_FIELDS.map((f) => [f, toNumber(row[f])])) as Record<ReadingField, number | null> }];
    });
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }
}

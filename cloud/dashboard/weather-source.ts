import Database from 'better-sqlite3';
import { join } from 'node:path';
import { WEATHER_FIELDS, type WeatherField } from '../../hardware/core/contract.ts';
import { sqlIdentifier } from '../query/sql-tokenizer.ts';

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

import type { TranslatedQuery } from '../query/query-types.ts';
import type { Dialect } from '../query/sql-dialect.ts';
import { SERIES_QUANTITIES, type SeriesQuantity } from './series-contract.ts';

/**
 * The weather page's SQL over the weather datastore's view, written for any backend: every function
 * call and every spelling that differs between backends comes from the store's Dialect (the one
 * dataset SQL is written with), the rest is SQL both SQLite and PostgreSQL read alike. Values are
 * written into the text as literals by the dialect, not bound, since backends number parameters
 * differently; station ids are quoted by dialect.string and numbers are checked finite integers.
 */

export const STATION_COLUMN = 'device_id';
export const TIME_COLUMN = 'ts';
export const RAIN_SUM = 'rainfall_sum';

/** A view and how to name its columns: a column the view lacks reads as NULL, so a datastore that never saw a ground sensor still answers. */
export interface PageView {
  dialect: Dialect;
  view: string;
  /** Lower-cased names of the view's columns. */
  columns: ReadonlySet<string>;
}

const query = (view: PageView, sql: string): TranslatedQuery => ({ sql, params: [], datastores: [view.view] });

/** A function of the dialect's allowlist (sql-functions.ts), with translated arguments. */
function call(dialect: Dialect, name: string, ...sql: string[]): string {
  return dialect.call(name, { sql, literal: sql.map(() => undefined), epoch: sql.map(() => undefined) });
}

/** A time, bucket size or limit in the SQL text: only finite numbers reach it. */
function integer(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`the weather page asked for ${value}, which is not a number of milliseconds`);
  return String(value);
}

export function column(view: PageView, name: string): string {
  return view.columns.has(name) ? view.dialect.identifier(name) : 'NULL';
}

/** `device_id = <station> AND ts >= from AND ts < to`, the (device_id, ts) index's range. */
function stationRange(view: PageView, stationId: string, from: number, to: number): string {
  return `device_id = ${view.dialect.string(stationId)} AND ts >= ${integer(from)} AND ts < ${integer(to)}`;
}

/** The bucket of a record: floor, not CAST, since PostgreSQL's CAST rounds where SQLite's truncates (ts >= from, so floor is truncation). */
function bucketIndex(view: PageView, from: number, bucketMs: number): string {
  return `${call(view.dialect, 'floor', `(ts - ${integer(from)}) / ${integer(bucketMs)}`)} AS idx`;
}

/** Any query returning the view's columns and no rows. */
export function columnsSql(view: Omit<PageView, 'columns'>): TranslatedQuery {
  return { sql: `SELECT * FROM ${view.dialect.identifier(view.view)} ${view.dialect.limit('0', undefined)}`, params: [], datastores: [view.view] };
}

/** The fields asked for, each AS its own name (NULL when the view lacks it). */
function selected(view: PageView, fields: readonly string[]): string {
  return fields.map((f) => `${column(view, f)} AS ${view.dialect.identifier(f)}`).join(', ');
}

/** Station ids in order: a skip scan over the (device_id, ts) index, one seek per station instead of reading every row. */
export function stationIdsSql(view: PageView, limit: number): TranslatedQuery {
  const v = view.dialect.identifier(view.view);
  return query(
    view,
    `WITH RECURSIVE s(id) AS (
       SELECT min(device_id) FROM ${v} WHERE device_id IS NOT NULL
       UNION ALL SELECT (SELECT min(device_id) FROM ${v} WHERE device_id > s.id) FROM s WHERE s.id IS NOT NULL
     ) SELECT id FROM s WHERE id IS NOT NULL ${view.dialect.limit(integer(limit), undefined)}`,
  );
}

export function latestSql(view: PageView, stationId: string, fields: readonly string[]): TranslatedQuery {
  return query(
    view,
    `SELECT ts, ${selected(view, fields)} FROM ${view.dialect.identifier(view.view)} WHERE device_id = ${view.dialect.string(stationId)} AND ts IS NOT NULL ORDER BY ts DESC ${view.dialect.limit('1', undefined)}`,
  );
}

export function bucketsSql(view: PageView, stationId: string, from: number, to: number, bucketMs: number): TranslatedQuery {
  const c = (name: string) => column(view, name);
  const air = c('ambient_temperature');
  const ground = c('ground_temperature');
  return query(
    view,
    `SELECT ${bucketIndex(view, from, bucketMs)}, count(*) AS count,
       min(${air}) AS air_min, avg(${air}) AS air_mean, min(${ground}) AS ground_min, avg(${ground}) AS ground_mean,
       sum(${c('rainfall')}) AS rain, avg(${c('wind_speed')}) AS wind_mean, max(${c('wind_gust_speed')}) AS gust_max
     FROM ${view.dialect.identifier(view.view)} WHERE ${stationRange(view, stationId, from, to)}
     GROUP BY idx ORDER BY idx`,
  );
}

/** Aggregates the series SQL computes per bucket, keyed as the contract's columns. */
export function seriesAggregates(quantities: readonly SeriesQuantity[]): string[] {
  return [...quantities.flatMap((q) => SERIES_QUANTITIES[q].map((a) => `${q}_${a}`)), RAIN_SUM];
}

/**
 * One station's series: one pass over the (device_id, ts) index. Wind direction is a vector mean of
 * unit vectors, so 350° and 10° average to 0°, not 180°. A vane at rest points anywhere, so records
 * with no wind add a zero vector; a bucket whose vectors sum to nothing (all calm, or directions that
 * cancel) has no direction. The sums are taken once, in the inner query, and turned into an angle per
 * bucket outside it. Exported so the benchmark runs this SQL raw.
 */
export function seriesSql(view: PageView, stationId: string, from: number, to: number, bucketMs: number, quantities: readonly SeriesQuantity[]): TranslatedQuery {
  const d = view.dialect;
  const inner: string[] = [bucketIndex(view, from, bucketMs)];
  const outer: string[] = ['idx'];
  for (const q of quantities) {
    const c = column(view, q);
    for (const aggregate of SERIES_QUANTITIES[q]) {
      const key = d.identifier(`${q}_${aggregate}`);
      if (q !== 'wind_direction') {
        inner.push(`${aggregate === 'mean' ? 'avg' : aggregate}(${c}) AS ${key}`);
        outer.push(key);
        continue;
      }
      // 1 or 0 as a number: PostgreSQL multiplies no booleans.
      const moving = `CASE WHEN ${d.distinctFrom(column(view, 'wind_speed'), '0', true)} THEN 1 ELSE 0 END`;
      const radians = call(d, 'radians', c);
      inner.push(`sum(${call(d, 'sin', radians)} * ${moving}) AS dir_s`, `sum(${call(d, 'cos', radians)} * ${moving}) AS dir_c`);
      const angle = call(d, 'mod', `${call(d, 'degrees', call(d, 'atan2', 'dir_s', 'dir_c'))} + 360`, '360');
      outer.push(`CASE WHEN ${call(d, 'abs', 'dir_s')} + ${call(d, 'abs', 'dir_c')} > 1e-9 THEN ${angle} END AS ${key}`);
    }
  }
  inner.push(`sum(${column(view, 'rainfall')}) AS ${RAIN_SUM}`);
  outer.push(RAIN_SUM);
  const buckets = `SELECT ${inner.join(', ')} FROM ${d.identifier(view.view)} WHERE ${stationRange(view, stationId, from, to)} GROUP BY idx`;
  return query(view, `SELECT ${outer.join(', ')} FROM (${buckets}) AS buckets ORDER BY idx`);
}

export function countSql(view: PageView, stationId: string, from: number, to: number): TranslatedQuery {
  return query(view, `SELECT count(*) AS n FROM ${view.dialect.identifier(view.view)} WHERE ${stationRange(view, stationId, from, to)}`);
}

/** Records in [from, to) oldest first; `after` instead of `from` makes the lower bound exclusive (the alert engine's cursor). */
export function recordsSql(view: PageView, stationId: string, range: { from?: number; after?: number; to?: number; limit?: number }, fields: readonly string[]): TranslatedQuery {
  const where = [`device_id = ${view.dialect.string(stationId)}`];
  if (range.from !== undefined) where.push(`ts >= ${integer(range.from)}`);
  if (range.after !== undefined) where.push(`ts > ${integer(range.after)}`);
  if (range.to !== undefined) where.push(`ts < ${integer(range.to)}`);
  const limit = range.limit === undefined ? '' : ` ${view.dialect.limit(integer(range.limit), undefined)}`;
  return query(view, `SELECT ts, ${selected(view, fields)} FROM ${view.dialect.identifier(view.view)} WHERE ${where.join(' AND ')} ORDER BY ts${limit}`);
}

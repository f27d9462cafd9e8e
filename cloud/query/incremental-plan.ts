import type { TranslatedQuery } from './query-types.ts';
import { translateParsedSql, type DatasetSqlOptions } from './dataset-sql.ts';
import { parseDatasetSql, type AstNode, type ParsedSql } from './sql-parse.ts';

/**
 * Which dataset queries the incremental refresh (cloud/engine/incremental-refresh.ts) may patch, read
 * from the checked syntax tree, and the same query restricted to a set of groups.
 *
 * Eligible: one SELECT over one datastore, GROUP BY exactly a device attribute and a
 * date_trunc('second'|'minute'|'hour'|'day', from_unixtime(<time> / 1000)) bucket, both in the SELECT
 * list, ORDER BY those two keys ascending (so the order is total over groups), every other output
 * column and HAVING built from aggregates and the keys only, no LIMIT, DISTINCT, set operation,
 * subquery, window or function whose result depends on the moment or on row order (now(), rand(),
 * arbitrary(), array_agg(), ...). WHERE may filter rows, as it applies to every row alike.
 * Anything else returns undefined and runs in full. A group (device, bucket) depends only on its own
 * rows, so recomputing a group with the full query restricted to its rows gives exactly its full-query
 * row: avg, min, max and sum are computed, never merged from partials.
 */

/** Bucket widths in ms: fixed-width units only, so a bucket is one ts range. */
export const BUCKET_MS = { second: 1_000, minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;
export type BucketUnit = keyof typeof BUCKET_MS;

export interface IncrementalPlan {
  parsed: ParsedSql;
  /** The datastore read, as written in FROM. */
  datastore: string;
  /** The device attribute and the time attribute (in ms), as written. */
  device: string;
  time: string;
  unit: BucketUnit;
  /** Output columns (0-based) of the device key and the bucket key. */
  deviceColumn: number;
  bucketColumn: number;
  /** The two key columns in ORDER BY order. */
  order: [number, number];
  /** The column_ref nodes of the two attributes, reused in the restriction. */
  deviceRef: AstNode;
  timeRef: AstNode;
}

/** A group to recompute: the device value and its bucket's start in epoch ms. */
export interface Group {
  device: string;
  start: number;
}

/** Results that depend on the moment, on chance or on the order rows are read in. */
const UNSTABLE = new Set([
  'now', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'rand', 'random', 'uuid', 'shuffle',
  'arbitrary', 'any_value', 'array_agg', 'map_agg', 'multimap_agg', 'group_concat', 'string_agg', 'listagg', 'histogram',
  'min_by', 'max_by', 'first_value', 'last_value', 'nth_value', 'approx_distinct', 'approx_percentile', 'approx_set', 'numeric_histogram',
]);

const obj = (v: unknown): AstNode | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as AstNode) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** Compares two subtrees; placeholders are numbered per occurrence, so they compare by what they stand for. */
const sameIn =
  (parsed: ParsedSql) =>
  (a: unknown, b: unknown): boolean => {
    const canon = (node: unknown) =>
      JSON.stringify(node, (_key, value: unknown) =>
        typeof value === 'string' && parsed.names.has(value) ? `name:${parsed.names.get(value)}` : typeof value === 'string' && parsed.strings.has(value) ? `text:${parsed.strings.get(value)}` : value,
      );
    return canon(a) === canon(b);
  };

/** The plan for an eligible query, else undefined (also for a query that does not parse: the full run reports that). */
export function planIncremental(sql: string): IncrementalPlan | undefined {
  let parsed: ParsedSql;
  try {
    parsed = parseDatasetSql(sql);
  } catch {
    return undefined;
  }
  return planOf(parsed);
}

function planOf(parsed: ParsedSql): IncrementalPlan | undefined {
  const ast = parsed.ast;
  const same = sameIn(parsed);
  const name = (v: unknown): string => {
    const text = String(obj(v) ? obj(v)!.value : v);
    return (parsed.names.get(text) ?? text).toLowerCase();
  };
  if (parsed.subqueries.size > 0 || ast.type !== 'select' || ast.with || ast._next || ast.set_op || ast.window) return undefined;
  if (obj(ast.distinct)?.type != null || list(obj(ast.limit)?.value).length > 0 || list(obj(ast._limit)?.value).length > 0) return undefined;
  if (Object.values(obj(ast.into) ?? {}).some((v) => v != null)) return undefined;
  const from = list(ast.from).map(obj);
  if (from.length !== 1 || typeof from[0]?.table !== 'string' || from[0].join != null || from[0].expr != null || from[0].db != null) return undefined;
  if (!stable(ast, name)) return undefined;

  const columns = list(ast.columns).map((c) => obj(obj(c)?.expr));
  const group = list(obj(ast.groupby)?.columns).map((g) => {
    const n = obj(g);
    return n?.type === 'number' ? columns[Number(n.value) - 1] : n;
  });
  if (group.length !== 2 || group.some((g) => g === undefined)) return undefined;
  const deviceKey = group.find((g) => g!.type === 'column_ref' && g!.column !== '*');
  const bucketKey = group.find((g) => g !== deviceKey);
  const bucket = bucketKey && bucketOf(bucketKey, parsed, name);
  if (!deviceKey || !bucket) return undefined;
  const deviceColumn = columns.findIndex((c) => same(c, deviceKey));
  const bucketColumn = columns.findIndex((c) => same(c, bucketKey));
  if (deviceColumn < 0 || bucketColumn < 0) return undefined;
  const keys = [deviceKey, bucketKey!];
  if (columns.some((c, i) => i !== deviceColumn && i !== bucketColumn && !groupLevel(c, keys, same))) return undefined;
  if (ast.having != null && !groupLevel(ast.having, keys, same)) return undefined;

  const aliases = list(ast.columns).map((c) => (obj(c)?.as == null ? undefined : name(obj(c)!.as)));
  const order = list(ast.orderby).slice(0, 2).map((item) => {
    const o = obj(item);
    if (!o || (o.type != null && String(o.type).toUpperCase() !== 'ASC') || o.nulls != null) return -1;
    const e = obj(o.expr);
    if (e?.type === 'number') return Number(e.value) - 1;
    const column = obj(e?.column);
    if (e?.type === 'column_ref' && e.table == null && column) {
      const alias = aliases.indexOf(name(column.expr));
      if (alias >= 0) return alias;
    }
    return columns.findIndex((c) => same(c, e));
  });
  if (order.length !== 2 || !order.includes(deviceColumn) || !order.includes(bucketColumn)) return undefined;
  const deviceName = obj(deviceKey.column) ? obj(deviceKey.column)!.expr : deviceKey.column;
  return {
    parsed, datastore: nameAsWritten(from[0]!.table, parsed), device: nameAsWritten(deviceName, parsed), time: bucket.time, unit: bucket.unit, deviceColumn, bucketColumn,
    order: order as [number, number], deviceRef: deviceKey, timeRef: bucket.ref,
  };
}

const nameAsWritten = (v: unknown, parsed: ParsedSql): string => {
  const text = String(obj(v) ? obj(v)!.value : v);
  return parsed.names.get(text) ?? text;
};

/** date_trunc('<unit>', from_unixtime(<column> / 1000)). */
function bucketOf(n: AstNode, parsed: ParsedSql, name: (v: unknown) => string): { unit: BucketUnit; time: string; ref: AstNode } | undefined {
  const callee = (f: AstNode | undefined) => (f?.type === 'function' ? name(list(obj(f.name)?.name)[0]) : undefined);
  if (callee(n) !== 'date_trunc') return undefined;
  const [unitNode, inner] = list(obj(n.args)?.value).map(obj);
  if (list(obj(n.args)?.value).length !== 2 || unitNode?.type !== 'single_quote_string' || callee(inner) !== 'from_unixtime') return undefined;
  const unit = parsed.strings.get(String(unitNode.value))?.toLowerCase();
  if (unit === undefined || !Object.hasOwn(BUCKET_MS, unit)) return undefined;
  const args = list(obj(inner!.args)?.value).map(obj);
  const division = args[0];
  if (args.length !== 1 || division?.type !== 'binary_expr' || division.operator !== '/' || division.parentheses) return undefined;
  const ref = obj(division.left);
  const by = obj(division.right);
  if (ref?.type !== 'column_ref' || ref.column === '*' || by?.type !== 'number' || Number(by.value) !== 1000) return undefined;
  const column = obj(ref.column) ? obj(ref.column)!.expr : ref.column;
  return { unit: unit as BucketUnit, time: nameAsWritten(column, parsed), ref };
}

/** True when the expression reads rows only through aggregates (or is one of the keys). */
function groupLevel(node: unknown, keys: readonly unknown[], same: (a: unknown, b: unknown) => boolean): boolean {
  if (Array.isArray(node)) return node.every((x) => groupLevel(x, keys, same));
  const n = obj(node);
  if (!n) return true;
  if (n.type === 'aggr_func' || keys.some((k) => same(k, n))) return true;
  if (n.type === 'column_ref' || n.type === 'star') return false;
  return Object.values(n).every((v) => groupLevel(v, keys, same));
}

/** No window (OVER) and no word from UNSTABLE anywhere in the tree. */
function stable(node: unknown, name: (v: unknown) => string): boolean {
  if (Array.isArray(node)) return node.every((x) => stable(x, name));
  if (typeof node === 'string') return !UNSTABLE.has(name(node));
  const n = obj(node);
  if (!n) return true;
  if (n.over != null) return false;
  return Object.values(n).every((v) => stable(v, name));
}

const binary = (operator: string, left: AstNode, right: AstNode): AstNode => ({ type: 'binary_expr', operator, left, right });
const number = (value: number): AstNode => ({ type: 'number', value });

/** ORs joined as a balanced tree, so thousands of groups do not nest thousands deep. */
function anyOf(terms: AstNode[]): AstNode {
  if (terms.length === 1) return terms[0]!;
  const half = Math.ceil(terms.length / 2);
  return binary('OR', anyOf(terms.slice(0, half)), anyOf(terms.slice(half)));
}

/**
 * The plan's query with `WHERE (<its WHERE>) AND (<the groups>)`, each group written as
 * `device = 'd' AND time >= a AND time < b` so the (device, time) index answers it (adjacent buckets
 * of one device share one range). Each range is widened by 1 ms on both sides: SQLite rounds
 * from_unixtime(ts / 1000) to the millisecond, so a fractional ts just below a boundary lands in the
 * next bucket. The rows of neighbouring groups this lets in make partial rows for those groups, which
 * the caller drops: it keeps only the groups it asked for.
 */
export function restrictToGroups(plan: IncrementalPlan, groups: readonly Group[], options: DatasetSqlOptions): TranslatedQuery {
  const width = BUCKET_MS[plan.unit];
  const parsed: ParsedSql = { ...plan.parsed, ast: structuredClone(plan.parsed.ast), strings: new Map(plan.parsed.strings) };
  const byDevice = new Map<string, number[]>();
  for (const g of groups) byDevice.set(g.device, [...(byDevice.get(g.device) ?? []), g.start]);
  const terms: AstNode[] = [];
  for (const [device, starts] of [...byDevice].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const key = `__hs${parsed.strings.size}`;
    parsed.strings.set(key, device);
    const sorted = [...new Set(starts)].sort((a, b) => a - b);
    for (let i = 0; i < sorted.length; i += 1) {
      const from = sorted[i]!;
      while (sorted[i + 1] === sorted[i]! + width) i += 1;
      const to = sorted[i]! + width;
      const range = binary('AND', binary('>=', structuredClone(plan.timeRef), number(from - 1)), binary('<', structuredClone(plan.timeRef), number(to + 1)));
      terms.push(binary('AND', binary('=', structuredClone(plan.deviceRef), { type: 'single_quote_string', value: key }), range));
    }
  }
  const restriction = anyOf(terms);
  parsed.ast.where = parsed.ast.where == null ? restriction : binary('AND', obj(parsed.ast.where)!, restriction);
  return translateParsedSql(parsed, options);
}

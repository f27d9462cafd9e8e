import type Database from 'better-sqlite3';

/**
 * Presto functions SQLite lacks, registered on every connection that prepares or runs dataset SQL
 * (the query process, and the store's checker that prepares queries at CreateDataset). They are only
 * reachable through the allowlist in cloud/query/sql-functions.ts, which maps Presto names to these.
 */

type Value = number | bigint | string | Buffer | null;

const text = (v: Value): string | null => (v === null ? null : typeof v === 'string' ? v : String(v));

/** Presto writes regular expressions in Java syntax; JavaScript reads the common subset the same way. */
function regex(pattern: Value, flags = ''): RegExp {
  if (typeof pattern !== 'string') throw new Error('the regular expression must be a string');
  return new RegExp(pattern, flags);
}

function url(v: Value): URL | null {
  const s = text(v);
  if (s === null) return null;
  try {
    return new URL(s);
  } catch {
    return null;
  }
}

function iso8601(v: Value, dateOnly: boolean): string | null {
  const s = text(v);
  if (s === null) return null;
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) throw new Error(`from_iso8601_${dateOnly ? 'date' : 'timestamp'}: "${s}" is not an ISO 8601 ${dateOnly ? 'date' : 'timestamp'}`);
  const iso = new Date(ms).toISOString();
  return dateOnly ? iso.slice(0, 10) : iso.replace('T', ' ').replace('Z', '');
}

function pad(left: boolean) {
  return (s: Value, size: Value, fill: Value): string | null => {
    const str = text(s);
    const with_ = text(fill);
    if (str === null || with_ === null || size === null) return null;
    const n = Number(size);
    if (n < str.length) return str.slice(0, n);
    if (with_ === '') throw new Error('the padding string must not be empty');
    return left ? str.padStart(n, with_) : str.padEnd(n, with_);
  };
}

/** Keeps the value of `x` at the row where `by` is largest (or smallest), as max_by / min_by. */
function byAggregate(keepLarger: boolean): Aggregate<{ x: Value; by: Value }> {
  return {
    start: () => ({ x: null as Value, by: null as Value }),
    step: (acc: { x: Value; by: Value }, x: Value, by: Value) => {
      if (by !== null && (acc.by === null || (keepLarger ? by > acc.by : by < acc.by))) return { x, by };
      return acc;
    },
    result: (acc) => acc.x,
  };
}

interface Aggregate<T> {
  start: () => T;
  step: (acc: T, ...args: Value[]) => T;
  result: (acc: T) => Value;
}

/** better-sqlite3's types give step() one argument of the accumulator's type; SQLite passes each SQL argument. */
function aggregate<T>(db: Database.Database, name: string, spec: Aggregate<T>): void {
  db.aggregate(name, spec as unknown as Parameters<Database.Database['aggregate']>[1]);
}

export function registerQueryFunctions(db: Database.Database): void {
  // approx_percentile is exact here: the sorted value at position round(p * (n - 1)), one of the data's
  // own values as Presto's is; Presto's is an estimate from a digest, so the two can differ slightly.
  aggregate(db, 'approx_percentile', {
    start: () => ({ values: [] as number[], p: 0 }),
    step: (acc: { values: number[]; p: number }, x: Value, p: Value) => {
      const share = Number(p);
      if (p === null || !(share >= 0 && share <= 1)) throw new Error('approx_percentile(x, p) takes p between 0 and 1');
      acc.p = share;
      if (x !== null && !Number.isNaN(Number(x))) acc.values.push(Number(x));
      return acc;
    },
    result: ({ values, p }: { values: number[]; p: number }) => {
      if (values.length === 0) return null;
      values.sort((a, b) => a - b);
      return values[Math.round(p * (values.length - 1))]!;
    },
  });
  aggregate(db, 'max_by', byAggregate(true));
  aggregate(db, 'min_by', byAggregate(false));
  const fn = (name: string, f: (...args: Value[]) => Value | boolean) =>
    db.function(name, { deterministic: true, varargs: true }, (...args: Value[]) => {
      const out = f(...args);
      return typeof out === 'boolean' ? (out ? 1 : 0) : out;
    });
  fn('regexp_like', (s, p) => (s === null || p === null ? null : regex(p).test(text(s)!)));
  db.function('regexp_extract', { deterministic: true, varargs: true }, (s: Value, p: Value, group: Value = 0) => {
    if (s === null || p === null) return null;
    const match = regex(p).exec(text(s)!);
    return match ? (match[Number(group)] ?? null) : null;
  });
  db.function('regexp_replace', { deterministic: true, varargs: true }, (s: Value, p: Value, replacement: Value = '') =>
    s === null || p === null ? null : text(s)!.replace(regex(p, 'g'), (text(replacement) ?? '').replace(/\$(\d)/g, '$$$1')),
  );
  fn('split_part', (s, delimiter, index) => {
    if (s === null || delimiter === null || index === null) return null;
    return text(s)!.split(text(delimiter)!)[Number(index) - 1] ?? null;
  });
  fn('lpad', pad(true));
  fn('rpad', pad(false));
  fn('reverse', (s) => (s === null ? null : [...text(s)!].reverse().join('')));
  fn('cbrt', (x) => (x === null ? null : Math.cbrt(Number(x))));
  fn('is_nan', (x) => (x === null ? null : Number.isNaN(Number(x))));
  fn('from_iso8601_timestamp', (s) => iso8601(s, false));
  fn('from_iso8601_date', (s) => iso8601(s, true));
  fn('to_iso8601', (t) => (t === null ? null : `${text(t)!.replace(' ', 'T')}Z`));
  fn('url_extract_host', (u) => url(u)?.hostname ?? null);
  fn('url_extract_path', (u) => url(u)?.pathname ?? null);
  fn('url_extract_protocol', (u) => url(u)?.protocol.replace(/:$/, '') ?? null);
  fn('url_extract_query', (u) => url(u)?.search.replace(/^\?/, '') ?? null);
  fn('url_extract_fragment', (u) => url(u)?.hash.replace(/^#/, '') ?? null);
  fn('url_extract_port', (u) => (url(u)?.port ? Number(url(u)!.port) : null));
  fn('url_extract_parameter', (u, name) => (name === null ? null : (url(u)?.searchParams.get(text(name)!) ?? null)));
}

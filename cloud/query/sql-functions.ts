import { InvalidRequestException } from '../engine/errors.ts';

/**
 * The Presto functions dataset SQL may call, each with its SQLite translation. Anything not listed
 * is refused, which also keeps SQLite-only functions (load_extension, the pragma_* table functions)
 * out of reach. Arguments arrive already translated.
 *
 * IoT Analytics documents its SQL as Presto 0.217's functions and operators. Supported here, by the
 * sections of that documentation: logical and comparison operators (with IS [NOT] DISTINCT FROM,
 * BETWEEN, LIKE, IN), conditional expressions (CASE, if, coalesce, nullif), conversion (CAST, try_cast
 * to the CAST_TYPES below), mathematical, bitwise (bitwise_and/or/xor/not), string, regular expression
 * (regexp_like, regexp_extract, regexp_replace; JavaScript syntax, which matches Java's for common
 * patterns), JSON (json_extract, json_extract_scalar, json_array_length), URL (url_extract_*), date
 * and time (including INTERVAL arithmetic and ISO 8601; all UTC), aggregate (approx_percentile is
 * exact here) and window functions, as listed below.
 * Not supported: binary, decimal (beyond CAST), color, array, map, lambda and Teradata functions (a
 * datastore keeps nested values as JSON text, so there are no ARRAY or MAP values to give them), the
 * weighted and array forms of approx_percentile, functions returning arrays (split, regexp_extract_all),
 * date_parse / format_datetime, AT TIME ZONE, and aggregates without a SQLite form (corr, covar_*, regr_*,
 * histogram, map_agg, array_agg, checksum).
 */

export interface FunctionArgs {
  /** Translated arguments. */
  sql: string[];
  /** The raw text of each argument when it was a single string literal (date_trunc's unit). */
  literal: (string | undefined)[];
  /** The epoch-seconds expression behind an argument that came from from_unixtime(), for a cheaper rewrite. */
  epoch: (string | undefined)[];
}

type Translate = (args: FunctionArgs, name: string) => string;

interface FunctionSpec {
  min: number;
  max: number;
  translate: Translate;
}

const fail = (message: string): never => {
  throw new InvalidRequestException(`Dataset SQL: ${message}.`);
};

const same: Translate = (a, name) => `${name}(${a.sql.join(', ')})`;
const rename = (to: string): Translate => (a) => `${to}(${a.sql.join(', ')})`;
const fixed = (min: number, max: number, translate: Translate): FunctionSpec => ({ min, max, translate });
const datePart = (format: string): Translate => (a) => `CAST(strftime('${format}', ${a.sql[0]}) AS INTEGER)`;

/** Timestamps are text in SQLite; this is the shape Presto prints them in, which sorts correctly. */
export const TIMESTAMP_FORMAT = '%Y-%m-%d %H:%M:%f';

const TRUNC_FORMATS: Readonly<Record<string, string>> = {
  second: '%Y-%m-%d %H:%M:%S.000',
  minute: '%Y-%m-%d %H:%M:00.000',
  hour: '%Y-%m-%d %H:00:00.000',
  day: '%Y-%m-%d 00:00:00.000',
  month: '%Y-%m-01 00:00:00.000',
  year: '%Y-01-01 00:00:00.000',
};

const UNIT_SECONDS: Readonly<Record<string, number>> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };

function unitOf(a: FunctionArgs, index: number, fn: string, allowed: readonly string[]): string {
  const unit = a.literal[index]?.toLowerCase();
  if (!unit || !allowed.includes(unit)) fail(`${fn}() takes a unit in quotes: one of ${allowed.map((u) => `'${u}'`).join(', ')}`);
  return unit!;
}

/** strftime over a timestamp, reading epoch seconds directly when the timestamp came from from_unixtime(). */
function strftimeOf(format: string, a: FunctionArgs, index: number, ...modifiers: string[]): string {
  const epoch = a.epoch[index];
  const source = epoch !== undefined ? `${epoch}, 'unixepoch'` : a.sql[index]!;
  return `strftime('${format}', ${[source, ...modifiers].join(', ')})`;
}

const dateTrunc: Translate = (a) => {
  const unit = unitOf(a, 0, 'date_trunc', ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year']);
  if (unit === 'week') return strftimeOf(TRUNC_FORMATS.day!, a, 1, "'weekday 0'", "'-6 days'");
  if (unit === 'quarter') {
    const month = `CAST(${strftimeOf('%m', a, 1)} AS INTEGER)`;
    return `printf('%s-%02d-01 00:00:00.000', ${strftimeOf('%Y', a, 1)}, ((${month} - 1) / 3) * 3 + 1)`;
  }
  return strftimeOf(TRUNC_FORMATS[unit]!, a, 1);
};

const MYSQL_FORMAT: Readonly<Record<string, string>> = {
  Y: '%Y', m: '%m', d: '%d', H: '%H', i: '%M', s: '%S', S: '%S', j: '%j', T: '%H:%M:%S', f: '%f', '%': '%%',
};

const dateFormat: Translate = (a) => {
  const format = a.literal[1];
  if (format === undefined) fail("date_format() takes its format as a string literal, e.g. '%Y-%m-%d'");
  const translated = format!.replace(/%(.)/g, (_m, c: string) => {
    const mapped = MYSQL_FORMAT[c];
    if (!mapped) fail(`date_format() does not support %${c}; use %Y %m %d %H %i %s %j %T`);
    return mapped!;
  });
  return `strftime('${translated.replaceAll("'", "''")}', ${a.sql[0]})`;
};

const dateAdd: Translate = (a) => {
  const unit = unitOf(a, 0, 'date_add', ['second', 'minute', 'hour', 'day', 'week', 'month', 'year']);
  const amount = unit === 'week' ? `(${a.sql[1]}) * 7` : `(${a.sql[1]})`;
  const sqliteUnit = unit === 'week' ? 'days' : `${unit}s`;
  return `strftime('${TIMESTAMP_FORMAT}', ${a.sql[2]}, ${amount} || ' ${sqliteUnit}')`;
};

const dateDiff: Translate = (a) => {
  const unit = unitOf(a, 0, 'date_diff', Object.keys(UNIT_SECONDS));
  return `CAST((unixepoch(${a.sql[2]}, 'subsec') - unixepoch(${a.sql[1]}, 'subsec')) / ${UNIT_SECONDS[unit]} AS INTEGER)`;
};

const variance = (sample: boolean, root: boolean): Translate => (a) => {
  const x = `(${a.sql[0]})`;
  const body = `(sum(${x} * ${x}) - sum(${x}) * sum(${x}) / count(${x})) / (count(${x})${sample ? ' - 1' : ''})`;
  return root ? `sqrt(${body})` : body;
};

export const SQL_FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  // aggregates
  count: fixed(1, 1, same), sum: fixed(1, 1, same), avg: fixed(1, 1, same),
  min: fixed(1, 1, same), max: fixed(1, 1, same),
  count_if: fixed(1, 1, (a) => `sum(CASE WHEN ${a.sql[0]} THEN 1 ELSE 0 END)`),
  approx_distinct: fixed(1, 1, (a) => `count(DISTINCT ${a.sql[0]})`),
  arbitrary: fixed(1, 1, rename('min')), any_value: fixed(1, 1, rename('min')),
  bool_and: fixed(1, 1, rename('min')), bool_or: fixed(1, 1, rename('max')),
  stddev: fixed(1, 1, variance(true, true)), stddev_samp: fixed(1, 1, variance(true, true)),
  stddev_pop: fixed(1, 1, variance(false, true)), variance: fixed(1, 1, variance(true, false)),
  var_samp: fixed(1, 1, variance(true, false)), var_pop: fixed(1, 1, variance(false, false)),
  // window functions
  row_number: fixed(0, 0, same), rank: fixed(0, 0, same), dense_rank: fixed(0, 0, same),
  percent_rank: fixed(0, 0, same), cume_dist: fixed(0, 0, same), ntile: fixed(1, 1, same),
  lag: fixed(1, 3, same), lead: fixed(1, 3, same), first_value: fixed(1, 1, same), last_value: fixed(1, 1, same),
  // maths
  abs: fixed(1, 1, same), ceil: fixed(1, 1, same), ceiling: fixed(1, 1, rename('ceil')), floor: fixed(1, 1, same),
  round: fixed(1, 2, same), truncate: fixed(1, 1, rename('trunc')), sqrt: fixed(1, 1, same), exp: fixed(1, 1, same),
  ln: fixed(1, 1, same), log2: fixed(1, 1, same), log10: fixed(1, 1, same), log: fixed(2, 2, same),
  mod: fixed(2, 2, same), power: fixed(2, 2, same), pow: fixed(2, 2, rename('power')), sign: fixed(1, 1, same),
  pi: fixed(0, 0, same), e: fixed(0, 0, () => 'exp(1)'), radians: fixed(1, 1, same), degrees: fixed(1, 1, same),
  sin: fixed(1, 1, same), cos: fixed(1, 1, same), tan: fixed(1, 1, same), asin: fixed(1, 1, same),
  acos: fixed(1, 1, same), atan: fixed(1, 1, same), atan2: fixed(2, 2, same), sinh: fixed(1, 1, same),
  cosh: fixed(1, 1, same), tanh: fixed(1, 1, same),
  greatest: fixed(2, 32, rename('max')), least: fixed(2, 32, rename('min')),
  // conditionals
  coalesce: fixed(1, 32, same), nullif: fixed(2, 2, same),
  if: fixed(2, 3, (a) => `CASE WHEN ${a.sql[0]} THEN ${a.sql[1]} ELSE ${a.sql[2] ?? 'NULL'} END`),
  // strings
  lower: fixed(1, 1, same), upper: fixed(1, 1, same), length: fixed(1, 1, same),
  substr: fixed(2, 3, same), substring: fixed(2, 3, rename('substr')),
  trim: fixed(1, 1, same), ltrim: fixed(1, 1, same), rtrim: fixed(1, 1, same),
  replace: fixed(2, 3, (a) => `replace(${a.sql[0]}, ${a.sql[1]}, ${a.sql[2] ?? "''"})`),
  concat: fixed(1, 32, (a) => `(${a.sql.join(' || ')})`),
  strpos: fixed(2, 2, rename('instr')),
  // JSON (nested attributes are kept as JSON text)
  json_extract_scalar: fixed(2, 2, rename('json_extract')), json_extract: fixed(2, 2, same),
  json_array_length: fixed(1, 1, same),
  // dates and times (timestamps are 'YYYY-MM-DD HH:MM:SS.SSS' text, UTC)
  from_unixtime: fixed(1, 1, (a) => `strftime('${TIMESTAMP_FORMAT}', ${a.sql[0]}, 'unixepoch')`),
  to_unixtime: fixed(1, 1, (a) => `unixepoch(${a.sql[0]}, 'subsec')`),
  now: fixed(0, 0, () => `strftime('${TIMESTAMP_FORMAT}', 'now')`),
  date: fixed(1, 1, (a) => `date(${a.sql[0]})`),
  date_trunc: fixed(2, 2, dateTrunc),
  date_format: fixed(2, 2, dateFormat),
  date_add: fixed(3, 3, dateAdd),
  date_diff: fixed(3, 3, dateDiff),
  year: fixed(1, 1, datePart('%Y')), month: fixed(1, 1, datePart('%m')), day: fixed(1, 1, datePart('%d')),
  day_of_month: fixed(1, 1, datePart('%d')), hour: fixed(1, 1, datePart('%H')), minute: fixed(1, 1, datePart('%M')),
  second: fixed(1, 1, datePart('%S')), day_of_year: fixed(1, 1, datePart('%j')), doy: fixed(1, 1, datePart('%j')),
  week: fixed(1, 1, datePart('%V')), week_of_year: fixed(1, 1, datePart('%V')),
  day_of_week: fixed(1, 1, datePart('%u')), dow: fixed(1, 1, datePart('%u')),
  // Added with the move to a syntax tree (issue 9). Those marked * are user functions registered on the
  // query connection (cloud/storage/sqlite-query-functions.ts); approx_percentile there is exact.
  approx_percentile: fixed(2, 2, same), // *
  max_by: fixed(2, 2, same), min_by: fixed(2, 2, same), // *
  geometric_mean: fixed(1, 1, (a) => `exp(avg(ln(${a.sql[0]})))`),
  regexp_like: fixed(2, 2, same), regexp_extract: fixed(2, 3, same), regexp_replace: fixed(2, 3, same), // *
  split_part: fixed(3, 3, same), lpad: fixed(3, 3, same), rpad: fixed(3, 3, same), reverse: fixed(1, 1, same), // *
  starts_with: fixed(2, 2, (a) => `(substr(${a.sql[0]}, 1, length(${a.sql[1]})) = ${a.sql[1]})`),
  chr: fixed(1, 1, rename('char')), codepoint: fixed(1, 1, rename('unicode')),
  cbrt: fixed(1, 1, same), is_nan: fixed(1, 1, same), // *
  infinity: fixed(0, 0, () => '9e999'),
  random: fixed(0, 0, () => '((random() / 18446744073709551616.0) + 0.5)'), rand: fixed(0, 0, () => '((random() / 18446744073709551616.0) + 0.5)'),
  bitwise_and: fixed(2, 2, (a) => `(${a.sql[0]} & ${a.sql[1]})`), bitwise_or: fixed(2, 2, (a) => `(${a.sql[0]} | ${a.sql[1]})`),
  bitwise_xor: fixed(2, 2, (a) => `((${a.sql[0]} | ${a.sql[1]}) - (${a.sql[0]} & ${a.sql[1]}))`), bitwise_not: fixed(1, 1, (a) => `(~${a.sql[0]})`),
  from_iso8601_timestamp: fixed(1, 1, same), from_iso8601_date: fixed(1, 1, same), to_iso8601: fixed(1, 1, same), // *
  url_extract_host: fixed(1, 1, same), url_extract_path: fixed(1, 1, same), url_extract_protocol: fixed(1, 1, same), // *
  url_extract_query: fixed(1, 1, same), url_extract_fragment: fixed(1, 1, same), url_extract_port: fixed(1, 1, same), // *
  url_extract_parameter: fixed(2, 2, same), // *
};

/** Fields EXTRACT(field FROM t) accepts, mapped to the function that computes them. */
export const EXTRACT_FIELDS: Readonly<Record<string, string>> = {
  year: 'year', month: 'month', day: 'day', hour: 'hour', minute: 'minute', second: 'second',
  dow: 'dow', day_of_week: 'dow', doy: 'doy', day_of_year: 'doy', week: 'week',
};

/** CAST target types, Presto name → SQLite expression template. */
export const CAST_TYPES: Readonly<Record<string, (x: string) => string>> = {
  double: (x) => `CAST(${x} AS REAL)`, real: (x) => `CAST(${x} AS REAL)`, decimal: (x) => `CAST(${x} AS REAL)`,
  bigint: (x) => `CAST(${x} AS INTEGER)`, integer: (x) => `CAST(${x} AS INTEGER)`, int: (x) => `CAST(${x} AS INTEGER)`,
  smallint: (x) => `CAST(${x} AS INTEGER)`, tinyint: (x) => `CAST(${x} AS INTEGER)`, boolean: (x) => `CAST(${x} AS INTEGER)`,
  varchar: (x) => `CAST(${x} AS TEXT)`, char: (x) => `CAST(${x} AS TEXT)`,
  date: (x) => `date(${x})`, timestamp: (x) => `strftime('${TIMESTAMP_FORMAT}', ${x})`,
};

/** The allowlist's entry for a call, checked against its argument count; every dialect asks this first. */
export function allowedCall(name: string, args: FunctionArgs): FunctionSpec {
  const spec = SQL_FUNCTIONS[name];
  if (!spec) fail(`function ${name}() is not supported; the Presto functions dataset SQL can call are listed in cloud/query/sql-functions.ts`);
  const count = args.sql.length;
  if (count < spec!.min || count > spec!.max) {
    const wanted = spec!.min === spec!.max ? `${spec!.min}` : `${spec!.min} to ${spec!.max}`;
    fail(`${name}() takes ${wanted} argument(s), not ${count}`);
  }
  return spec!;
}

export function translateCall(name: string, args: FunctionArgs): string {
  return allowedCall(name, args).translate(args, name);
}

import type { Dialect } from './sql-dialect.ts';
import { allowedCall, EXTRACT_FIELDS, type FunctionArgs } from './sql-functions.ts';
import { fail } from './sql-parse.ts';
import { sqlIdentifier, sqlString } from './sql-tokenizer.ts';

/**
 * PostgreSQL: the same allowlist as SQLite (sql-functions.ts decides what may be called), each function
 * written so that its result is the value SQLite gives for the same data, since the dataset tests and the
 * CSV are one for both backends. Timestamps are real `timestamp` values here (the connection's type
 * parser prints them as SQLite's 'YYYY-MM-DD HH:MM:SS.SSS' text); functions SQLite's semantics need and
 * PostgreSQL lacks are in the `hedgerow_sql` schema (cloud/storage/postgres-query-functions.ts), which
 * dataset SQL cannot name itself (the writer refuses schema prefixes).
 */

/** The schema of the helper functions; `H.sum(x)` is `hedgerow_sql.sum(x)`. */
export const HELPER_SCHEMA = 'hedgerow_sql';
const H = `${HELPER_SCHEMA}.`;

type Translate = (a: FunctionArgs) => string;

const ts = (sql: string | undefined): string => `${H}ts(${sql})`;
const text = (sql: string | undefined): string => `${H}text(${sql})`;
const named = (fn: string): Translate => (a) => `${fn}(${a.sql.join(', ')})`;
const helper = (fn: string): Translate => named(H + fn);

function unit(a: FunctionArgs, fn: string, allowed: readonly string[]): string {
  const u = a.literal[0]?.toLowerCase();
  if (!u || !allowed.includes(u)) fail(`${fn}() takes a unit in quotes: one of ${allowed.map((x) => `'${x}'`).join(', ')}`);
  return u!;
}

/** PostgreSQL's extract(), as an integer like SQLite's CAST(strftime(...) AS INTEGER); seconds drop their fraction. */
const part = (field: string): Translate => (a) => `floor(extract(${field} FROM ${ts(a.sql[0])}))::integer`;

/** MySQL's date_format letters (which Presto's date_format takes) as to_char patterns; %f is SQLite's SS.SSS. */
const TO_CHAR: Readonly<Record<string, string>> = {
  Y: 'YYYY', m: 'MM', d: 'DD', H: 'HH24', i: 'MI', s: 'SS', S: 'SS', j: 'DDD', T: 'HH24:MI:SS', f: 'SS.MS',
};

const dateFormat: Translate = (a) => {
  const format = a.literal[1];
  if (format === undefined) fail("date_format() takes its format as a string literal, e.g. '%Y-%m-%d'");
  // Text between the letters goes in double quotes, so to_char never reads it as a pattern.
  const pieces = format!.split(/(%.)/).filter((p) => p !== '');
  const pattern = pieces
    .map((p) => {
      if (p === '%%') return '"%"';
      if (!p.startsWith('%') || p.length !== 2) return `"${p.replace(/["\\]/g, (c) => `\\${c}`)}"`;
      const mapped = TO_CHAR[p[1]!];
      if (!mapped) fail(`date_format() does not support ${p}; use %Y %m %d %H %i %s %j %T`);
      return mapped!;
    })
    .join('');
  return `to_char(${ts(a.sql[0])}, ${sqlString(pattern)})`;
};

const UNIT_SECONDS: Readonly<Record<string, number>> = { second: 1, minute: 60, hour: 3600, day: 86400, week: 604800 };

/** Presto's variance family as SQLite computes it (sql-functions.ts), with SQLite's NULL for a division by zero. */
const variance = (sample: boolean, root: boolean): Translate => (a) => {
  const x = `(${a.sql[0]})`;
  const n = `count(${x})`;
  const body = `(${H}sum(${x} * ${x}) - ${H}sum(${x}) * ${H}sum(${x}) / NULLIF(${n}, 0)) / NULLIF(${n}${sample ? ' - 1' : ''}, 0)`;
  return root ? `${H}sqrt(${body})` : body;
};

/** SQLite's multi-argument max()/min(): NULL when any argument is NULL (greatest() would skip it). */
const extreme = (fn: string): Translate => (a) => `CASE WHEN ${a.sql.map((s) => `(${s}) IS NULL`).join(' OR ')} THEN NULL ELSE ${fn}(${a.sql.join(', ')}) END`;

/** max_by/min_by: the x of the row whose `by` is largest (smallest); rows with a NULL `by` never count. */
const by = (direction: 'DESC' | 'ASC'): Translate => (a) =>
  `(array_agg(CASE WHEN (${a.sql[1]}) IS NULL THEN NULL ELSE (${a.sql[0]}) END ORDER BY (${a.sql[1]}) ${direction} NULLS LAST))[1]`;

const POSTGRES_FUNCTIONS: Readonly<Record<string, Translate>> = {
  sum: helper('sum'), avg: helper('avg'),
  arbitrary: named('min'), any_value: named('min'), bool_and: named('bool_and'), bool_or: named('bool_or'),
  stddev: variance(true, true), stddev_samp: variance(true, true), stddev_pop: variance(false, true),
  variance: variance(true, false), var_samp: variance(true, false), var_pop: variance(false, false),
  sqrt: helper('sqrt'), ln: helper('ln'), log10: helper('log10'), log2: (a) => `(${H}ln(${a.sql[0]}) / ln(2))`, log: helper('log'),
  round: helper('round'), mod: helper('mod'), e: () => 'exp(1::double precision)',
  greatest: extreme('greatest'), least: extreme('least'),
  lower: (a) => `lower(${text(a.sql[0])})`, upper: (a) => `upper(${text(a.sql[0])})`, length: (a) => `length(${text(a.sql[0])})`,
  substr: helper('substr'), substring: helper('substr'),
  concat: (a) => `(${a.sql.map(text).join(' || ')})`,
  strpos: (a) => `strpos(${text(a.sql[0])}, ${text(a.sql[1])})`,
  json_extract_scalar: helper('json_extract'), json_extract: helper('json_extract'), json_array_length: helper('json_array_length'),
  from_unixtime: helper('from_unixtime'),
  to_unixtime: (a) => `extract(epoch FROM ${ts(a.sql[0])})::double precision`,
  now: () => `${H}now()`,
  date: (a) => `${ts(a.sql[0])}::date`,
  date_trunc: (a) => `date_trunc('${unit(a, 'date_trunc', ['second', 'minute', 'hour', 'day', 'week', 'month', 'quarter', 'year'])}', ${ts(a.sql[1])})`,
  date_format: dateFormat,
  date_add: (a) => `(${ts(a.sql[2])} + (${a.sql[1]}) * INTERVAL '1 ${unit(a, 'date_add', ['second', 'minute', 'hour', 'day', 'week', 'month', 'year'])}')`,
  date_diff: (a) => {
    const seconds = UNIT_SECONDS[unit(a, 'date_diff', Object.keys(UNIT_SECONDS))]!;
    return `trunc((extract(epoch FROM ${ts(a.sql[2])}) - extract(epoch FROM ${ts(a.sql[1])})) / ${seconds})::bigint`;
  },
  year: part('year'), month: part('month'), day: part('day'), day_of_month: part('day'), hour: part('hour'), minute: part('minute'),
  second: part('second'), day_of_year: part('doy'), doy: part('doy'), week: part('week'), week_of_year: part('week'),
  day_of_week: part('isodow'), dow: part('isodow'),
  approx_percentile: helper('approx_percentile'),
  max_by: by('DESC'), min_by: by('ASC'),
  geometric_mean: (a) => `exp(${H}avg(${H}ln(${a.sql[0]})))`,
  regexp_like: (a) => `(${text(a.sql[0])} ~ ${a.sql[1]})`,
  // The whole pattern in a group of its own, so group 0 (the whole match) is element 1.
  regexp_extract: (a) => `(regexp_match(${text(a.sql[0])}, '(' || ${a.sql[1]} || ')'))[(${a.sql[2] ?? '0'})::integer + 1]`,
  regexp_replace: helper('regexp_replace'),
  split_part: (a) => `(string_to_array(${text(a.sql[0])}, ${a.sql[1]}))[(${a.sql[2]})::integer]`,
  lpad: (a) => `lpad(${text(a.sql[0])}, (${a.sql[1]})::integer, ${a.sql[2]})`,
  rpad: (a) => `rpad(${text(a.sql[0])}, (${a.sql[1]})::integer, ${a.sql[2]})`,
  reverse: (a) => `reverse(${text(a.sql[0])})`,
  starts_with: (a) => `starts_with(${text(a.sql[0])}, ${text(a.sql[1])})`,
  chr: (a) => `chr((${a.sql[0]})::integer)`, codepoint: (a) => `ascii(${a.sql[0]})`,
  is_nan: (a) => `((${a.sql[0]})::double precision = 'NaN'::double precision)`,
  infinity: () => `'Infinity'::double precision`,
  random: () => 'random()', rand: () => 'random()',
  bitwise_and: (a) => `(${H}int(${a.sql[0]}) & ${H}int(${a.sql[1]}))`, bitwise_or: (a) => `(${H}int(${a.sql[0]}) | ${H}int(${a.sql[1]}))`,
  bitwise_xor: (a) => `(${H}int(${a.sql[0]}) # ${H}int(${a.sql[1]}))`, bitwise_not: (a) => `(~${H}int(${a.sql[0]}))`,
  from_iso8601_timestamp: helper('from_iso8601_timestamp'), from_iso8601_date: helper('from_iso8601_date'),
  to_iso8601: (a) => `to_char(${ts(a.sql[0])}, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`,
  url_extract_host: helper('url_host'), url_extract_path: helper('url_path'), url_extract_protocol: helper('url_protocol'),
  url_extract_query: helper('url_query'), url_extract_fragment: helper('url_fragment'), url_extract_port: helper('url_port'),
  url_extract_parameter: helper('url_parameter'),
};

/** CAST target types, Presto name → PostgreSQL expression with SQLite's result (integers truncate, text is SQLite's). */
const POSTGRES_CASTS: Readonly<Record<string, (x: string) => string>> = {
  double: (x) => `CAST(${x} AS double precision)`, real: (x) => `CAST(${x} AS double precision)`, decimal: (x) => `CAST(${x} AS double precision)`,
  bigint: (x) => `${H}int(${x})`, integer: (x) => `${H}int(${x})`, int: (x) => `${H}int(${x})`, smallint: (x) => `${H}int(${x})`,
  tinyint: (x) => `${H}int(${x})`, boolean: (x) => `${H}int(${x})`,
  varchar: text, char: text, date: (x) => `${ts(x)}::date`, timestamp: ts,
};

const INTERVAL_UNITS = ['second', 'minute', 'hour', 'day', 'month', 'year'];

function call(name: string, args: FunctionArgs): string {
  const spec = allowedCall(name, args);
  const own = POSTGRES_FUNCTIONS[name];
  // Every other allowlisted function is spelled (and behaves) alike in both; SQLite's spelling is then PostgreSQL's too.
  return own ? own(args) : spec.translate(args, name);
}

export const POSTGRES: Dialect = {
  name: 'PostgreSQL',
  sqliteColumnNames: true,
  identifier: sqlIdentifier,
  string: sqlString,
  call,
  cast(type, sql) {
    const make = POSTGRES_CASTS[type];
    if (!make) fail(`CAST to ${type} is not supported; use ${Object.keys(POSTGRES_CASTS).join(', ')}`);
    return make!(sql);
  },
  extract(field, args) {
    const fn = EXTRACT_FIELDS[field];
    if (!fn) fail(`write EXTRACT(field FROM timestamp) with field one of ${Object.keys(EXTRACT_FIELDS).join(', ')}`);
    return call(fn!, args);
  },
  interval(value, sign, amount, unitName) {
    if (!INTERVAL_UNITS.includes(unitName)) fail("write intervals as INTERVAL 'N' DAY (SECOND, MINUTE, HOUR, DAY, MONTH or YEAR)");
    return `(${ts(value.sql[0])} ${sign} INTERVAL '${amount} ${unitName}')`;
  },
  distinctFrom: (left, right, distinct) => `${left} IS ${distinct ? '' : 'NOT '}DISTINCT FROM ${right}`,
  date: (t) => `CAST(${sqlString(t)} AS date)`,
  timestamp: (t) => `CAST(${sqlString(t)} AS timestamp)`,
  limit: (limit, offset) => [limit === undefined ? '' : `LIMIT ${limit}`, offset === undefined ? '' : `OFFSET ${offset}`].filter((s) => s).join(' '),
  current: (what) => (what === 'date' ? `(${H}now())::date` : `${H}now()`),
  parameter: (index) => `$${index}`,
  binary(op, left, right) {
    // SQLite: x / 0 and x % 0 are NULL, % works on the integer parts, LIKE ignores ASCII case, || prints numbers its way.
    if (op === '/') return `${left} / NULLIF(${right}, 0)`;
    if (op === '%') return `${H}imod(${left}, ${right})`;
    if (op === 'LIKE' || op === 'NOT LIKE') return `${left} ${op === 'LIKE' ? 'ILIKE' : 'NOT ILIKE'} ${right}`;
    if (op === '||') return `${text(left)} || ${text(right)}`;
    return `${left} ${op} ${right}`;
  },
  nullsOrder: (descending) => (descending ? ' NULLS LAST' : ' NULLS FIRST'),
  derivedTable: (sql, alias, ordinal) => `(${sql}) AS ${alias ?? sqlIdentifier(`__derived${ordinal}`)}`,
};

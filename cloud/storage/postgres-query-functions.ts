import { HELPER_SCHEMA } from '../query/postgres-dialect.ts';

/**
 * The helper functions cloud/query/postgres-dialect.ts writes calls to: SQLite's semantics where
 * PostgreSQL's own functions differ (sums, rounding, text of numbers, NULL instead of an error), and
 * the Presto functions PostgreSQL lacks. PostgresQueries.prepare() installs them with CREATE OR REPLACE
 * under an advisory lock. Simple SQL functions are inlined by the planner, so they cost nothing per row.
 */

const S = HELPER_SCHEMA;

/** Bumped when a definition below changes, so every worker's prepare() replaces them once. */
export const QUERY_FUNCTIONS_VERSION = 4;

const sql = (name: string, args: string, returns: string, body: string, volatility = 'IMMUTABLE') =>
  `CREATE OR REPLACE FUNCTION ${S}.${name}(${args}) RETURNS ${returns} LANGUAGE sql ${volatility} PARALLEL SAFE AS $f$ ${body} $f$`;
const plpgsql = (name: string, args: string, returns: string, body: string, volatility = 'IMMUTABLE') =>
  `CREATE OR REPLACE FUNCTION ${S}.${name}(${args}) RETURNS ${returns} LANGUAGE plpgsql ${volatility} PARALLEL SAFE AS $f$ ${body} $f$`;

/** A URL's parts as JavaScript's URL gives them (SQLite's helpers use it); NULL when it is not a URL. */
const URL_PATTERN = String.raw`^([A-Za-z][A-Za-z0-9+.-]*):\/\/(?:[^@\/?#]*@)?(\[[^\]]*\]|[^:\/?#]*)(?::([0-9]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$`;
const urlPart = (name: string, index: number, returns = 'text', wrap = (x: string) => x) =>
  sql(`url_${name}`, 'u text', returns, `SELECT ${wrap(`(regexp_match(u, '${URL_PATTERN}'))[${index}]`)}`);

export const QUERY_FUNCTIONS: readonly string[] = [
  `CREATE SCHEMA IF NOT EXISTS ${S}`,
  // Timestamps: the real type, or SQLite's text form read as one.
  sql('ts', 'x timestamp', 'timestamp', 'SELECT x'),
  sql('ts', 'x date', 'timestamp', 'SELECT x::timestamp'),
  sql('ts', 'x text', 'timestamp', 'SELECT x::timestamp', 'STABLE'),
  // SQLite keeps milliseconds, rounding as it does ((int64)(r * 1000 + 0.5)).
  sql('from_unixtime', 'x double precision', 'timestamp', "SELECT TIMESTAMP '1970-01-01 00:00:00' + trunc(x * 1000 + 0.5) * INTERVAL '1 millisecond'"),
  sql('now', '', 'timestamp', "SELECT date_trunc('milliseconds', now() AT TIME ZONE 'UTC')", 'STABLE'),
  sql('from_iso8601_timestamp', 's text', 'timestamp', "SELECT date_trunc('milliseconds', s::timestamptz AT TIME ZONE 'UTC')", 'STABLE'),
  sql('from_iso8601_date', 's text', 'date', "SELECT (s::timestamptz AT TIME ZONE 'UTC')::date", 'STABLE'),
  // Text as SQLite's CAST(x AS TEXT) writes it: REAL with 15 significant digits ("%!.15g": 10.0, 1.0e+20).
  sql('text', 'x text', 'text', 'SELECT x'),
  sql('text', 'x bigint', 'text', 'SELECT x::text'),
  sql('text', 'x integer', 'text', 'SELECT x::text'),
  sql('text', 'x boolean', 'text', "SELECT CASE WHEN x THEN '1' WHEN NOT x THEN '0' END"),
  sql('text', 'x timestamp', 'text', "SELECT to_char(x, 'YYYY-MM-DD HH24:MI:SS.MS')"),
  sql('text', 'x date', 'text', 'SELECT x::text'),
  sql('text', 'x jsonb', 'text', 'SELECT x::text'),
  sql('text', 'x numeric', 'text', `SELECT ${S}.text(x::double precision)`),
  plpgsql('text', 'x double precision', 'text', `
    DECLARE e text; mantissa text; exponent integer;
    BEGIN
      IF x IS NULL THEN RETURN NULL; END IF;
      IF x = 'Infinity' THEN RETURN 'Inf'; END IF;
      IF x = '-Infinity' THEN RETURN '-Inf'; END IF;
      IF x = 'NaN' THEN RETURN NULL; END IF;
      IF x = 0 THEN RETURN '0.0'; END IF;
      e := btrim(to_char(x, '9.99999999999999EEEE'));
      mantissa := rtrim(rtrim(split_part(e, 'e', 1), '0'), '.');
      exponent := split_part(e, 'e', 2)::integer;
      IF exponent < -4 OR exponent >= 15 THEN
        IF strpos(mantissa, '.') = 0 THEN mantissa := mantissa || '.0'; END IF;
        RETURN mantissa || 'e' || CASE WHEN exponent < 0 THEN '-' ELSE '+' END || lpad(abs(exponent)::text, 2, '0');
      END IF;
      e := rtrim(rtrim(round(mantissa::numeric * power(10::numeric, exponent), 20)::text, '0'), '.');
      RETURN CASE WHEN strpos(e, '.') = 0 THEN e || '.0' ELSE e END;
    END`),
  // CAST(x AS INTEGER) in SQLite truncates towards zero; booleans are 1 and 0.
  sql('int', 'x double precision', 'bigint', 'SELECT trunc(x)::bigint'),
  sql('int', 'x bigint', 'bigint', 'SELECT x'),
  sql('int', 'x integer', 'bigint', 'SELECT x::bigint'),
  sql('int', 'x numeric', 'bigint', 'SELECT trunc(x)::bigint'),
  sql('int', 'x boolean', 'bigint', 'SELECT CASE WHEN x THEN 1 WHEN NOT x THEN 0 END'),
  sql('int', 'x text', 'bigint', 'SELECT trunc(x::double precision)::bigint'),
  sql('imod', 'a double precision, b double precision', 'bigint', 'SELECT trunc(a)::bigint % NULLIF(trunc(b)::bigint, 0)'),
  // The binary value in decimal, to 33 digits (glibc's printf), where float8::numeric keeps only 15.
  sql('exact', 'x double precision', 'numeric', `SELECT to_char(x, '9.${'9'.repeat(32)}EEEE')::numeric`),
  // SQLite's mod() is C's fmod() of the binary values, whose result is exact.
  sql('mod', 'a double precision, b double precision', 'double precision', `SELECT mod(${S}.exact(a), NULLIF(${S}.exact(b), 0))::double precision`),
  // SQLite's round(): half away from zero on the exact binary value (2.675 is 2.67499..., so 2.67); round(x) adds 0.5 and truncates.
  sql('round', 'x double precision', 'double precision', 'SELECT CASE WHEN abs(x) > 4503599627370496 THEN x ELSE trunc(x + CASE WHEN x < 0 THEN -0.5 ELSE 0.5 END) END'),
  sql('round', 'x double precision, n integer', 'double precision', `SELECT CASE WHEN n <= 0 THEN ${S}.round(x) WHEN abs(x) > 4503599627370496 THEN x
    ELSE round(${S}.exact(x), n)::double precision END`),
  // NULL where PostgreSQL raises an error and SQLite gives NULL.
  sql('sqrt', 'x double precision', 'double precision', 'SELECT CASE WHEN x < 0 THEN NULL ELSE sqrt(x) END'),
  sql('ln', 'x double precision', 'double precision', 'SELECT CASE WHEN x <= 0 THEN NULL ELSE ln(x) END'),
  sql('log10', 'x double precision', 'double precision', 'SELECT CASE WHEN x <= 0 THEN NULL ELSE log10(x) END'),
  sql('log', 'b double precision, x double precision', 'double precision', 'SELECT CASE WHEN b <= 0 OR x <= 0 OR b = 1 THEN NULL ELSE ln(x) / ln(b) END'),
  // SQLite's substr(): a negative start counts from the end, 0 is the place before the first character.
  plpgsql('substr', 's text, start bigint, count bigint DEFAULT NULL', 'text', `
    DECLARE p1 bigint := start; p2 bigint := coalesce(count, 2147483647); len bigint := length(s); neg boolean := p2 < 0;
    BEGIN
      IF s IS NULL OR start IS NULL THEN RETURN NULL; END IF;
      IF neg THEN p2 := -p2; END IF;
      IF p1 < 0 THEN p1 := p1 + len; IF p1 < 0 THEN p2 := p2 + p1; IF p2 < 0 THEN p2 := 0; END IF; p1 := 0; END IF;
      ELSIF p1 > 0 THEN p1 := p1 - 1;
      ELSIF p2 > 0 THEN p2 := p2 - 1;
      END IF;
      IF neg THEN p1 := p1 - p2; IF p1 < 0 THEN p2 := p2 + p1; p1 := 0; END IF; END IF;
      IF p1 + p2 > len THEN p2 := greatest(len - p1, 0); END IF;
      RETURN substr(s, (p1 + 1)::integer, p2::integer);
    END`),
  sql('substr', 's double precision, start bigint, count bigint DEFAULT NULL', 'text', `SELECT ${S}.substr(${S}.text(s), start, count)`),
  // Presto's $1 in a replacement is PostgreSQL's \\1; a backslash of the user's is a plain character.
  sql('regexp_replace', "s text, p text, r text DEFAULT ''", 'text', String.raw`SELECT regexp_replace(s, p, regexp_replace(replace(coalesce(r, ''), '\', '\\'), '\$([0-9])', '\\\1', 'g'), 'g')`),
  // JSON: SQLite's json_extract gives scalars as values (true as 1) and objects as JSON text.
  sql('json_extract', 'j jsonb, path text', 'text', `SELECT CASE jsonb_typeof(v) WHEN 'boolean' THEN CASE WHEN v = 'true' THEN '1' ELSE '0' END
    WHEN 'null' THEN NULL WHEN 'string' THEN v #>> '{}' ELSE v::text END FROM (SELECT jsonb_path_query_first(j, path::jsonpath) AS v) AS found`),
  sql('json_extract', 'j text, path text', 'text', `SELECT ${S}.json_extract(j::jsonb, path)`),
  sql('json_array_length', 'j jsonb', 'bigint', "SELECT CASE WHEN j IS NULL THEN NULL WHEN jsonb_typeof(j) = 'array' THEN jsonb_array_length(j) ELSE 0 END"),
  sql('json_array_length', 'j text', 'bigint', `SELECT ${S}.json_array_length(j::jsonb)`),
  urlPart('protocol', 1),
  urlPart('host', 2, 'text', (x) => `lower(${x})`),
  urlPart('port', 3, 'bigint', (x) => `NULLIF(${x}, '')::bigint`),
  urlPart('path', 4, 'text', (x) => `CASE WHEN ${x} = '' THEN '/' ELSE ${x} END`),
  urlPart('query', 5, 'text', (x) => `coalesce(${x}, '')`),
  urlPart('fragment', 6, 'text', (x) => `coalesce(${x}, '')`),
  sql('url_parameter', 'u text, name text', 'text', `SELECT split_part(pair, '=', 2) FROM unnest(string_to_array(${S}.url_query(u), '&')) AS pair
    WHERE split_part(pair, '=', 1) = name LIMIT 1`),
  // sum() and avg() as SQLite 3.43+ computes them: Kahan-Babuska-Neumaier summation, so 0.1 + 0.2 + 0.3 is 0.6.
  // plpgsql updates the state array in place: four times as fast here as an SQL function building a new one per row.
  plpgsql('kbn_step', 'state double precision[], x double precision', 'double precision[]', `
    DECLARE s double precision; t double precision;
    BEGIN
      IF x IS NULL THEN RETURN state; END IF;
      s := state[1];
      t := s + x;
      IF abs(s) > abs(x) THEN state[2] := state[2] + ((s - t) + x); ELSE state[2] := state[2] + ((x - t) + s); END IF;
      state[1] := t;
      state[3] := state[3] + 1;
      RETURN state;
    END`),
  sql('kbn_sum', 'state double precision[]', 'double precision', 'SELECT CASE WHEN state[3] = 0 THEN NULL ELSE state[1] + state[2] END'),
  sql('kbn_avg', 'state double precision[]', 'double precision', 'SELECT CASE WHEN state[3] = 0 THEN NULL ELSE (state[1] + state[2]) / state[3] END'),
  `CREATE OR REPLACE AGGREGATE ${S}.sum(double precision) (SFUNC = ${S}.kbn_step, STYPE = double precision[], FINALFUNC = ${S}.kbn_sum, INITCOND = '{0,0,0}', PARALLEL = SAFE)`,
  `CREATE OR REPLACE AGGREGATE ${S}.avg(double precision) (SFUNC = ${S}.kbn_step, STYPE = double precision[], FINALFUNC = ${S}.kbn_avg, INITCOND = '{0,0,0}', PARALLEL = SAFE)`,
  // approx_percentile as SQLite's helper: exact, the sorted value at round(p * (n - 1)).
  // state[1] is p, the values follow; appending to the state in plpgsql is in place, not a copy per row.
  plpgsql('percentile_step', 'state double precision[], x double precision, p double precision', 'double precision[]', `
    BEGIN
      IF p IS NULL OR NOT (p >= 0 AND p <= 1) THEN RAISE EXCEPTION 'approx_percentile(x, p) takes p between 0 and 1'; END IF;
      IF cardinality(state) = 0 THEN state := ARRAY[p]; ELSE state[1] := p; END IF;
      IF x IS NOT NULL AND x <> 'NaN' THEN state := array_append(state, x); END IF;
      RETURN state;
    END`),
  sql('percentile_final', 'state double precision[]', 'double precision', `SELECT CASE WHEN cardinality(state) < 2 THEN NULL
    ELSE (SELECT v FROM unnest(state[2:]) AS v ORDER BY v OFFSET floor(state[1] * (cardinality(state) - 2) + 0.5)::bigint LIMIT 1) END`),
  `CREATE OR REPLACE AGGREGATE ${S}.approx_percentile(double precision, double precision) (SFUNC = ${S}.percentile_step, STYPE = double precision[],
    FINALFUNC = ${S}.percentile_final, INITCOND = '{}', PARALLEL = SAFE)`,
];

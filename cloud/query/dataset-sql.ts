import type { TranslatedQuery } from './query-types.ts';
import type { Dialect } from './sql-dialect.ts';
import { fail, parseDatasetSql, type ParsedSql } from './sql-parse.ts';
import { SqlWriter } from './sql-writer.ts';
import { SQLITE } from './sqlite-dialect.ts';
import { tokenizeSql } from './sql-tokenizer.ts';

/**
 * Dataset SQL: IoT Analytics' Presto SELECT, parsed into a syntax tree (sql-parse.ts), checked and
 * written in the backend's dialect (sql-writer.ts, sqlite-dialect.ts). One SELECT only; every FROM/JOIN
 * names a datastore; functions come from the allowlist in sql-functions.ts however their name is
 * written; no writes, ATTACH, PRAGMA, WITH, parameters or SQLite internals.
 */

export interface DeltaTimeWindow {
  /** Translated timeExpression is compared against these 'YYYY-MM-DD HH:MM:SS.SSS' bounds, [start, end). */
  timeExpression: string;
  start: number;
  end: number;
}

export interface DatasetSqlOptions {
  /** Names of the datastores that exist (matched ignoring case; the stored spelling is used). */
  datastores: readonly string[];
  deltaTime?: DeltaTimeWindow;
  /** The backend's dialect; SQLite by default. */
  dialect?: Dialect;
}

const TIMESTAMP_TEXT = (ms: number): string => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** Checks and translates dataset SQL; throws InvalidRequestException with the reason. */
export function translateDatasetSql(sql: string, options: DatasetSqlOptions): TranslatedQuery {
  if (typeof sql !== 'string' || sql.trim() === '') fail('the query is empty; write a SELECT over a datastore');
  const first = tokenizeSql(sql)[0];
  const word = first?.kind === 'word' ? first.text.toUpperCase() : undefined;
  if (word === 'WITH') fail('WITH is not part of IoT Analytics SQL; use a subquery in FROM instead', 0);
  if (word !== 'SELECT') fail('a dataset query must start with SELECT', first?.at ?? 0);
  return shallow(() => translate(sql, options));
}

/** Very long operator chains recurse deeply in the grammar and the writer: that is the user's to fix. */
function shallow<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof RangeError) fail('the query nests too deeply; split long chains of operators');
    throw error;
  }
}

function translate(sql: string, options: DatasetSqlOptions): TranslatedQuery {
  return translateParsedSql(parseDatasetSql(sql), options);
}

/** Checks and translates an already parsed query (the incremental refresh adds conditions to the tree). */
export function translateParsedSql(parsed: ParsedSql, options: DatasetSqlOptions): TranslatedQuery {
  const delta = options.deltaTime;
  const writer = new SqlWriter(options.dialect ?? SQLITE, parsed, {
    datastores: options.datastores,
    ...(delta ? { window: { timeExpression: delta.timeExpression, start: TIMESTAMP_TEXT(delta.start), end: TIMESTAMP_TEXT(delta.end) } } : {}),
  });
  const translated = writer.select(parsed.ast);
  const renamed = Object.keys(writer.columnNames).length > 0 ? { columnNames: writer.columnNames } : {};
  return { sql: translated, params: writer.params, datastores: [...writer.used], ...renamed };
}

/** Translates a deltaTime timeExpression: an expression over a datastore's attributes, no subqueries. */
export function translateTimeExpression(expression: string, dialect: Dialect = SQLITE): string {
  if (typeof expression !== 'string' || expression.trim() === '') fail('deltaTime needs a timeExpression, e.g. from_unixtime(ts / 1000)');
  for (const token of tokenizeSql(expression)) {
    const upper = token.kind === 'word' ? token.text.toUpperCase() : '';
    if (token.kind === 'semicolon' || upper === 'SELECT' || upper === 'FROM') fail('timeExpression must be an expression over attributes', token.at);
  }
  return shallow(() => timeExpression(expression, dialect));
}

function timeExpression(expression: string, dialect: Dialect): string {
  const parsed = parseDatasetSql(expression, false);
  const columns = Array.isArray(parsed.ast.columns) ? (parsed.ast.columns as Record<string, unknown>[]) : [];
  if (columns.length !== 1 || columns[0]!.as != null) fail('timeExpression must be one expression over attributes, e.g. from_unixtime(ts / 1000)');
  return new SqlWriter(dialect, parsed, { datastores: [] }).expr(columns[0]!.expr);
}

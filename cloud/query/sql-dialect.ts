import type { FunctionArgs } from './sql-functions.ts';

/**
 * What the SQL writer needs from a backend's dialect. The writer walks the checked Presto tree and
 * asks the dialect for every piece whose spelling differs between backends, so a PostgreSQL writer
 * (issue 12) is a second implementation of this interface, not a second walker.
 */
export interface Dialect {
  readonly name: string;
  /** Name a select-list expression without AS by SQLite's spelling of it, as SQLite does (PostgreSQL would say "count"). */
  readonly sqliteColumnNames: boolean;
  /** A name, always quoted so keywords and case survive. */
  identifier(name: string): string;
  string(text: string): string;
  /** A call of an allowlisted Presto function; throws InvalidRequestException for any other name. */
  call(name: string, args: FunctionArgs): string;
  /** CAST(x AS type) (and try_cast); throws InvalidRequestException for a type it cannot map. */
  cast(type: string, sql: string): string;
  /** EXTRACT(field FROM x); throws InvalidRequestException for an unknown field. */
  extract(field: string, args: FunctionArgs): string;
  /** `timestamp ± INTERVAL 'n' unit`; `value` has the timestamp's SQL and, when known, its epoch seconds. */
  interval(value: FunctionArgs, sign: '+' | '-', amount: number, unit: string): string;
  /** Presto's IS [NOT] DISTINCT FROM. */
  distinctFrom(left: string, right: string, distinct: boolean): string;
  date(text: string): string;
  timestamp(text: string): string;
  /** LIMIT and OFFSET, either possibly absent (numbers already checked). */
  limit(limit: string | undefined, offset: string | undefined): string;
  /** CURRENT_DATE, CURRENT_TIMESTAMP / LOCALTIMESTAMP / now(). */
  current(what: 'date' | 'timestamp'): string;
  /** The `index`-th (1-based) positional parameter of TranslatedQuery.params. */
  parameter(index: number): string;
  /** A binary operator of the checked list (=, /, %, ||, LIKE, ...); `right` may carry `ESCAPE x`. */
  binary(op: string, left: string, right: string): string;
  /** Where NULLs go when ORDER BY does not say: appended to the sort key (SQLite puts them first when ascending). */
  nullsOrder(descending: boolean): string;
  /** A `(SELECT ...)` in FROM; `ordinal` numbers them in the query, for a backend that needs a name for each. */
  derivedTable(sql: string, alias: string | undefined, ordinal: number): string;
}

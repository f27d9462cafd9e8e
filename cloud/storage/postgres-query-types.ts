import pg from 'pg';

/**
 * How dataset query results are read from PostgreSQL: as the values SQLite gives for the same data, so
 * the CSV (cloud/query/csv.ts) is the same text. Per query, not pg's global parsers, which the store's
 * own queries keep.
 */

const { builtins } = pg.types;

/** PostgreSQL prints '2024-01-03 13:45:30.25'; SQLite's timestamps are '2024-01-03 13:45:30.250' text. */
export function sqliteTimestamp(text: string): string {
  const m = /^(\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.(\d+))?$/.exec(text);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(3, '0').slice(0, 3)}` : text;
}

const asText = (text: string): string => text;

const PARSERS: ReadonlyMap<number, (text: string) => unknown> = new Map<number, (text: string) => unknown>([
  // SQLite has one integer type and no booleans (true is 1).
  [builtins.INT8, Number],
  [builtins.NUMERIC, Number],
  [builtins.BOOL, (t) => (t === 't' ? 1 : 0)],
  [builtins.TIMESTAMP, sqliteTimestamp],
  [builtins.DATE, asText],
  [builtins.TIMESTAMPTZ, asText],
  [builtins.INTERVAL, asText],
  [builtins.TIME, asText],
  // Nested values are JSON text in SQLite, written compactly (JSON.stringify's form).
  [builtins.JSONB, (t) => JSON.stringify(JSON.parse(t))],
  [builtins.JSON, (t) => JSON.stringify(JSON.parse(t))],
]);

export const pgQueryTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => PARSERS.get(oid) ?? pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

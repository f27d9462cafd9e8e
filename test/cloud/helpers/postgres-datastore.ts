import type pg from 'pg';
import { sqlIdentifier } from '../../../cloud/query/sql-tokenizer.ts';

/**
 * A datastore in contract 6's PostgreSQL layout, built by hand for the query tests and bench: the full
 * record as jsonb, the arrival time and typed columns in a table, read through a view named like the
 * datastore with the columns SQLite's view shows (in the same order) and IoT Analytics' `__dt`.
 */

export type PostgresColumn = readonly [name: string, type: 'text' | 'double precision' | 'boolean' | 'jsonb'];

export interface DatastoreRecord {
  record: Record<string, unknown>;
  arrival: number;
}

/** Rows per INSERT (one array parameter per column). */
const CHUNK = 5000;

export async function createPostgresDatastore(pool: pg.Pool, name: string, columns: readonly PostgresColumn[], rows: readonly DatastoreRecord[]): Promise<void> {
  const table = sqlIdentifier(`__ds_${name}`);
  await pool.query(`CREATE TABLE ${table} (__arrival bigint NOT NULL, __record jsonb NOT NULL, ${columns.map(([c, t]) => `${sqlIdentifier(c)} ${t}`).join(', ')})`);
  const types = ['bigint', 'jsonb', ...columns.map(([, t]) => t)];
  const insert = `INSERT INTO ${table} SELECT * FROM unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;
  for (let from = 0; from < rows.length; from += CHUNK) {
    const chunk = rows.slice(from, from + CHUNK);
    const cell = (row: DatastoreRecord, [c, t]: PostgresColumn) => (t === 'jsonb' && row.record[c] != null ? JSON.stringify(row.record[c]) : (row.record[c] ?? null));
    await pool.query(insert, [chunk.map((r) => r.arrival), chunk.map((r) => JSON.stringify(r.record)), ...columns.map((c) => chunk.map((r) => cell(r, c)))]);
  }
  const dt = `date_trunc('day', TIMESTAMP '1970-01-01 00:00:00' + __arrival * INTERVAL '1 millisecond') AS __dt`;
  await pool.query(`CREATE VIEW ${sqlIdentifier(name)} AS SELECT ${[...columns.map(([c]) => sqlIdentifier(c)), dt].join(', ')} FROM ${table}`);
}

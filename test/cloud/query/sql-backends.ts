import Database from 'better-sqlite3';
import pg from 'pg';
import { translateDatasetSql, type DatasetSqlOptions } from '../../../cloud/query/dataset-sql.ts';
import { POSTGRES } from '../../../cloud/query/postgres-dialect.ts';
import type { Dialect } from '../../../cloud/query/sql-dialect.ts';
import { SQLITE } from '../../../cloud/query/sqlite-dialect.ts';
import { sqlIdentifier } from '../../../cloud/query/sql-tokenizer.ts';
import { PostgresQueries } from '../../../cloud/storage/postgres-query.ts';
import { registerQueryFunctions } from '../../../cloud/storage/sqlite-query-functions.ts';
import { Postgres } from '../helpers/postgres.ts';

/**
 * The dataset SQL suites run on both backends: the same tables (made by hand, in each backend's types:
 * numbers REAL / double precision, text TEXT / text, nested values JSON TEXT / jsonb, as the datastores
 * keep them) and the same queries, with one expected result for both.
 */

export type ColumnKind = 'text' | 'real' | 'json';

export interface TableSpec {
  name: string;
  columns: readonly (readonly [string, ColumnKind])[];
  rows: readonly (readonly unknown[])[];
}

export interface SqlBackend {
  readonly name: string;
  readonly dialect: Dialect;
  /** Translates dataset SQL for this backend and runs it; rows as objects keyed by column name. */
  run(sql: string, options?: Omit<DatasetSqlOptions, 'dialect'>): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

const SQLITE_TYPES: Record<ColumnKind, string> = { text: 'TEXT', real: 'REAL', json: 'TEXT' };
const POSTGRES_TYPES: Record<ColumnKind, string> = { text: 'text', real: 'double precision', json: 'jsonb' };

const create = (t: TableSpec, types: Record<ColumnKind, string>) =>
  `CREATE TABLE ${sqlIdentifier(t.name)} (${t.columns.map(([c, k]) => `${sqlIdentifier(c)} ${types[k]}`).join(', ')})`;

export function sqliteBackend(tables: readonly TableSpec[]): SqlBackend {
  const db = new Database(':memory:');
  registerQueryFunctions(db);
  for (const t of tables) {
    db.exec(create(t, SQLITE_TYPES));
    const insert = db.prepare(`INSERT INTO ${sqlIdentifier(t.name)} VALUES (${t.columns.map(() => '?').join(', ')})`);
    for (const row of t.rows) insert.run(...row);
  }
  return {
    name: 'SQLite',
    dialect: SQLITE,
    run: async (sql, options) => {
      const q = translateDatasetSql(sql, { datastores: tables.map((t) => t.name), ...options });
      return db.prepare(q.sql).all(...q.params) as Record<string, unknown>[];
    },
    close: async () => {
      db.close();
    },
  };
}

export async function postgresBackend(server: Postgres, tables: readonly TableSpec[]): Promise<SqlBackend> {
  const pool = new pg.Pool({ connectionString: await server.createDatabase('sql'), max: 4 });
  // An idle connection ends when the file's server stops after the suite: not a test failure.
  pool.on('error', () => undefined);
  const queries = new PostgresQueries(pool, { maxRows: 100_000, maxBytes: 64 * 1024 * 1024 });
  await queries.prepare();
  for (const t of tables) {
    await pool.query(create(t, POSTGRES_TYPES));
    for (const row of t.rows) {
      await pool.query(`INSERT INTO ${sqlIdentifier(t.name)} VALUES (${t.columns.map((_, i) => `$${i + 1}`).join(', ')})`, [...row]);
    }
  }
  return {
    name: 'PostgreSQL',
    dialect: POSTGRES,
    run: async (sql, options) => {
      const q = translateDatasetSql(sql, { datastores: tables.map((t) => t.name), ...options, dialect: POSTGRES });
      const { columns, rows } = await queries.rows(q, { timeoutMs: 30_000, maxRows: 100_000 });
      return rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
    },
    close: () => pool.end(),
  };
}

export const BACKENDS = ['SQLite', 'PostgreSQL'] as const;
export type BackendName = (typeof BACKENDS)[number];

// One PostgreSQL server per test file (vitest loads this module once per file), started when first asked for.
let server: Promise<Postgres> | undefined;

/** The named backend over these tables; PostgreSQL gets a fresh database on the file's server. */
export async function openBackend(name: BackendName, tables: readonly TableSpec[]): Promise<SqlBackend> {
  if (name === 'SQLite') return sqliteBackend(tables);
  return postgresBackend(await (server ??= Postgres.start()), tables);
}

/** Stops the file's PostgreSQL server, if one was started (call in afterAll). */
export async function stopBackends(): Promise<void> {
  const started = server;
  server = undefined;
  if (started) await (await started).stop();
}

import pg from 'pg';
import { POSTGRES } from '../../../cloud/query/postgres-dialect.ts';
import type { TranslatedQuery } from '../../../cloud/query/query-types.ts';
import { sqlIdentifier } from '../../../cloud/query/sql-tokenizer.ts';
import type { CloudSettings } from '../../../cloud/settings.ts';
import type { CloudStore, DatastoreIndexes, DatastoreRowIn, QueryResult } from '../../../cloud/storage/cloud-store.ts';
import { PostgresQueries } from '../../../cloud/storage/postgres-query.ts';
import { SqliteStore } from '../../../cloud/storage/sqlite-store.ts';
import type { QueryRunnerOptions } from '../../../cloud/storage/sqlite-query-runner.ts';
import { Postgres } from './postgres.ts';

/**
 * The engine with dataset SQL on PostgreSQL, for the dataset suites, until pg-store's PostgresStore is
 * merged: the catalog and channels stay in SQLite, every datastore write is also made in PostgreSQL in
 * contract 6's layout (the record as jsonb, a view with one typed column per attribute in order of
 * appearance, and `__dt`), and checkQuery / runQuery / cancelQueries go to PostgresQueries.
 */

type Kind = 'double precision' | 'text' | 'boolean' | 'jsonb' | '';

const kindOf = (v: unknown): Kind =>
  typeof v === 'number' ? 'double precision' : typeof v === 'string' ? 'text' : typeof v === 'boolean' ? 'boolean' : v !== null && typeof v === 'object' ? 'jsonb' : '';

function column(name: string, kind: Kind): string {
  const key = sqlString(name);
  if (kind === 'jsonb') return `__record -> ${key} AS ${sqlIdentifier(name)}`;
  if (kind === 'text' || kind === '') return `__record ->> ${key} AS ${sqlIdentifier(name)}`;
  return `(__record ->> ${key})::${kind} AS ${sqlIdentifier(name)}`;
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

export class PostgresQueryStore extends SqliteStore {
  override readonly sqlDialect = POSTGRES;
  private pool: pg.Pool | undefined;
  private pgQueries: PostgresQueries | undefined;
  /** Per datastore (lower case): attribute (lower case) → its name and kind, in order of appearance. */
  private readonly columns = new Map<string, Map<string, { name: string; kind: Kind }>>();

  constructor(dir: string, private readonly url: string, private readonly caps: QueryRunnerOptions) {
    super(dir, caps);
  }

  override async open(): Promise<void> {
    await super.open();
    this.pool = new pg.Pool({ connectionString: this.url, max: 4 });
    this.pool.on('error', () => undefined);
    this.pgQueries = new PostgresQueries(this.pool, this.caps);
    await this.pgQueries.prepare();
  }

  override async close(): Promise<void> {
    await this.pgQueries?.cancelAll();
    await this.pool?.end();
    this.pool = this.pgQueries = undefined;
    await super.close();
  }

  private get db(): pg.Pool {
    if (!this.pool) throw new Error('the store is not open');
    return this.pool;
  }

  override async createDatastoreStorage(datastore: string, indexes: DatastoreIndexes): Promise<void> {
    await super.createDatastoreStorage(datastore, indexes);
    await this.db.query(`CREATE TABLE IF NOT EXISTS ${sqlIdentifier(`__ds_${datastore.toLowerCase()}`)} (__arrival bigint NOT NULL, __record jsonb NOT NULL)`);
    if (!this.columns.has(datastore.toLowerCase())) this.columns.set(datastore.toLowerCase(), new Map());
    await this.rebuildView(datastore);
  }

  override async dropDatastoreStorage(datastore: string): Promise<void> {
    await super.dropDatastoreStorage(datastore);
    await this.db.query(`DROP VIEW IF EXISTS ${sqlIdentifier(datastore)}`);
    await this.db.query(`DROP TABLE IF EXISTS ${sqlIdentifier(`__ds_${datastore.toLowerCase()}`)}`);
    this.columns.delete(datastore.toLowerCase());
  }

  override async insertDatastoreRows(datastore: string, rows: readonly DatastoreRowIn[]): Promise<void> {
    await super.insertDatastoreRows(datastore, rows);
    const known = this.columns.get(datastore.toLowerCase()) ?? new Map<string, { name: string; kind: Kind }>();
    this.columns.set(datastore.toLowerCase(), known);
    let changed = false;
    for (const row of rows) {
      for (const [key, value] of Object.entries(row.record)) {
        const seen = known.get(key.toLowerCase());
        if (!seen) {
          known.set(key.toLowerCase(), { name: key, kind: kindOf(value) });
          changed = true;
        } else if (seen.kind === '' && kindOf(value) !== '') {
          seen.kind = kindOf(value);
          changed = true;
        }
      }
    }
    await this.db.query(`INSERT INTO ${sqlIdentifier(`__ds_${datastore.toLowerCase()}`)} SELECT * FROM unnest($1::bigint[], $2::jsonb[])`, [
      rows.map((r) => r.arrival),
      rows.map((r) => JSON.stringify(r.record)),
    ]);
    if (changed) await this.rebuildView(datastore);
  }

  override async expireDatastoreRows(datastore: string, before: number): Promise<number> {
    await this.db.query(`DELETE FROM ${sqlIdentifier(`__ds_${datastore.toLowerCase()}`)} WHERE __arrival < $1`, [before]);
    return super.expireDatastoreRows(datastore, before);
  }

  private async rebuildView(datastore: string): Promise<void> {
    const parts = [...(this.columns.get(datastore.toLowerCase())?.values() ?? [])].map((c) => column(c.name, c.kind));
    parts.push(`date_trunc('day', TIMESTAMP '1970-01-01 00:00:00' + __arrival * INTERVAL '1 millisecond') AS __dt`);
    await this.db.query(`DROP VIEW IF EXISTS ${sqlIdentifier(datastore)}`);
    await this.db.query(`CREATE VIEW ${sqlIdentifier(datastore)} AS SELECT ${parts.join(', ')} FROM ${sqlIdentifier(`__ds_${datastore.toLowerCase()}`)}`);
  }

  override async checkQuery(query: TranslatedQuery): Promise<string | undefined> {
    return this.pgQueries!.check(query);
  }

  override async cancelQueries(): Promise<void> {
    await this.pgQueries?.cancelAll();
  }

  override async runQuery(query: TranslatedQuery, outFile: string, timeoutMs: number): Promise<QueryResult> {
    if (!this.pgQueries) throw new Error('the store is not open');
    return this.pgQueries.run(query, outFile, timeoutMs);
  }
}

/** Engine stores per backend (undefined: the engine's own SQLite store); PostgreSQL on one server per test file. */
export function storesByBackend(): { store(backend: 'SQLite' | 'PostgreSQL'): ((settings: CloudSettings) => Promise<CloudStore>) | undefined; stop(): Promise<void> } {
  let server: Promise<Postgres> | undefined;
  return {
    store: (backend) =>
      backend === 'SQLite'
        ? undefined
        : async (settings) => {
            const url = await (await (server ??= Postgres.start())).createDatabase('engine');
            const caps = { concurrency: settings.queryConcurrency, maxRows: settings.queryResultMaxRows, maxBytes: settings.queryResultMaxBytes };
            return new PostgresQueryStore(settings.dataDir, url, caps);
          },
    stop: async () => (await server)?.stop(),
  };
}

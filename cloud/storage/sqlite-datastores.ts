import type Database from 'better-sqlite3';
import { openWalDatabase } from '../../gateway/sqlite-wal.ts';
import { randomUUID } from 'node:crypto';
import { sqlIdentifier } from '../query/sql-tokenizer.ts';
import type { DatastoreIndexes, DatastoreMark, DatastoreRowIn, SizeStats } from './cloud-store.ts';
import { EXPIRE_CHUNK } from './sqlite-channels.ts';
import { migrateSqlite, type SqliteMigration } from './sqlite-migrations.ts';

/**
 * datastores.sqlite: per datastore a table `__ds_<name>` of typed columns, one per top-level
 * attribute (numbers REAL, strings TEXT, booleans INTEGER, nested values as JSON TEXT), plus the full
 * JSON record and the arrival time; and a view named like the datastore that shows the attributes and
 * IoT Analytics' `__dt` day column. Dataset SQL reads the views, on a separate read-only connection.
 * New attributes add columns as they appear, so no schema has to be declared up front.
 */

/**
 * Attributes indexed when they appear. Time attributes get a plain index. Device attributes get a
 * partial index `(device, ts) WHERE device IS NOT NULL`: a query naming a device uses it, but a
 * whole-table GROUP BY device cannot, so it scans the table in order instead of jumping through
 * the index to rows scattered across the file (measured: 15 s instead of 44 s over 10 million rows).
 */
export const DEFAULT_INDEXES: DatastoreIndexes = { time: ['ts'], device: ['device_id'] };

interface Column {
  name: string;
  type: 'REAL' | 'TEXT' | 'INTEGER' | '';
}

interface DatastoreState {
  table: string;
  columns: Map<string, Column>;
  indexes: DatastoreIndexes;
  insert: Database.Statement | undefined;
  /** Columns in the insert statement's parameter order. */
  order: string[];
}

const tableName = (datastore: string): string => `__ds_${datastore.toLowerCase()}`;

function typeOf(value: unknown): Column['type'] {
  if (typeof value === 'number') return 'REAL';
  if (typeof value === 'string' || (value !== null && typeof value === 'object')) return 'TEXT';
  if (typeof value === 'boolean') return 'INTEGER';
  return '';
}

function toCell(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'object') return JSON.stringify(value);
  return value;
}

function newColumns(state: DatastoreState, rows: readonly DatastoreRowIn[]): Map<string, Column> | undefined {
  let added: Map<string, Column> | undefined;
  for (const row of rows) {
    for (const key of Object.keys(row.record)) {
      const folded = key.toLowerCase();
      if (state.columns.has(folded) || added?.has(folded)) continue;
      (added ??= new Map()).set(folded, { name: key, type: typeOf(row.record[key]) });
    }
  }
  return added;
}

function mergeIndexes(extra: DatastoreIndexes): DatastoreIndexes {
  const merge = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b].map((x) => x.toLowerCase()))];
  return { time: merge(DEFAULT_INDEXES.time, extra.time), device: merge(DEFAULT_INDEXES.device, extra.device) };
}

/** datastores.sqlite's versions, oldest first. Each datastore's own table and view are made at CreateDatastore, not here. */
export const DATASTORE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'datastore indexes and marks',
    apply: (db) => {
      db.exec('CREATE TABLE IF NOT EXISTS __indexed (datastore TEXT PRIMARY KEY, attributes TEXT NOT NULL)');
      // Per datastore: a generation made at create and a count of retention deletes (DatastoreMark).
      db.exec('CREATE TABLE IF NOT EXISTS __marks (datastore TEXT PRIMARY KEY, generation TEXT NOT NULL, removals INTEGER NOT NULL)');
    },
  },
];

export class SqliteDatastores {
  private readonly db: Database.Database;
  private readonly states = new Map<string, DatastoreState>();

  constructor(readonly file: string) {
    this.db = openWalDatabase(file);
    this.db.pragma('synchronous = NORMAL');
    try {
      migrateSqlite(this.db, file, DATASTORE_MIGRATIONS);
    } catch (e) {
      this.db.close();
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  /** The connection channel tables share, so an ingest commits channel and datastore rows together. */
  get database(): Database.Database {
    return this.db;
  }

  /** Drops cached columns after a rolled-back transaction (they may name columns that were undone). */
  forget(): void {
    this.states.clear();
  }

  create(datastore: string, indexes: DatastoreIndexes): void {
    const table = sqlIdentifier(tableName(datastore));
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (__arrival INTEGER NOT NULL, __record TEXT NOT NULL)`);
    this.db.exec(`CREATE INDEX IF NOT EXISTS ${sqlIdentifier(`${tableName(datastore)}__arrival`)} ON ${table} (__arrival)`);
    this.db
      .prepare('INSERT INTO __indexed (datastore, attributes) VALUES (?, ?) ON CONFLICT (datastore) DO UPDATE SET attributes = excluded.attributes')
      .run(datastore.toLowerCase(), JSON.stringify(mergeIndexes(indexes)));
    this.states.delete(datastore.toLowerCase());
    this.rebuildView(this.state(datastore));
    this.newGeneration(datastore);
  }

  private newGeneration(datastore: string): void {
    this.db
      .prepare('INSERT INTO __marks (datastore, generation, removals) VALUES (?, ?, 0) ON CONFLICT (datastore) DO UPDATE SET generation = excluded.generation, removals = 0')
      .run(datastore.toLowerCase(), randomUUID());
  }

  drop(datastore: string): void {
    this.db.exec(`DROP VIEW IF EXISTS ${sqlIdentifier(datastore)}`);
    this.db.exec(`DROP TABLE IF EXISTS ${sqlIdentifier(tableName(datastore))}`);
    this.db.prepare('DELETE FROM __indexed WHERE datastore = ?').run(datastore.toLowerCase());
    this.db.prepare('DELETE FROM __marks WHERE datastore = ?').run(datastore.toLowerCase());
    this.states.delete(datastore.toLowerCase());
  }

  private state(datastore: string): DatastoreState {
    const key = datastore.toLowerCase();
    let state = this.states.get(key);
    if (state) return state;
    const table = tableName(datastore);
    const info = this.db.prepare(`SELECT name, type FROM pragma_table_info(?)`).all(table) as { name: string; type: string }[];
    const columns = new Map<string, Column>();
    for (const column of info) {
      if (column.name.startsWith('__')) continue;
      columns.set(column.name.toLowerCase(), { name: column.name, type: column.type as Column['type'] });
    }
    const indexedRow = this.db.prepare('SELECT attributes FROM __indexed WHERE datastore = ?').get(key) as { attributes: string } | undefined;
    state = { table, columns, indexes: indexedRow ? (JSON.parse(indexedRow.attributes) as DatastoreIndexes) : DEFAULT_INDEXES, insert: undefined, order: [] };
    this.states.set(key, state);
    return state;
  }

  /** The view keeps the datastore's own name, so dataset SQL reads `FROM weather` as in IoT Analytics. */
  private rebuildView(state: DatastoreState, datastore = state.table.slice(5)): void {
    const columns = [...state.columns.values()].map((c) => sqlIdentifier(c.name));
    const dt = `strftime('%Y-%m-%d 00:00:00.000', __arrival / 1000, 'unixepoch') AS __dt`;
    this.db.exec(`DROP VIEW IF EXISTS ${sqlIdentifier(datastore)}`);
    this.db.exec(`CREATE VIEW ${sqlIdentifier(datastore)} AS SELECT ${[...columns, dt].join(', ')} FROM ${sqlIdentifier(state.table)}`);
  }

  private addColumns(state: DatastoreState, added: Column[], datastore: string): void {
    this.db.transaction(() => {
      for (const column of added) {
        this.db.exec(`ALTER TABLE ${sqlIdentifier(state.table)} ADD COLUMN ${sqlIdentifier(column.name)} ${column.type}`);
        state.columns.set(column.name.toLowerCase(), column);
      }
      this.createIndexes(state);
      this.rebuildView(state, datastore);
    })();
    state.insert = undefined;
  }

  /** Creates the indexes whose columns now exist (idempotent). */
  private createIndexes(state: DatastoreState): void {
    const table = sqlIdentifier(state.table);
    const column = (name: string) => state.columns.get(name)?.name;
    for (const name of state.indexes.time) {
      const c = column(name);
      if (c) this.db.exec(`CREATE INDEX IF NOT EXISTS ${sqlIdentifier(`${state.table}_${name}`)} ON ${table} (${sqlIdentifier(c)})`);
    }
    const time = state.indexes.time.map(column).find((c) => c !== undefined);
    for (const name of state.indexes.device) {
      const c = column(name);
      if (!c) continue;
      // Named by whether the time column was there: once it appears, the (device, time) index follows.
      // It also carries the numeric attributes known when it is made (all of them, when they come in the
      // first batch): a per-device aggregation over time, such as the weather page's year of one
      // station, then reads only the index, in order, instead of one scattered table row per record
      // (measured in test/bench/weather-series.bench.ts). Attributes that appear later are read from the table.
      const covered = time ? [...state.columns.values()].filter((x) => (x.type === 'REAL' || x.type === 'INTEGER') && x.name !== c && x.name !== time).map((x) => x.name) : [];
      const parts = time ? [c, time, ...covered] : [c];
      const indexName = sqlIdentifier(`${state.table}_${name}${time ? '_by_time' : ''}`);
      this.db.exec(`CREATE INDEX IF NOT EXISTS ${indexName} ON ${table} (${parts.map(sqlIdentifier).join(', ')}) WHERE ${sqlIdentifier(c)} IS NOT NULL`);
    }
  }

  insert(datastore: string, rows: readonly DatastoreRowIn[]): void {
    let state = this.state(datastore);
    let added = newColumns(state, rows);
    if (added) {
      // Another process on this file may have added them already: read the columns afresh first.
      this.states.delete(datastore.toLowerCase());
      state = this.state(datastore);
      added = newColumns(state, rows);
    }
    if (added) this.addColumns(state, [...added.values()], datastore);
    if (!state.insert) {
      state.order = [...state.columns.keys()];
      const names = ['__arrival', '__record', ...state.order.map((k) => state.columns.get(k)!.name)].map(sqlIdentifier);
      state.insert = this.db.prepare(`INSERT INTO ${sqlIdentifier(state.table)} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`);
    }
    const insert = state.insert;
    const width = state.order.length + 2;
    const index = new Map(state.order.map((k, i) => [k, i + 2]));
    this.db.transaction(() => {
      const values: unknown[] = new Array<unknown>(width);
      for (const row of rows) {
        values.fill(null);
        values[0] = row.arrival;
        values[1] = JSON.stringify(row.record);
        for (const key in row.record) {
          const at = index.get(key) ?? index.get(key.toLowerCase());
          if (at !== undefined) values[at] = toCell(row.record[key]);
        }
        insert.run(values);
      }
    })();
  }

  stats(datastore: string, withSize: boolean): SizeStats {
    const table = sqlIdentifier(tableName(datastore));
    const last = this.db.prepare(`SELECT max(__arrival) AS last FROM ${table}`).get() as { last: number | null };
    const counted = withSize
      ? (this.db.prepare(`SELECT count(*) AS count, coalesce(sum(length(__record)), 0) AS size FROM ${table}`).get() as { count: number; size: number })
      : { count: 0, size: 0 };
    return { sizeBytes: counted.size, count: counted.count, ...(last.last === null ? {} : { lastArrival: last.last }) };
  }

  expire(datastore: string, before: number): number {
    const table = sqlIdentifier(tableName(datastore));
    const remove = this.db.prepare(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE __arrival < ? LIMIT ${EXPIRE_CHUNK})`);
    let total = 0;
    for (;;) {
      const changes = remove.run(before).changes;
      total += changes;
      if (changes < EXPIRE_CHUNK) break;
    }
    if (total > 0) this.db.prepare('UPDATE __marks SET removals = removals + 1 WHERE datastore = ?').run(datastore.toLowerCase());
    return total;
  }

  mark(datastore: string, timeAttribute: string): DatastoreMark {
    const table = sqlIdentifier(tableName(datastore));
    const key = datastore.toLowerCase();
    let row = this.db.prepare('SELECT generation, removals FROM __marks WHERE datastore = ?').get(key) as { generation: string; removals: number } | undefined;
    if (!row) {
      // A datastore made before marks existed gets its first generation now: no earlier content matches it.
      this.newGeneration(datastore);
      row = this.db.prepare('SELECT generation, removals FROM __marks WHERE datastore = ?').get(key) as { generation: string; removals: number };
    }
    const last = this.db.prepare(`SELECT max(__arrival) AS last FROM ${table}`).get() as { last: number | null };
    const column = this.state(datastore).columns.get(timeAttribute.toLowerCase());
    // Text and blobs sort after every number, and in a numeric column `>= ''` compares as text: one
    // seek of the time index finds any non-numeric value.
    const numericTime =
      column !== undefined &&
      (column.type === 'REAL' || column.type === 'INTEGER') &&
      this.db.prepare(`SELECT 1 FROM ${table} WHERE ${sqlIdentifier(column.name)} >= '' LIMIT 1`).get() === undefined;
    return { generation: row.generation, removals: row.removals, numericTime, ...(last.last === null ? {} : { lastArrival: last.last }) };
  }

  arrivedKeys(datastore: string, attributes: { device: string; time: string }, since: number, limit: number): [unknown, unknown][] {
    const state = this.state(datastore);
    const column = (name: string) => {
      const c = state.columns.get(name.toLowerCase());
      return c ? sqlIdentifier(c.name) : 'NULL';
    };
    const sql = `SELECT DISTINCT ${column(attributes.device)}, ${column(attributes.time)} FROM ${sqlIdentifier(state.table)} WHERE __arrival >= ? LIMIT ?`;
    return this.db.prepare(sql).raw(true).all(since, limit) as [unknown, unknown][];
  }
}

import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { InvalidRequestException } from '../engine/errors.ts';
import { sqlIdentifier } from '../query/sql-tokenizer.ts';
import type { DatastoreIndexes, DatastoreMark, DatastoreRowIn, SizeStats } from './cloud-store.ts';
import { SqlParams } from './postgres-statement.ts';
import { inTransaction, type Queryable } from './postgres-transaction.ts';
import { EXPIRE_CHUNK } from './sqlite-channels.ts';
import { DEFAULT_INDEXES } from './sqlite-datastores.ts';

/**
 * Datastore storage on PostgreSQL (contract 6).
 *
 * Per datastore a table `__ds_<name>` holds each row's full record as jsonb (`__record`), its arrival
 * (`__arrival bigint`) and, as real typed columns with indexes, only the indexed attributes
 * (DatastoreIndexes: time + device). Every other attribute lives only in the jsonb, so a new attribute
 * never alters the table: it adds a row to datastore_attributes (name, type, position) and the VIEW
 * named like the datastore (folded to lower case) gets one more column, a typed expression over the
 * jsonb, after the others and before `__dt`: exactly SQLite's columns in SQLite's order (of appearance).
 * As `__dt` stays last, the view is dropped and made again in the catalog's transaction rather than
 * CREATE OR REPLACE'd (which may only append); so no other view may depend on a datastore's view.
 *
 * Column types come from an attribute's first non-null value: number -> double precision,
 * string -> text, boolean -> boolean, object/array -> jsonb. An attribute seen only as null so far is
 * 'untyped' (SQLite gives such a column no affinity): its view column is NULL as double precision, so
 * max(), avg() and arithmetic over it work; its first non-null value fixes its type in the catalog and
 * rebuilds the view (under the datastore's lock), and as the view reads `__record` every stored row shows
 * in the new type (SQLite's column stays untyped and keeps each later value's own type). Not migrated:
 * a database written before this rule keeps a null-first attribute as jsonb. A later value of another
 * JSON type never fails a query; the view shows what SQLite's column affinity would, where it can:
 * - number column: booleans as 1/0, numeric strings as numbers; other strings and objects NULL
 *   (SQLite keeps them as text in the REAL column).
 * - text column: numbers as their JSON text, booleans '1'/'0', objects as JSON text.
 * - boolean column: numbers as <> 0; anything else NULL (SQLite shows the value itself).
 * Attribute names match the record's keys exactly (SQLite folds case when filling a column).
 *
 * At most MAX_ATTRIBUTES attributes per datastore get a view column; later ones stay in the jsonb
 * only, with a process warning naming the datastore. Two workers may meet a new attribute at once, so
 * the catalog and view change run in one transaction under an advisory lock on the datastore.
 */

/** View columns per datastore; beyond this an attribute is kept in `__record` only. */
export const MAX_ATTRIBUTES = 1000;

type AttributeType = 'number' | 'string' | 'boolean' | 'json' | 'untyped';

interface Attribute {
  name: string;
  type: AttributeType;
  /** A real column of the table (an indexed attribute), not only an expression over the jsonb. */
  column: boolean;
}

interface DatastoreState {
  indexes: DatastoreIndexes;
  attributes: Map<string, Attribute>;
  warned: boolean;
}

const tableName = (datastore: string): string => `__ds_${datastore.toLowerCase()}`;
const viewName = (datastore: string): string => datastore.toLowerCase();

function typeOf(value: unknown): AttributeType {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'boolean';
  if (value === null || value === undefined) return 'untyped';
  return 'json';
}

// An untyped attribute has no real column (it gets one when typed); double precision is the type its
// NULLs show as in the view, the one aggregates and arithmetic accept.
const SQL_TYPE: Record<AttributeType, string> = { number: 'double precision', string: 'text', boolean: 'boolean', json: 'jsonb', untyped: 'double precision' };
const NUMERIC_TEXT = String.raw`'^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$'`;

/** The attribute's typed value from a jsonb record; never fails on a value of another JSON type. */
function typedExpression(record: string, attribute: Attribute): string {
  const j = `(${record} -> ${sqlLiteral(attribute.name)})`;
  switch (attribute.type) {
    case 'number':
      return `CASE jsonb_typeof(${j}) WHEN 'number' THEN ${j}::double precision WHEN 'boolean' THEN CASE WHEN ${j}::boolean THEN 1::double precision ELSE 0 END `
        + `WHEN 'string' THEN CASE WHEN (${j} #>> '{}') ~ ${NUMERIC_TEXT} THEN (${j} #>> '{}')::double precision END END`;
    case 'string':
      return `CASE jsonb_typeof(${j}) WHEN 'null' THEN NULL WHEN 'string' THEN ${j} #>> '{}' WHEN 'boolean' THEN CASE WHEN ${j}::boolean THEN '1' ELSE '0' END ELSE ${j}::text END`;
    case 'boolean':
      return `CASE jsonb_typeof(${j}) WHEN 'boolean' THEN ${j}::boolean WHEN 'number' THEN ${j}::double precision <> 0 END`;
    case 'json':
      return `CASE WHEN jsonb_typeof(${j}) <> 'null' THEN ${j} END`;
    case 'untyped':
      return 'NULL::double precision';
  }
}

function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

function mergeIndexes(extra: DatastoreIndexes): DatastoreIndexes {
  const merge = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b].map((x) => x.toLowerCase()))];
  return { time: merge(DEFAULT_INDEXES.time, extra.time), device: merge(DEFAULT_INDEXES.device, extra.device) };
}

export class PostgresDatastores {
  private readonly states = new Map<string, DatastoreState>();

  constructor(private readonly pool: pg.Pool) {}

  async create(datastore: string, indexes: DatastoreIndexes): Promise<void> {
    const table = sqlIdentifier(tableName(datastore));
    await this.transaction(async (db) => {
      if ((await this.viewKind(db, datastore)) === 'other') {
        // Views share the schema with Hedgerow's own tables (resources, tags, alerts, ...).
        throw new InvalidRequestException(`Datastore name "${datastore}" is taken by one of Hedgerow's own tables on PostgreSQL; choose another name, e.g. "${datastore}_datastore".`);
      }
      await this.lock(db, datastore);
      await db.query(`CREATE TABLE IF NOT EXISTS ${table} (__seq bigserial PRIMARY KEY, __arrival bigint NOT NULL, __record jsonb NOT NULL)`);
      await db.query(`CREATE INDEX IF NOT EXISTS ${sqlIdentifier(`${tableName(datastore)}__arrival`)} ON ${table} (__arrival)`);
      await db.query('INSERT INTO datastore_indexes (datastore, indexes) VALUES ($1, $2) ON CONFLICT (datastore) DO UPDATE SET indexes = excluded.indexes', [
        datastore.toLowerCase(), JSON.stringify(mergeIndexes(indexes)),
      ]);
      this.states.delete(datastore.toLowerCase());
      await this.rebuildView(db, datastore, await this.load(db, datastore));
      await this.newGeneration(db, datastore);
    });
  }

  private async newGeneration(db: Queryable, datastore: string): Promise<void> {
    await db.query(
      'INSERT INTO datastore_marks (datastore, generation, removals) VALUES ($1, $2, 0) ON CONFLICT (datastore) DO UPDATE SET generation = excluded.generation, removals = 0',
      [datastore.toLowerCase(), randomUUID()],
    );
  }

  /** DatastoreMark (cloud-store.ts), as SQLite's: the marks row, max(__arrival), and whether the time attribute is numbers only. */
  async mark(datastore: string, timeAttribute: string): Promise<DatastoreMark> {
    const key = datastore.toLowerCase();
    const table = sqlIdentifier(tableName(datastore));
    let row = (await this.pool.query<{ generation: string; removals: number }>('SELECT generation, removals FROM datastore_marks WHERE datastore = $1', [key])).rows[0];
    if (!row) {
      await this.newGeneration(this.pool, datastore);
      row = (await this.pool.query<{ generation: string; removals: number }>('SELECT generation, removals FROM datastore_marks WHERE datastore = $1', [key])).rows[0]!;
    }
    const last = (await this.pool.query<{ last: string | null }>(`SELECT max(__arrival) AS last FROM ${table}`)).rows[0]!.last;
    const state = await this.load(this.pool, datastore);
    const attribute = state.attributes.get(timeAttribute.toLowerCase());
    // Numbers only when the attribute's column is a number and no stored value of it is of another JSON
    // type. An indexed (real) column holds NULL for such a value, so its index finds one; an attribute
    // kept only in the jsonb has to be scanned for one.
    let numericTime = attribute !== undefined && attribute.type === 'number';
    if (numericTime && attribute) {
      const value = `__record -> ${sqlLiteral(attribute.name)}`;
      const where = attribute.column
        ? `${sqlIdentifier(attribute.name)} IS NULL AND jsonb_typeof(${value}) NOT IN ('null')`
        : `jsonb_typeof(${value}) NOT IN ('number', 'null')`;
      numericTime = (await this.pool.query(`SELECT 1 FROM ${table} WHERE ${where} LIMIT 1`)).rowCount === 0;
    }
    return { generation: row.generation, removals: row.removals, numericTime, ...(last === null ? {} : { lastArrival: Number(last) }) };
  }

  /** The distinct [device, time] values, as the view shows them, of rows that arrived at or after `since` (its __arrival index). */
  async arrivedKeys(datastore: string, attributes: { device: string; time: string }, since: number, limit: number): Promise<[unknown, unknown][]> {
    const state = await this.load(this.pool, datastore);
    const expression = (name: string) => {
      const attribute = state.attributes.get(name.toLowerCase());
      if (!attribute) return 'NULL';
      return attribute.column ? sqlIdentifier(attribute.name) : typedExpression('__record', attribute);
    };
    const { rows } = await this.pool.query<{ device: unknown; time: unknown }>({
      text: `SELECT DISTINCT ${expression(attributes.device)} AS device, ${expression(attributes.time)} AS time FROM ${sqlIdentifier(tableName(datastore))} WHERE __arrival >= $1 LIMIT $2`,
      values: [since, limit],
    });
    return rows.map((r) => [r.device, r.time]);
  }

  async drop(datastore: string): Promise<void> {
    await this.transaction(async (db) => {
      await this.lock(db, datastore);
      await db.query(`DROP VIEW IF EXISTS ${sqlIdentifier(viewName(datastore))}`);
      await db.query(`DROP TABLE IF EXISTS ${sqlIdentifier(tableName(datastore))}`);
      await db.query('DELETE FROM datastore_indexes WHERE datastore = $1', [datastore.toLowerCase()]);
      await db.query('DELETE FROM datastore_attributes WHERE datastore = $1', [datastore.toLowerCase()]);
      await db.query('DELETE FROM datastore_marks WHERE datastore = $1', [datastore.toLowerCase()]);
    });
    this.states.delete(datastore.toLowerCase());
  }

  async insert(datastore: string, rows: readonly DatastoreRowIn[]): Promise<void> {
    if (rows.length === 0) return;
    const params = new SqlParams();
    await this.pool.query(await this.insertSql(datastore, rows, params), params.values);
  }

  /** The INSERT of `rows` (not empty), for insert() or commitIngest's one statement; new attributes join the catalog first, in their own transaction. */
  async insertSql(datastore: string, rows: readonly DatastoreRowIn[], params: SqlParams): Promise<string> {
    const key = datastore.toLowerCase();
    let state = this.states.get(key) ?? (await this.load(this.pool, datastore));
    // New attributes, and untyped ones (null so far) that this batch gives a first non-null value.
    const added = new Map<string, Attribute>();
    for (const row of rows) {
      for (const name of Object.keys(row.record)) {
        const folded = name.toLowerCase();
        const type = typeOf(row.record[name]);
        const known = state.attributes.get(folded);
        if (known && (known.type !== 'untyped' || type === 'untyped')) continue;
        const seen = added.get(folded);
        if (!seen) added.set(folded, { name: known?.name ?? name, type, column: false });
        else if (seen.type === 'untyped') seen.type = type;
      }
    }
    if (added.size > 0) state = await this.addAttributes(datastore, state, [...added.values()]);
    const columns = [...state.attributes.values()].filter((a) => a.column);
    const names = ['__arrival', '__record', ...columns.map((a) => a.name)].map(sqlIdentifier);
    const values = ['a', 'r', ...columns.map((a) => typedExpression('r', a))];
    const [arrivals, records] = [rows.map((r) => r.arrival), rows.map((r) => JSON.stringify(r.record))].map((v) => params.add(v));
    return `INSERT INTO ${sqlIdentifier(tableName(datastore))} (${names.join(', ')})
       SELECT ${values.join(', ')} FROM unnest(${arrivals}::bigint[], ${records}::jsonb[]) WITH ORDINALITY AS t(a, r, ord) ORDER BY ord`;
  }

  async stats(datastore: string, withSize: boolean): Promise<SizeStats> {
    const table = sqlIdentifier(tableName(datastore));
    const { rows } = await this.pool.query<{ last: string | null; count: string; size: string }>(
      withSize
        ? `SELECT max(__arrival) AS last, count(*) AS count, coalesce(sum(length(__record::text)), 0) AS size FROM ${table}`
        : `SELECT max(__arrival) AS last, 0 AS count, 0 AS size FROM ${table}`,
    );
    const row = rows[0]!;
    return { sizeBytes: Number(row.size), count: Number(row.count), ...(row.last === null ? {} : { lastArrival: Number(row.last) }) };
  }

  async expire(datastore: string, before: number): Promise<number> {
    const table = sqlIdentifier(tableName(datastore));
    let total = 0;
    for (;;) {
      const { rowCount } = await this.pool.query(`DELETE FROM ${table} WHERE __seq IN (SELECT __seq FROM ${table} WHERE __arrival < $1 LIMIT ${EXPIRE_CHUNK})`, [before]);
      total += rowCount ?? 0;
      if ((rowCount ?? 0) < EXPIRE_CHUNK) break;
    }
    if (total > 0) await this.pool.query('UPDATE datastore_marks SET removals = removals + 1 WHERE datastore = $1', [datastore.toLowerCase()]);
    return total;
  }

  private transaction<T>(work: (db: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  /**
   * Serialises catalog changes to one datastore across workers, then locks its view (and, through it, its
   * table) before any DDL: a reader locks the view first and the table second, so a change that altered
   * the table first and then dropped the view deadlocked with a query in flight (seen with two engines).
   */
  private async lock(db: Queryable, datastore: string): Promise<void> {
    await db.query("SELECT pg_advisory_xact_lock(hashtext('hedgerow datastore ' || $1))", [datastore.toLowerCase()]);
    if ((await this.viewKind(db, datastore)) === 'view') await db.query(`LOCK TABLE ${sqlIdentifier(viewName(datastore))} IN ACCESS EXCLUSIVE MODE`);
  }

  /** Whether the datastore's view name is free, its view, or something else of that name. */
  private async viewKind(db: Queryable, datastore: string): Promise<'none' | 'view' | 'other'> {
    const { rows } = await db.query<{ relkind: string }>('SELECT relkind FROM pg_class WHERE oid = to_regclass($1)', [sqlIdentifier(viewName(datastore))]);
    return rows.length === 0 ? 'none' : rows[0]!.relkind === 'v' ? 'view' : 'other';
  }

  /** Reads the catalog: another worker may have added attributes since this process last looked. */
  private async load(db: Queryable, datastore: string): Promise<DatastoreState> {
    const key = datastore.toLowerCase();
    const indexRow = (await db.query<{ indexes: DatastoreIndexes }>('SELECT indexes FROM datastore_indexes WHERE datastore = $1', [key])).rows[0];
    const attributes = new Map<string, Attribute>();
    const { rows } = await db.query<{ folded: string; name: string; type: AttributeType }>(
      'SELECT folded, name, type FROM datastore_attributes WHERE datastore = $1 ORDER BY position', [key],
    );
    const indexes = indexRow?.indexes ?? DEFAULT_INDEXES;
    const indexed = new Set([...indexes.time, ...indexes.device]);
    for (const row of rows) attributes.set(row.folded, { name: row.name, type: row.type, column: indexed.has(row.folded) && row.type !== 'untyped' });
    const state: DatastoreState = { indexes, attributes, warned: this.states.get(key)?.warned ?? false };
    this.states.set(key, state);
    return state;
  }

  private async addAttributes(datastore: string, cached: DatastoreState, added: Attribute[]): Promise<DatastoreState> {
    const key = datastore.toLowerCase();
    const table = tableName(datastore);
    return this.transaction(async (db) => {
      await this.lock(db, datastore);
      const state = await this.load(db, datastore);
      state.warned = cached.warned;
      const indexed = new Set([...state.indexes.time, ...state.indexes.device]);
      // Another worker may have typed it first: then its type stands, as the first non-null value's.
      const typed = added.filter((a) => a.type !== 'untyped' && state.attributes.get(a.name.toLowerCase())?.type === 'untyped');
      for (const attribute of typed) await this.fixType(db, datastore, state, attribute, indexed);
      const fresh = added.filter((a) => !state.attributes.has(a.name.toLowerCase()));
      if (fresh.length === 0 && typed.length === 0) return state;
      let dropped = 0;
      for (const attribute of fresh) {
        if (state.attributes.size >= MAX_ATTRIBUTES) {
          dropped += 1;
          continue;
        }
        const folded = attribute.name.toLowerCase();
        const column = indexed.has(folded) && attribute.type !== 'untyped';
        await db.query('INSERT INTO datastore_attributes (datastore, folded, name, type, position) VALUES ($1, $2, $3, $4, $5)', [
          key, folded, attribute.name, attribute.type, state.attributes.size,
        ]);
        state.attributes.set(folded, { ...attribute, column });
        if (column) {
          await db.query(`ALTER TABLE ${sqlIdentifier(table)} ADD COLUMN IF NOT EXISTS ${sqlIdentifier(attribute.name)} ${SQL_TYPE[attribute.type]}`);
        }
      }
      if (dropped > 0 && !state.warned) {
        state.warned = true;
        process.emitWarning(`datastore ${datastore} has more than ${MAX_ATTRIBUTES} attributes: ${dropped} new ones are kept in the record only, not as columns of its view`);
      }
      await this.createIndexes(db, table, state);
      await this.rebuildView(db, datastore, state);
      return state;
    });
  }

  /** Records an untyped attribute's first non-null type; an indexed one gets its real column now (its stored values are all NULL). */
  private async fixType(db: Queryable, datastore: string, state: DatastoreState, attribute: Attribute, indexed: ReadonlySet<string>): Promise<void> {
    const folded = attribute.name.toLowerCase();
    const known = state.attributes.get(folded)!;
    await db.query('UPDATE datastore_attributes SET type = $3 WHERE datastore = $1 AND folded = $2', [datastore.toLowerCase(), folded, attribute.type]);
    const column = indexed.has(folded);
    state.attributes.set(folded, { name: known.name, type: attribute.type, column });
    if (column) {
      await db.query(`ALTER TABLE ${sqlIdentifier(tableName(datastore))} ADD COLUMN IF NOT EXISTS ${sqlIdentifier(known.name)} ${SQL_TYPE[attribute.type]}`);
    }
  }

  /** A plain index on each time column; a partial (device, time) index on each device column, as in SQLite. */
  private async createIndexes(db: Queryable, table: string, state: DatastoreState): Promise<void> {
    const column = (name: string) => (state.attributes.get(name)?.column ? state.attributes.get(name)!.name : undefined);
    for (const name of state.indexes.time) {
      const c = column(name);
      if (c) await db.query(`CREATE INDEX IF NOT EXISTS ${sqlIdentifier(`${table}_${name}`)} ON ${sqlIdentifier(table)} (${sqlIdentifier(c)})`);
    }
    const time = state.indexes.time.map(column).find((c) => c !== undefined);
    for (const name of state.indexes.device) {
      const c = column(name);
      if (!c) continue;
      const parts = time ? [c, time] : [c];
      await db.query(
        `CREATE INDEX IF NOT EXISTS ${sqlIdentifier(`${table}_${name}${time ? '_by_time' : ''}`)} ON ${sqlIdentifier(table)} (${parts.map(sqlIdentifier).join(', ')}) WHERE ${sqlIdentifier(c)} IS NOT NULL`,
      );
    }
  }

  private async rebuildView(db: Queryable, datastore: string, state: DatastoreState): Promise<void> {
    const columns = [...state.attributes.values()].map((a) => `${a.column ? sqlIdentifier(a.name) : typedExpression('__record', a)} AS ${sqlIdentifier(a.name)}`);
    const dt = `to_char(timezone('UTC', to_timestamp(__arrival / 1000)), 'YYYY-MM-DD "00:00:00.000"') AS __dt`;
    // Dropped and made again in the caller's transaction (readers see the old view or the new one):
    // CREATE OR REPLACE could only append after __dt, and SQLite's view keeps __dt last.
    await db.query(`DROP VIEW IF EXISTS ${sqlIdentifier(viewName(datastore))}`);
    await db.query(`CREATE VIEW ${sqlIdentifier(viewName(datastore))} AS SELECT ${[...columns, dt].join(', ')} FROM ${sqlIdentifier(tableName(datastore))}`);
  }
}

import type Database from 'better-sqlite3';
import { openWalDatabase } from '../../gateway/sqlite-wal.ts';
import type { Tag } from '../engine/engine.ts';
import type { ContentBody, ContentRecord, ReprocessingRecord, ResourceRecord, ResourceType, ShadowRecord, ThingRecord } from './cloud-store.ts';
import { chunkedBody, contentGone, fileChunks } from './content-chunks.ts';
import { adoptContentFiles } from './sqlite-content-adoption.ts';
import { migrateSqlite, type SqliteMigration } from './sqlite-migrations.ts';
import { createPublishedCollectionTables } from './sqlite-published-collections.ts';
import { createSecretTables } from './sqlite-secrets.ts';

/**
 * catalog.sqlite: resource definitions, tags, settings, dataset content versions and their CSV
 * bodies, reprocessing runs, the device registry and shadows (and, in tables other parts keep,
 * secrets, alert state and published collections). Small tables (and 1 MiB body chunks),
 * read and written through prepared statements. Its schema is versioned (CATALOG_MIGRATIONS).
 */

/** Version 1: the schema as it was before versioning, word for word (IF NOT EXISTS), so an old file is recognised unchanged. */
const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS resources (
  type TEXT NOT NULL, name TEXT NOT NULL, folded TEXT NOT NULL, definition TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (type, folded));
CREATE TABLE IF NOT EXISTS tags (arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (arn, key));
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contents (
  dataset TEXT NOT NULL, version TEXT NOT NULL, creation_time INTEGER NOT NULL, record TEXT NOT NULL,
  PRIMARY KEY (dataset, version));
CREATE INDEX IF NOT EXISTS contents_by_time ON contents (dataset, creation_time);
CREATE TABLE IF NOT EXISTS reprocessings (id TEXT PRIMARY KEY, pipeline TEXT NOT NULL, creation_time INTEGER NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS reprocessings_by_pipeline ON reprocessings (pipeline, creation_time);
CREATE TABLE IF NOT EXISTS things (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS shadows (name TEXT PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS leases (key TEXT PRIMARY KEY, holder TEXT NOT NULL, expires INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS claims (key TEXT PRIMARY KEY, claimed_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS claims_by_time ON claims (claimed_at);
`;

/** catalog.sqlite's versions, oldest first (the dataDir is where version 2 finds the old content files). */
export function catalogMigrations(dataDir: string): SqliteMigration[] {
  return [
    { version: 1, name: 'catalog', apply: (db) => void db.exec(SCHEMA_V1) },
    {
      version: 2,
      name: 'dataset content bodies',
      apply: (db) => {
        db.exec('CREATE TABLE content_chunks (dataset TEXT NOT NULL, version TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (dataset, version, seq))');
        return adoptContentFiles(db, dataDir);
      },
    },
    { version: 3, name: 'API credentials, token key and alert state', apply: createSecretTables },
    { version: 4, name: 'published museum collections', apply: createPublishedCollectionTables },
  ];
}

/** claimOnce keys are kept this long: a schedule trigger is never retried later than that. */
const CLAIM_KEEP_MS = 7 * 24 * 3600_000;

interface ResourceRow {
  type: ResourceType;
  name: string;
  definition: string;
  created_at: number;
  updated_at: number;
}

function toRecord<D>(row: ResourceRow): ResourceRecord<D> {
  return { type: row.type, name: row.name, definition: JSON.parse(row.definition) as D, createdAt: row.created_at, updatedAt: row.updated_at };
}

export class SqliteCatalog {
  private readonly db: Database.Database;

  constructor(file: string, dataDir: string) {
    this.db = openWalDatabase(file);
    this.db.pragma('synchronous = NORMAL');
    try {
      migrateSqlite(this.db, file, catalogMigrations(dataDir));
    } catch (e) {
      this.db.close();
      throw e;
    }
  }

  close(): void {
    this.db.close();
  }

  /** The connection, for the tables other parts keep in catalog.sqlite (sqlite-secrets.ts). */
  get database(): Database.Database {
    return this.db;
  }

  private readonly statements = new Map<string, Database.Statement>();

  /** Prepared once per SQL text: every API call reads the catalog, so preparing each time would add up. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  getResource<D>(type: ResourceType, name: string): ResourceRecord<D> | undefined {
    const row = this.sql('SELECT * FROM resources WHERE type = ? AND folded = ?').get(type, name.toLowerCase()) as ResourceRow | undefined;
    return row ? toRecord<D>(row) : undefined;
  }

  listResources<D>(type: ResourceType, after: string | undefined, limit: number): ResourceRecord<D>[] {
    const rows = this
      .sql('SELECT * FROM resources WHERE type = ? AND name > ? ORDER BY name LIMIT ?')
      .all(type, after ?? '', limit) as ResourceRow[];
    return rows.map((row) => toRecord<D>(row));
  }

  insertResource(record: ResourceRecord): boolean {
    const result = this
      .sql('INSERT OR IGNORE INTO resources (type, name, folded, definition, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(record.type, record.name, record.name.toLowerCase(), JSON.stringify(record.definition), record.createdAt, record.updatedAt);
    return result.changes === 1;
  }

  updateResource(type: ResourceType, name: string, definition: unknown, updatedAt: number): boolean {
    const result = this
      .sql('UPDATE resources SET definition = ?, updated_at = ? WHERE type = ? AND folded = ?')
      .run(JSON.stringify(definition), updatedAt, type, name.toLowerCase());
    return result.changes === 1;
  }

  deleteResource(type: ResourceType, name: string): boolean {
    return this.sql('DELETE FROM resources WHERE type = ? AND folded = ?').run(type, name.toLowerCase()).changes === 1;
  }

  getTags(arn: string): Tag[] {
    return this.sql('SELECT key, value FROM tags WHERE arn = ? ORDER BY key').all(arn) as Tag[];
  }

  setTags(arn: string, tags: Tag[]): void {
    const put = this.sql('INSERT INTO tags (arn, key, value) VALUES (?, ?, ?) ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value');
    this.db.transaction(() => {
      for (const tag of tags) put.run(arn, tag.key, tag.value);
    })();
  }

  removeTags(arn: string, keys: string[]): void {
    const remove = this.sql('DELETE FROM tags WHERE arn = ? AND key = ?');
    this.db.transaction(() => {
      for (const key of keys) remove.run(arn, key);
    })();
  }

  deleteAllTags(arn: string): void {
    this.sql('DELETE FROM tags WHERE arn = ?').run(arn);
  }

  getSetting<T>(key: string): T | undefined {
    const row = this.sql('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  putSetting(key: string, value: unknown): void {
    this.sql('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  }

  putContent(record: ContentRecord, bodyFile?: string): void {
    const put = this.sql('INSERT INTO contents (dataset, version, creation_time, record) VALUES (?, ?, ?, ?) ON CONFLICT (dataset, version) DO UPDATE SET record = excluded.record, creation_time = excluded.creation_time');
    if (bodyFile === undefined) {
      put.run(record.datasetName, record.versionId, record.creationTime, JSON.stringify(record));
      return;
    }
    const insert = this.sql('INSERT INTO content_chunks (dataset, version, seq, data) VALUES (?, ?, ?, ?)');
    // IMMEDIATE: several engines on one folder write contents; take the write lock before reading anything.
    this.db.transaction(() => {
      put.run(record.datasetName, record.versionId, record.creationTime, JSON.stringify(record));
      this.sql('DELETE FROM content_chunks WHERE dataset = ? AND version = ?').run(record.datasetName, record.versionId);
      let seq = 0;
      for (const chunk of fileChunks(bodyFile)) insert.run(record.datasetName, record.versionId, seq++, chunk);
    }).immediate();
  }

  openContentBody(dataset: string, version: string): ContentBody | undefined {
    const size = this
      .sql('SELECT count(*) AS chunks, coalesce(sum(length(data)), 0) AS size FROM content_chunks WHERE dataset = ? AND version = ?')
      .get(dataset, version) as { chunks: number; size: number };
    if (size.chunks === 0) return undefined;
    const read = this.sql('SELECT data FROM content_chunks WHERE dataset = ? AND version = ? AND seq = ?').pluck();
    return chunkedBody(size.size, size.chunks, (seq) => read.get(dataset, version, seq) as Buffer | undefined, () => contentGone(dataset, version));
  }

  getContent(dataset: string, version: string): ContentRecord | undefined {
    const row = this.sql('SELECT record FROM contents WHERE dataset = ? AND version = ?').get(dataset, version) as { record: string } | undefined;
    return row ? (JSON.parse(row.record) as ContentRecord) : undefined;
  }

  listContents(dataset: string): ContentRecord[] {
    const rows = this
      .sql('SELECT record FROM contents WHERE dataset = ? ORDER BY creation_time DESC, rowid DESC')
      .all(dataset) as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as ContentRecord);
  }

  deleteContent(dataset: string, version: string): void {
    this.db.transaction(() => {
      this.sql('DELETE FROM content_chunks WHERE dataset = ? AND version = ?').run(dataset, version);
      this.sql('DELETE FROM contents WHERE dataset = ? AND version = ?').run(dataset, version);
    }).immediate();
  }

  putReprocessing(record: ReprocessingRecord): void {
    this
      .sql('INSERT INTO reprocessings (id, pipeline, creation_time, record) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET record = excluded.record')
      .run(record.id, record.pipelineName, record.creationTime, JSON.stringify(record));
  }

  listReprocessings(pipeline: string): ReprocessingRecord[] {
    const rows = this
      .sql('SELECT record FROM reprocessings WHERE pipeline = ? ORDER BY creation_time DESC, rowid DESC')
      .all(pipeline) as { record: string }[];
    return rows.map((row) => JSON.parse(row.record) as ReprocessingRecord);
  }

  putThing(thing: ThingRecord): void {
    this.sql('INSERT INTO things (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record').run(thing.thingName, JSON.stringify(thing));
  }

  listThings(): ThingRecord[] {
    return (this.sql('SELECT record FROM things ORDER BY name').all() as { record: string }[]).map((r) => JSON.parse(r.record) as ThingRecord);
  }

  putShadow(shadow: ShadowRecord): void {
    this.sql('INSERT INTO shadows (name, record) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET record = excluded.record').run(shadow.thingName, JSON.stringify(shadow));
  }

  listShadows(): ShadowRecord[] {
    return (this.sql('SELECT record FROM shadows ORDER BY name').all() as { record: string }[]).map((r) => JSON.parse(r.record) as ShadowRecord);
  }

  /** One statement, so two processes racing for a lease cannot both win: the upsert's WHERE decides. */
  claimLease(key: string, holder: string, ttlMs: number, now: number): boolean {
    const sql = `INSERT INTO leases (key, holder, expires) VALUES (?, ?, ?)
      ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
      WHERE leases.holder = excluded.holder OR leases.expires <= ?`;
    return this.sql(sql).run(key, holder, now + ttlMs, now).changes === 1;
  }

  releaseLease(key: string, holder: string): void {
    this.sql('DELETE FROM leases WHERE key = ? AND holder = ?').run(key, holder);
  }

  claimOnce(key: string, now: number): boolean {
    this.sql('DELETE FROM claims WHERE claimed_at < ?').run(now - CLAIM_KEEP_MS);
    return this.sql('INSERT OR IGNORE INTO claims (key, claimed_at) VALUES (?, ?)').run(key, now).changes === 1;
  }
}

import type Database from 'better-sqlite3';
import type { ContentBody } from './cloud-store.ts';
import { bundleGone, chunkedBody, fileChunks } from './content-chunks.ts';
import {
  PUBLISHED_COLUMNS, publishDecision, publishedCollectionRecord, publishedCollectionRow, publishedColumnValues,
  type PublishedCollectionRecord, type PublishOutcome,
} from './published-collection-record.ts';

/**
 * Published museum collections on SQLite (catalog.sqlite, version 4; the tables of PostgreSQL's
 * migration 6): a catalog row per (name, version) and the bundle in 1 MiB chunks, as dataset contents
 * keep their CSVs. SQLite enforces no foreign keys here, so a version's chunks are deleted with it explicitly.
 */
export function createPublishedCollectionTables(db: Database.Database): void {
  db.exec(`
CREATE TABLE published_collections (
  name TEXT NOT NULL, version INTEGER NOT NULL, title TEXT NOT NULL, language TEXT NOT NULL, languages TEXT NOT NULL,
  object_count INTEGER NOT NULL, total_bytes INTEGER NOT NULL, bundle_bytes INTEGER NOT NULL, sha256 TEXT NOT NULL,
  published_at INTEGER NOT NULL, published_by TEXT NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE published_bundle_chunks (
  name TEXT NOT NULL, version INTEGER NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (name, version, seq));
`);
}

const LATEST_OF_EACH = 'SELECT * FROM published_collections p WHERE version = (SELECT max(version) FROM published_collections WHERE name = p.name) ORDER BY name';
/** The versions of a name past the newest `keep`: LIMIT -1 is SQLite's "no limit". */
const PAST_KEPT = 'SELECT version FROM published_collections WHERE name = ? ORDER BY version DESC LIMIT -1 OFFSET ?';

export class SqlitePublishedCollections {
  constructor(private readonly db: Database.Database) {}

  put(given: PublishedCollectionRecord, bundleFile: string, keepVersions: number): PublishOutcome {
    const record = publishedCollectionRecord.parse(given);
    const insertChunk = this.db.prepare('INSERT INTO published_bundle_chunks (name, version, seq, data) VALUES (?, ?, ?, ?)');
    // IMMEDIATE: the decision and the write under one write lock, so two engines on one folder cannot both add this version.
    return this.db.transaction((): PublishOutcome => {
      const decided = publishDecision(record, this.get(record.name), this.get(record.name, record.version));
      if (decided) return decided;
      this.db.prepare(`INSERT INTO published_collections (${PUBLISHED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...publishedColumnValues(record));
      let seq = 0;
      for (const chunk of fileChunks(bundleFile)) insertChunk.run(record.name, record.version, seq++, chunk);
      this.db.prepare(`DELETE FROM published_bundle_chunks WHERE name = ? AND version IN (${PAST_KEPT})`).run(record.name, record.name, keepVersions);
      this.db.prepare(`DELETE FROM published_collections WHERE name = ? AND version IN (${PAST_KEPT})`).run(record.name, record.name, keepVersions);
      return { kind: 'created', collection: record };
    }).immediate();
  }

  latestOfEach(): PublishedCollectionRecord[] {
    return this.db.prepare(LATEST_OF_EACH).all().map((row) => publishedCollectionRow.parse(row));
  }

  versions(name: string): PublishedCollectionRecord[] {
    return this.db.prepare('SELECT * FROM published_collections WHERE name = ? ORDER BY version DESC').all(name).map((row) => publishedCollectionRow.parse(row));
  }

  get(name: string, version?: number): PublishedCollectionRecord | undefined {
    const row = version === undefined
      ? this.db.prepare('SELECT * FROM published_collections WHERE name = ? ORDER BY version DESC LIMIT 1').get(name)
      : this.db.prepare('SELECT * FROM published_collections WHERE name = ? AND version = ?').get(name, version);
    return row === undefined ? undefined : publishedCollectionRow.parse(row);
  }

  openBundle(name: string, version: number): ContentBody | undefined {
    const size = this.db
      .prepare('SELECT count(*) AS chunks, coalesce(sum(length(data)), 0) AS size FROM published_bundle_chunks WHERE name = ? AND version = ?')
      .get(name, version) as { chunks: number; size: number };
    if (size.chunks === 0) return undefined;
    const read = this.db.prepare('SELECT data FROM published_bundle_chunks WHERE name = ? AND version = ? AND seq = ?').pluck();
    return chunkedBody(size.size, size.chunks, (seq) => read.get(name, version, seq) as Buffer | undefined, () => bundleGone(name, version));
  }

  delete(name: string): number {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM published_bundle_chunks WHERE name = ?').run(name);
      return this.db.prepare('DELETE FROM published_collections WHERE name = ?').run(name).changes;
    }).immediate();
  }
}

import type pg from 'pg';
import type { ContentBody } from './cloud-store.ts';
import { bundleGone, fileChunks } from './content-chunks.ts';
import { openPostgresChunks } from './postgres-chunks.ts';
import { inTransaction, type Queryable } from './postgres-transaction.ts';
import {
  PUBLISHED_COLUMNS, publishDecision, publishedCollectionRecord, publishedCollectionRow, publishedColumnValues,
  type PublishedCollectionRecord, type PublishOutcome,
} from './published-collection-record.ts';

/**
 * Published museum collections on PostgreSQL (migration 6), as sqlite-published-collections.ts: a
 * catalog row per (name, version), the bundle in 1 MiB bytea chunks that cascade with their version.
 */

/** The first key of the transaction lock a publish takes on its collection's name (the second is the name's hash). */
const PUBLISH_LOCK = 0x4865_6468;

export class PostgresPublishedCollections {
  constructor(private readonly pool: pg.Pool) {}

  async put(given: PublishedCollectionRecord, bundleFile: string, keepVersions: number): Promise<PublishOutcome> {
    const record = publishedCollectionRecord.parse(given);
    return inTransaction(this.pool, async (db): Promise<PublishOutcome> => {
      // Two engines publishing one name at once: the second waits here, then decides on what the first stored.
      await db.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PUBLISH_LOCK, record.name]);
      const decided = publishDecision(record, await this.get(record.name, undefined, db), await this.get(record.name, record.version, db));
      if (decided) return decided;
      await db.query(`INSERT INTO published_collections (${PUBLISHED_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, publishedColumnValues(record));
      let seq = 0;
      // A Buffer parameter goes over the wire as binary, not hex text.
      for (const chunk of fileChunks(bundleFile)) {
        await db.query('INSERT INTO published_bundle_chunks (name, version, seq, data) VALUES ($1, $2, $3, $4)', [record.name, record.version, seq++, chunk]);
      }
      // The chunks of the versions dropped here cascade.
      await db.query(
        'DELETE FROM published_collections WHERE name = $1 AND version IN (SELECT version FROM published_collections WHERE name = $1 ORDER BY version DESC OFFSET $2)',
        [record.name, keepVersions],
      );
      return { kind: 'created', collection: record };
    });
  }

  async latestOfEach(): Promise<PublishedCollectionRecord[]> {
    const { rows } = await this.pool.query(
      'SELECT DISTINCT ON (name COLLATE "C") * FROM published_collections ORDER BY name COLLATE "C", version DESC',
    );
    return rows.map((row) => publishedCollectionRow.parse(row));
  }

  async versions(name: string): Promise<PublishedCollectionRecord[]> {
    const { rows } = await this.pool.query('SELECT * FROM published_collections WHERE name = $1 ORDER BY version DESC', [name]);
    return rows.map((row) => publishedCollectionRow.parse(row));
  }

  async get(name: string, version?: number, db: Queryable = this.pool): Promise<PublishedCollectionRecord | undefined> {
    const { rows } = version === undefined
      ? await db.query('SELECT * FROM published_collections WHERE name = $1 ORDER BY version DESC LIMIT 1', [name])
      : await db.query('SELECT * FROM published_collections WHERE name = $1 AND version = $2', [name, version]);
    return rows[0] === undefined ? undefined : publishedCollectionRow.parse(rows[0]);
  }

  openBundle(name: string, version: number): Promise<ContentBody | undefined> {
    return openPostgresChunks(this.pool, 'published_bundle_chunks', 'name = $1 AND version = $2', [name, version], () => bundleGone(name, version));
  }

  async delete(name: string): Promise<number> {
    return (await this.pool.query('DELETE FROM published_collections WHERE name = $1', [name])).rowCount ?? 0;
  }
}

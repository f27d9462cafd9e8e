import type pg from 'pg';
import type { Tag } from '../engine/engine.ts';
import type { ContentBody, ContentRecord, ReprocessingRecord, ResourceRecord, ResourceType, ShadowRecord, ThingRecord } from './cloud-store.ts';
import { contentGone, fileChunks } from './content-chunks.ts';
import { openPostgresChunks } from './postgres-chunks.ts';
import { inTransaction, type Queryable } from './postgres-transaction.ts';

/**
 * The catalog on PostgreSQL: resource definitions, tags, settings, dataset content versions and bodies,
 * reprocessing runs, things and shadows, as in sqlite-catalog.ts. Records are jsonb; bigint times come
 * back as strings from pg, so they are converted here.
 */

interface ResourceRow {
  type: ResourceType;
  name: string;
  definition: unknown;
  created_at: string;
  updated_at: string;
}

function toRecord<D>(row: ResourceRow): ResourceRecord<D> {
  return { type: row.type, name: row.name, definition: row.definition as D, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) };
}

export class PostgresCatalog {
  constructor(private readonly pool: pg.Pool) {}

  async getResource<D>(type: ResourceType, name: string): Promise<ResourceRecord<D> | undefined> {
    const { rows } = await this.pool.query<ResourceRow>('SELECT * FROM resources WHERE type = $1 AND folded = $2', [type, name.toLowerCase()]);
    return rows[0] ? toRecord<D>(rows[0]) : undefined;
  }
  async listResources<D>(type: ResourceType, after: string | undefined, limit: number | undefined): Promise<ResourceRecord<D>[]> {
    const { rows } = await this.pool.query<ResourceRow>(
      'SELECT * FROM resources WHERE type = $1 AND name COLLATE "C" > $2 ORDER BY name COLLATE "C" LIMIT $3',
      [type, after ?? '', limit ?? null],
    );
    return rows.map((row) => toRecord<D>(row));
  }
  async insertResource(record: ResourceRecord): Promise<boolean> {
    const result = await this.pool.query(
      'INSERT INTO resources (type, name, folded, definition, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING',
      [record.type, record.name, record.name.toLowerCase(), JSON.stringify(record.definition), record.createdAt, record.updatedAt],
    );
    return result.rowCount === 1;
  }
  async updateResource(type: ResourceType, name: string, definition: unknown, updatedAt: number): Promise<boolean> {
    const result = await this.pool.query('UPDATE resources SET definition = $1, updated_at = $2 WHERE type = $3 AND folded = $4', [
      JSON.stringify(definition), updatedAt, type, name.toLowerCase(),
    ]);
    return result.rowCount === 1;
  }
  async deleteResource(type: ResourceType, name: string): Promise<boolean> {
    return (await this.pool.query('DELETE FROM resources WHERE type = $1 AND folded = $2', [type, name.toLowerCase()])).rowCount === 1;
  }

  async getTags(arn: string): Promise<Tag[]> {
    return (await this.pool.query<Tag>('SELECT key, value FROM tags WHERE arn = $1 ORDER BY key COLLATE "C"', [arn])).rows;
  }
  async setTags(arn: string, tags: Tag[]): Promise<void> {
    // One statement, so the tags land together, as SQLite's transaction does.
    await this.pool.query(
      `INSERT INTO tags (arn, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
       ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value`,
      [arn, tags.map((t) => t.key), tags.map((t) => t.value)],
    );
  }
  async removeTags(arn: string, keys: string[]): Promise<void> {
    await this.pool.query('DELETE FROM tags WHERE arn = $1 AND key = ANY($2::text[])', [arn, keys]);
  }
  async deleteAllTags(arn: string): Promise<void> {
    await this.pool.query('DELETE FROM tags WHERE arn = $1', [arn]);
  }
  async getSetting<T>(key: string): Promise<T | undefined> {
    const { rows } = await this.pool.query<{ value: T }>('SELECT value FROM settings WHERE key = $1', [key]);
    return rows[0]?.value;
  }
  async putSetting(key: string, value: unknown): Promise<void> {
    await this.pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, JSON.stringify(value)]);
  }

  async putContent(record: ContentRecord, bodyFile?: string): Promise<void> {
    const put = (db: Queryable) => db.query(
      `INSERT INTO contents (dataset, version, creation_time, record) VALUES ($1, $2, $3, $4)
       ON CONFLICT (dataset, version) DO UPDATE SET record = excluded.record, creation_time = excluded.creation_time`,
      [record.datasetName, record.versionId, record.creationTime, JSON.stringify(record)],
    );
    if (bodyFile === undefined) {
      await put(this.pool);
      return;
    }
    await inTransaction(this.pool, async (db) => {
      await put(db);
      await db.query('DELETE FROM content_chunks WHERE dataset = $1 AND version = $2', [record.datasetName, record.versionId]);
      let seq = 0;
      // A Buffer parameter goes over the wire as binary, not hex text.
      for (const chunk of fileChunks(bodyFile)) {
        await db.query('INSERT INTO content_chunks (dataset, version, seq, data) VALUES ($1, $2, $3, $4)', [record.datasetName, record.versionId, seq++, chunk]);
      }
    });
  }
  openContentBody(dataset: string, version: string): Promise<ContentBody | undefined> {
    return openPostgresChunks(this.pool, 'content_chunks', 'dataset = $1 AND version = $2', [dataset, version], () => contentGone(dataset, version));
  }
  async getContent(dataset: string, version: string): Promise<ContentRecord | undefined> {
    const { rows } = await this.pool.query<{ record: ContentRecord }>('SELECT record FROM contents WHERE dataset = $1 AND version = $2', [dataset, version]);
    return rows[0]?.record;
  }
  async listContents(dataset: string): Promise<ContentRecord[]> {
    const { rows } = await this.pool.query<{ record: ContentRecord }>('SELECT record FROM contents WHERE dataset = $1 ORDER BY creation_time DESC, seq DESC', [dataset]);
    return rows.map((r) => r.record);
  }
  async deleteContent(dataset: string, version: string): Promise<void> {
    // content_chunks' foreign key cascades: the body goes in the same statement.
    await this.pool.query('DELETE FROM contents WHERE dataset = $1 AND version = $2', [dataset, version]);
  }

  async putReprocessing(record: ReprocessingRecord): Promise<void> {
    await this.pool.query(
      'INSERT INTO reprocessings (id, pipeline, creation_time, record) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET record = excluded.record',
      [record.id, record.pipelineName, record.creationTime, JSON.stringify(record)],
    );
  }
  async listReprocessings(pipeline: string): Promise<ReprocessingRecord[]> {
    const { rows } = await this.pool.query<{ record: ReprocessingRecord }>(
      'SELECT record FROM reprocessings WHERE pipeline = $1 ORDER BY creation_time DESC, seq DESC', [pipeline],
    );
    return rows.map((r) => r.record);
  }
  async putThing(thing: ThingRecord): Promise<void> {
    await this.pool.query('INSERT INTO things (name, record) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET record = excluded.record', [thing.thingName, JSON.stringify(thing)]);
  }
  async listThings(): Promise<ThingRecord[]> {
    return (await this.pool.query<{ record: ThingRecord }>('SELECT record FROM things ORDER BY name COLLATE "C"')).rows.map((r) => r.record);
  }
  async putShadow(shadow: ShadowRecord): Promise<void> {
    await this.pool.query('INSERT INTO shadows (name, record) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET record = excluded.record', [shadow.thingName, JSON.stringify(shadow)]);
  }
  async listShadows(): Promise<ShadowRecord[]> {
    return (await this.pool.query<{ record: ShadowRecord }>('SELECT record FROM shadows ORDER BY name COLLATE "C"')).rows.map((r) => r.record);
  }
}

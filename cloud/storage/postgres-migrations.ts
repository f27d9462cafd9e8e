import type pg from 'pg';

/**
 * Versioned schema for the PostgreSQL backend. Each migration runs once, in order, in its own
 * transaction, recorded in hedgerow_migrations. The whole run holds a session advisory lock, so two
 * engines starting at once on an empty database apply each migration exactly once: the second waits,
 * then finds them recorded.
 */

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Arbitrary but fixed: the key of the advisory lock every Hedgerow process takes while migrating. */
const MIGRATION_LOCK = 0x4865_6467;

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'catalog, channels and datastore catalog',
    sql: `
CREATE TABLE resources (
  type text NOT NULL, name text NOT NULL, folded text NOT NULL, definition jsonb NOT NULL,
  created_at bigint NOT NULL, updated_at bigint NOT NULL, PRIMARY KEY (type, folded));
CREATE TABLE tags (arn text NOT NULL, key text NOT NULL, value text NOT NULL, PRIMARY KEY (arn, key));
CREATE TABLE settings (key text PRIMARY KEY, value jsonb NOT NULL);
CREATE TABLE contents (
  dataset text NOT NULL, version text NOT NULL, creation_time bigint NOT NULL, seq bigserial, record jsonb NOT NULL,
  PRIMARY KEY (dataset, version));
CREATE INDEX contents_by_time ON contents (dataset, creation_time);
CREATE TABLE reprocessings (id text PRIMARY KEY, pipeline text NOT NULL, creation_time bigint NOT NULL, seq bigserial, record jsonb NOT NULL);
CREATE INDEX reprocessings_by_pipeline ON reprocessings (pipeline, creation_time);
CREATE TABLE things (name text PRIMARY KEY, record jsonb NOT NULL);
CREATE TABLE shadows (name text PRIMARY KEY, record jsonb NOT NULL);
CREATE TABLE channel_messages (
  channel text NOT NULL, seq bigserial PRIMARY KEY, message_id text NOT NULL, arrival bigint NOT NULL, payload bytea NOT NULL,
  UNIQUE (channel, message_id));
CREATE INDEX channel_messages_by_arrival ON channel_messages (channel, arrival);
CREATE TABLE datastore_indexes (datastore text PRIMARY KEY, indexes jsonb NOT NULL);
CREATE TABLE datastore_attributes (
  datastore text NOT NULL, folded text NOT NULL, name text NOT NULL, type text NOT NULL, position integer NOT NULL,
  PRIMARY KEY (datastore, folded));
`,
  },
  {
    version: 2,
    name: 'leases and run-once claims',
    sql: `
CREATE TABLE leases (key text PRIMARY KEY, holder text NOT NULL, expires bigint NOT NULL);
CREATE TABLE claims (key text PRIMARY KEY, claimed_at bigint NOT NULL);
CREATE INDEX claims_by_time ON claims (claimed_at);
`,
  },
  {
    version: 3,
    name: 'datastore marks (incremental datasets)',
    sql: `
CREATE TABLE datastore_marks (datastore text PRIMARY KEY, generation text NOT NULL, removals integer NOT NULL);
`,
  },
  {
    version: 4,
    name: 'dataset content bodies',
    // 1 MiB chunks, not one bytea per content: see content-chunks.ts. The cascade deletes a body with its version.
    sql: `
CREATE TABLE content_chunks (
  dataset text NOT NULL, version text NOT NULL, seq integer NOT NULL, data bytea NOT NULL,
  PRIMARY KEY (dataset, version, seq),
  FOREIGN KEY (dataset, version) REFERENCES contents (dataset, version) ON DELETE CASCADE);
`,
  },
  {
    version: 5,
    name: 'API credentials, token key and alert state',
    sql: `
CREATE TABLE secrets (name text PRIMARY KEY, value text NOT NULL, created_at bigint NOT NULL);
CREATE TABLE alert_stations (station_id text PRIMARY KEY, state jsonb NOT NULL);
CREATE TABLE alerts (
  id text PRIMARY KEY, station_id text NOT NULL, kind text NOT NULL,
  started_at bigint NOT NULL, ended_at bigint, body jsonb NOT NULL);
CREATE INDEX alerts_by_station ON alerts (station_id, ended_at);
CREATE TABLE alert_outbox (
  seq bigserial PRIMARY KEY, event_id text NOT NULL, destination text NOT NULL, event jsonb NOT NULL,
  attempts integer NOT NULL DEFAULT 0, next_at bigint NOT NULL, created_at bigint NOT NULL,
  delivered_at bigint, failed_reason text, last_error text,
  UNIQUE (event_id, destination));
CREATE INDEX alert_outbox_due ON alert_outbox (next_at) WHERE delivered_at IS NULL AND failed_reason IS NULL;
`,
  },
  {
    version: 6,
    name: 'published museum collections',
    // The bundle in 1 MiB chunks like dataset contents (content-chunks.ts); they go with their version.
    sql: `
CREATE TABLE published_collections (
  name text NOT NULL, version integer NOT NULL, title text NOT NULL, language text NOT NULL, languages jsonb NOT NULL,
  object_count integer NOT NULL, total_bytes bigint NOT NULL, bundle_bytes bigint NOT NULL, sha256 text NOT NULL,
  published_at bigint NOT NULL, published_by text NOT NULL, PRIMARY KEY (name, version));
CREATE TABLE published_bundle_chunks (
  name text NOT NULL, version integer NOT NULL, seq integer NOT NULL, data bytea NOT NULL,
  PRIMARY KEY (name, version, seq),
  FOREIGN KEY (name, version) REFERENCES published_collections (name, version) ON DELETE CASCADE);
`,
  },
];

/** Applies the migrations this database lacks; refuses one made by a newer Hedgerow. */
export async function migratePostgres(pool: pg.Pool, migrations: readonly Migration[] = POSTGRES_MIGRATIONS): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS hedgerow_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
      const applied = new Set((await client.query<{ version: number }>('SELECT version FROM hedgerow_migrations')).rows.map((r) => r.version));
      const known = new Set(migrations.map((m) => m.version));
      const unknown = [...applied].filter((v) => !known.has(v));
      if (unknown.length > 0) {
        throw new Error(`the PostgreSQL database has schema version ${Math.max(...unknown)}, newer than this Hedgerow knows (${Math.max(0, ...known)}): upgrade Hedgerow`);
      }
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query('INSERT INTO hedgerow_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw e;
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

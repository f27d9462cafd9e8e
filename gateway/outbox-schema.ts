import type Database from 'better-sqlite3';

/**
 * The outbox file's schema. One file holds the queued rows, the envelopes formed from them, the
 * per-device sequence counters and the running totals, so every change commits or rolls back together.
 *
 * A row's life: appended → covered by an envelope (a contiguous id range, recorded before its first
 * publish) → marked sent with its envelope when the broker acknowledges it → deleted in bulk (see
 * outbox-acks.ts). Because the envelope is durable, a retry after any crash re-sends exactly the
 * same group under the same messageId. Rows themselves are never updated: rewriting a row costs as
 * much as writing it.
 */
export const SCHEMA_VERSION = 3;

const DDL = `
-- Row ids are handed out from state.last_row_id, never reused even when the table empties: readers
-- keep "everything up to id N is done" marks, which a reused id would slip under.
CREATE TABLE IF NOT EXISTS rows (
  id          INTEGER PRIMARY KEY,
  message_id  TEXT    NOT NULL,
  device_id   TEXT    NOT NULL,
  seq         INTEGER NOT NULL,
  topic       TEXT    NOT NULL,
  ts          INTEGER NOT NULL,
  record      TEXT    NOT NULL,
  bytes       INTEGER NOT NULL
);
-- An envelope covers rows id..last_id (one device and topic); its id, messageId and seq are its first
-- row's. count and bytes are its rows' number and record bytes; acked = 1 once the broker acknowledged it.
CREATE TABLE IF NOT EXISTS envelopes (
  id      INTEGER PRIMARY KEY,
  last_id INTEGER NOT NULL,
  count   INTEGER NOT NULL DEFAULT 0,
  bytes   INTEGER NOT NULL DEFAULT 0,
  acked   INTEGER NOT NULL DEFAULT 0
);
-- Per-device sequence counters ('seq:<deviceId>') and running totals share one small table, so an
-- append dirties one extra page rather than two: that page write is most of a small commit's cost.
CREATE TABLE IF NOT EXISTS state (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO state (key, value) VALUES
  ('depth', 0), ('bytes', 0), ('dropped_records', 0), ('sent_records', 0), ('sent_envelopes', 0), ('retried_envelopes', 0),
  ('last_row_id', 0), ('acked_through', 0), ('acked_bytes', 0);
`;

export class OutboxSchemaError extends Error {
  readonly code = 'OUTBOX_SCHEMA';
}

/** For a read-only handle, which cannot upgrade: refuses a file of any other schema. */
export function checkSchema(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  throw new OutboxSchemaError(
    version > SCHEMA_VERSION
      ? `${path} has outbox schema ${version}, this Hedgerow knows ${SCHEMA_VERSION}: upgrade Hedgerow`
      : `${path} has outbox schema ${version}: start the station or gateway once to upgrade it to ${SCHEMA_VERSION}, then try again`,
  );
}

/** Creates the tables on a fresh file and refuses a file written by a newer Hedgerow. */
export function applySchema(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new OutboxSchemaError(
      `${path} has outbox schema ${version}, this Hedgerow knows ${SCHEMA_VERSION}: upgrade Hedgerow or point outbox.path at another file`,
    );
  }
  db.exec(DDL);
  if (version === 1) {
    // Version 1 marked each row with its envelope; those groups become ranges (they were contiguous).
    db.exec(`INSERT OR IGNORE INTO envelopes (id, last_id)
             SELECT envelope, max(id) FROM rows WHERE envelope IS NOT NULL GROUP BY envelope`);
  }
  if (version >= 1 && version < 3) {
    // Version 2 deleted rows on acknowledgement, so every envelope it left is unacknowledged.
    const columns = new Set((db.pragma('table_info(envelopes)') as { name: string }[]).map((column) => column.name));
    for (const column of ['count', 'bytes', 'acked']) {
      if (!columns.has(column)) db.exec(`ALTER TABLE envelopes ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
    }
    db.exec(`UPDATE envelopes SET
               count = (SELECT count(*) FROM rows r WHERE r.id BETWEEN envelopes.id AND envelopes.last_id),
               bytes = (SELECT coalesce(sum(bytes), 0) FROM rows r WHERE r.id BETWEEN envelopes.id AND envelopes.last_id)`);
  }
  if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  // The totals are kept incrementally for speed; recounting once per open means a bug can never
  // leave them wrong for longer than one run. Rows of acknowledged envelopes are not queued.
  db.exec(`UPDATE state SET value = (SELECT coalesce(sum(bytes), 0) FROM envelopes WHERE acked = 1) WHERE key = 'acked_bytes';
           UPDATE state SET value = (SELECT count(*) FROM rows) - (SELECT coalesce(sum(count), 0) FROM envelopes WHERE acked = 1) WHERE key = 'depth';
           UPDATE state SET value = (SELECT coalesce(sum(bytes), 0) FROM rows) - (SELECT value FROM state WHERE key = 'acked_bytes') WHERE key = 'bytes';
           UPDATE state SET value = max(value, (SELECT coalesce(max(id), 0) FROM rows)) WHERE key = 'last_row_id';`);
}

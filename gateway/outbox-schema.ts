import type Database from 'better-sqlite3';

/**
 * The outbox file's schema. One file holds the queued rows, the per-device sequence counters and the
 * running totals, so every change to them commits or rolls back together.
 *
 * A row's life: appended (envelope NULL) → stamped with an envelope id before its first publish →
 * deleted when the broker acknowledges that envelope. Because the stamp is durable, a retry after any
 * crash re-sends exactly the same group under the same messageId.
 */
export const SCHEMA_VERSION = 1;

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
  bytes       INTEGER NOT NULL,
  envelope    INTEGER
);
-- Only stamped rows are indexed, so an append pays nothing for it.
CREATE INDEX IF NOT EXISTS rows_stamped ON rows(envelope, id) WHERE envelope IS NOT NULL;
-- Per-device sequence counters ('seq:<deviceId>') and running totals share one small table, so an
-- append dirties one extra page rather than two: that page write is most of a small commit's cost.
CREATE TABLE IF NOT EXISTS state (
  key   TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO state (key, value) VALUES
  ('depth', 0), ('bytes', 0), ('dropped_records', 0), ('sent_records', 0), ('sent_envelopes', 0), ('retried_envelopes', 0),
  ('last_row_id', 0);
`;

export class OutboxSchemaError extends Error {
  readonly code = 'OUTBOX_SCHEMA';
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
  if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  // The totals are kept incrementally for speed; recounting once per open means a bug can never
  // leave them wrong for longer than one run.
  db.exec(`UPDATE state SET value = (SELECT count(*) FROM rows) WHERE key = 'depth';
           UPDATE state SET value = (SELECT coalesce(sum(bytes), 0) FROM rows) WHERE key = 'bytes';
           UPDATE state SET value = max(value, (SELECT coalesce(max(id), 0) FROM rows)) WHERE key = 'last_row_id';`);
}

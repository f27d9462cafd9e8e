import type Database from 'better-sqlite3';

/**
 * The outbox file's schema. One file holds the queued rows, the envelopes formed from them, the
 * per-device sequence counters and the running totals, so every change commits or rolls back together.
 *
 * A row's life: appended → covered by an envelope (a contiguous id range, recorded before its first
 * publish) → deleted with its envelope when the broker acknowledges it. Because the envelope is
 * durable, a retry after any crash re-sends exactly the same group under the same messageId. Rows
 * themselves are never updated: rewriting a row costs as much as writing it.
 */
export const SCHEMA_VERSION = 2;

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
-- An envelope covers rows id..last_id (one device and topic); its id, messageId and seq are its first row's.
CREATE TABLE IF NOT EXISTS envelopes (
  id      INTEGER PRIMARY KEY,
  last_id INTEGER NOT NULL
);
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
  if (version === 1) {
    // Version 1 marked each row with its envelope; those groups become ranges (they were contiguous).
    db.exec(`INSERT OR IGNORE INTO envelopes (id, last_id)
             SELECT envelope, max(id) FROM rows WHERE envelope IS NOT NULL GROUP BY envelope`);
  }
  if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
  // The totals are kept incrementally for speed; recounting once per open means a bug can never
  // leave them wrong for longer than one run.
  db.exec(`UPDATE state SET value = (SELECT count(*) FROM rows) WHERE key = 'depth';
           UPDATE state SET value = (SELECT coalesce(sum(bytes), 0) FROM rows) WHERE key = 'bytes';
           UPDATE state SET value = max(value, (SELECT coalesce(max(id), 0) FROM rows)) WHERE key = 'last_row_id';`);
}

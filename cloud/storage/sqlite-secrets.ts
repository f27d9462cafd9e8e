import type Database from 'better-sqlite3';

/**
 * The tables PostgreSQL's migration 5 makes, on SQLite (in catalog.sqlite): stored secrets (the API's
 * generated access key, the token key) and the alert engine's state (each station's evaluation state,
 * every alert, the delivery outbox). They used to be files in the data folder (api-credentials.json,
 * token-key, alerts.sqlite); in the store, engines sharing it share them too.
 */
export function createSecretTables(db: Database.Database): void {
  db.exec(`
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS alert_stations (station_id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY, station_id TEXT NOT NULL, kind TEXT NOT NULL,
  started_at INTEGER NOT NULL, ended_at INTEGER, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_by_station ON alerts (station_id, ended_at);
CREATE TABLE IF NOT EXISTS alert_outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, destination TEXT NOT NULL, event TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, created_at INTEGER NOT NULL,
  delivered_at INTEGER, failed_reason TEXT, last_error TEXT,
  UNIQUE (event_id, destination));
CREATE INDEX IF NOT EXISTS alert_outbox_due ON alert_outbox (next_at) WHERE delivered_at IS NULL AND failed_reason IS NULL;
`);
}

/** CloudStore.secret on SQLite: the first value stored under `name` wins (INSERT OR IGNORE, then read back). */
export function storedSecret(db: Database.Database, name: string, candidate: string, now: number): string {
  db.prepare('INSERT OR IGNORE INTO secrets (name, value, created_at) VALUES (?, ?, ?)').run(name, candidate, now);
  return (db.prepare('SELECT value FROM secrets WHERE name = ?').get(name) as { value: string }).value;
}

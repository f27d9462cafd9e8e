import Database from 'better-sqlite3';
import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AlertOutboxRecord, AlertStateSnapshot, CloudStore } from '../storage/cloud-store.ts';
import { ALERTS_FILE } from './alert-store.ts';

/**
 * Alert state used to live in the data folder's alerts.sqlite. An upgraded engine copies it into the
 * store once, keeping what the store already has, and renames the file aside (alerts.sqlite.adopted),
 * never deleting it: cursors, open alerts and undelivered events carry on where they were.
 */
export async function adoptAlertsFile(store: Pick<CloudStore, 'importAlertState'>, dataDir: string, log: Logger): Promise<void> {
  const file = join(dataDir, ALERTS_FILE);
  if (!existsSync(file)) return;
  const snapshot = readAlertsFile(file);
  if (!snapshot) return;
  await store.importAlertState(snapshot);
  try {
    renameSync(file, `${file}.adopted`);
  } catch (error) {
    // Another engine on this folder adopted it at the same moment: the import kept the first copy.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  log.info({ file, stations: snapshot.stations.length, alerts: snapshot.alerts.length, outbox: snapshot.outbox.length }, `adopted the alert state of ${file} into the store; the file is kept as ${ALERTS_FILE}.adopted`);
}

interface OutboxFileRow {
  event_id: string;
  destination: string;
  event: string;
  attempts: number;
  next_at: number;
  created_at: number;
  delivered_at: number | null;
  failed_reason: string | null;
  last_error: string | null;
}

/** The old file's rows, or undefined when it went meanwhile (another engine adopted it). */
function readAlertsFile(file: string): AlertStateSnapshot | undefined {
  let db: Database.Database;
  try {
    db = new Database(file, { fileMustExist: true });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CANTOPEN') return undefined;
    throw error;
  }
  try {
    // Fold its WAL into the file first, so that the rename cannot leave committed rows behind.
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.pragma('journal_mode = DELETE');
    const stations = (db.prepare('SELECT station_id, state FROM station_state').all() as { station_id: string; state: string }[])
      .map((r) => ({ stationId: r.station_id, state: JSON.parse(r.state) as unknown }));
    const alerts = (db.prepare('SELECT id, station_id, kind, started_at, ended_at, body FROM alerts ORDER BY started_at').all() as {
      id: string; station_id: string; kind: string; started_at: number; ended_at: number | null; body: string;
    }[]).map((r) => ({ id: r.id, stationId: r.station_id, kind: r.kind, startedAt: r.started_at, endedAt: r.ended_at, body: JSON.parse(r.body) as unknown }));
    const outbox = (db.prepare('SELECT * FROM outbox ORDER BY seq').all() as OutboxFileRow[]).map((r): AlertOutboxRecord => ({
      eventId: r.event_id, destination: r.destination, event: JSON.parse(r.event) as unknown, attempts: r.attempts, nextAt: r.next_at,
      createdAt: r.created_at, deliveredAt: r.delivered_at, failedReason: r.failed_reason, lastError: r.last_error,
    }));
    return { stations, alerts, outbox };
  } finally {
    db.close();
  }
}

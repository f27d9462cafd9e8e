import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { AlertChange, StationState } from './alert-evaluator.ts';
import { alertEventSchema, alertSchema, type Alert, type AlertEvent } from './alert-model.ts';

/**
 * The alert engine's SQLite file (alerts.sqlite in the engine's data folder): each station's cursor
 * and evaluation state, every alert, and the delivery outbox. One transaction per station's batch
 * writes all three, so a restart neither re-sends an alert (the cursor moved with its outbox rows) nor
 * forgets one (the rows exist before anything is sent).
 */

export const ALERTS_FILE = 'alerts.sqlite';
/** Delivered and permanently failed outbox rows are kept this long, for a look back, then removed. */
const KEEP_DONE_MS = 7 * 24 * 3600_000;

const stationStateSchema = z.object({
  cursor: z.number(),
  rain: z.array(z.tuple([z.number(), z.number()])),
  active: z.partialRecord(z.enum(['frost', 'heavy-rain', 'high-wind', 'offline']), alertSchema),
});

export interface OutboxRow {
  seq: number;
  destination: string;
  event: AlertEvent;
  attempts: number;
}

export interface QueuedEvent {
  event: AlertEvent;
  destinations: readonly string[];
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS station_state (station_id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY, station_id TEXT NOT NULL, kind TEXT NOT NULL,
  started_at INTEGER NOT NULL, ended_at INTEGER, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_by_station ON alerts (station_id, ended_at);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, destination TEXT NOT NULL, event TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, created_at INTEGER NOT NULL,
  delivered_at INTEGER, failed_reason TEXT, last_error TEXT,
  UNIQUE (event_id, destination));
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_at) WHERE delivered_at IS NULL AND failed_reason IS NULL;
`;

export class AlertStore {
  private readonly db: Database.Database;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, ALERTS_FILE));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  stationState(stationId: string): StationState | undefined {
    const row = this.db.prepare('SELECT state FROM station_state WHERE station_id = ?').get(stationId) as { state: string } | undefined;
    return row ? stationStateSchema.parse(JSON.parse(row.state)) : undefined;
  }

  /** Saves a station's state, its alert changes and the events to deliver, all or nothing. */
  commit(stationId: string, state: StationState, changes: readonly AlertChange[], queued: readonly QueuedEvent[], now: number): void {
    const saveState = this.db.prepare('INSERT INTO station_state (station_id, state) VALUES (?, ?) ON CONFLICT (station_id) DO UPDATE SET state = excluded.state');
    const saveAlert = this.db.prepare(
      `INSERT INTO alerts (id, station_id, kind, started_at, ended_at, body) VALUES (@id, @stationId, @kind, @startedAt, @endedAt, @body)
       ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, body = excluded.body`,
    );
    const enqueue = this.db.prepare('INSERT OR IGNORE INTO outbox (event_id, destination, event, next_at, created_at) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      saveState.run(stationId, JSON.stringify(state));
      for (const { alert } of changes) saveAlert.run({ ...alert, body: JSON.stringify(alert) });
      // An active alert's worst value moves without an event: keep the stored copy current for the page.
      for (const alert of Object.values(state.active)) saveAlert.run({ ...alert, body: JSON.stringify(alert) });
      for (const { event, destinations } of queued) {
        for (const destination of destinations) enqueue.run(event.eventId, destination, JSON.stringify(event), now, now);
      }
    })();
  }

  /**
   * For each of `destinations`, its oldest pending delivery, when that is due at `now`. One at a time per
   * destination and in order, so a retained MQTT end can never overtake its start.
   */
  due(now: number, destinations: readonly string[]): OutboxRow[] {
    if (destinations.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT seq, destination, event, attempts FROM outbox WHERE next_at <= ? AND seq IN (
           SELECT min(seq) FROM outbox WHERE delivered_at IS NULL AND failed_reason IS NULL AND destination IN (SELECT value FROM json_each(?)) GROUP BY destination)
         ORDER BY seq`,
      )
      .all(now, JSON.stringify(destinations)) as Array<{ seq: number; destination: string; event: string; attempts: number }>;
    return rows.map((r) => ({ ...r, event: alertEventSchema.parse(JSON.parse(r.event)) }));
  }

  /** When the next delivery falls due: the earliest of each destination's oldest pending row; undefined when none is pending. */
  nextDue(destinations: readonly string[]): number | undefined {
    const row = this.db
      .prepare(
        `SELECT min(next_at) AS at FROM outbox WHERE seq IN (
           SELECT min(seq) FROM outbox WHERE delivered_at IS NULL AND failed_reason IS NULL AND destination IN (SELECT value FROM json_each(?)) GROUP BY destination)`,
      )
      .get(JSON.stringify(destinations)) as { at: number | null };
    return row.at ?? undefined;
  }

  /** Makes a destination's waiting deliveries due now (its connection came back). */
  dueNow(destination: string, now: number): void {
    this.db.prepare('UPDATE outbox SET next_at = ? WHERE destination = ? AND delivered_at IS NULL AND failed_reason IS NULL AND next_at > ?').run(now, destination, now);
  }

  delivered(seq: number, now: number): void {
    this.db.prepare('UPDATE outbox SET delivered_at = ?, attempts = attempts + 1 WHERE seq = ?').run(now, seq);
  }

  failed(seq: number, reason: string, now: number): void {
    this.db.prepare('UPDATE outbox SET failed_reason = ?, delivered_at = NULL, next_at = ?, attempts = attempts + 1 WHERE seq = ?').run(reason, now, seq);
  }

  retryAt(seq: number, nextAt: number, error: string): void {
    this.db.prepare('UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE seq = ?').run(nextAt, error, seq);
  }

  /** Outbox rows by state, for tests and the log: pending, delivered, failed. */
  outboxCounts(): { pending: number; delivered: number; failed: number } {
    return this.db
      .prepare(
        `SELECT count(*) FILTER (WHERE delivered_at IS NULL AND failed_reason IS NULL) AS pending,
                count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
                count(*) FILTER (WHERE failed_reason IS NOT NULL) AS failed FROM outbox`,
      )
      .get() as { pending: number; delivered: number; failed: number };
  }

  /** Removes outbox rows finished more than a week ago. */
  prune(now: number): void {
    this.db.prepare('DELETE FROM outbox WHERE (delivered_at IS NOT NULL OR failed_reason IS NOT NULL) AND next_at < ? AND created_at < ?').run(now - KEEP_DONE_MS, now - KEEP_DONE_MS);
  }

  /** Every alert of a station, oldest first (tests, and the page through AlertHistory). */
  alerts(stationId: string): Alert[] {
    const rows = this.db.prepare('SELECT body FROM alerts WHERE station_id = ? ORDER BY started_at').all(stationId) as Array<{ body: string }>;
    return rows.map((r) => alertSchema.parse(JSON.parse(r.body)));
  }

  close(): void {
    this.db.close();
  }
}

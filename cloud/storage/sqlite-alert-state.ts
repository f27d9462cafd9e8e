import type Database from 'better-sqlite3';
import type { AlertOutboxEntry, AlertOutboxRow, AlertStateSnapshot, StoredAlert } from './cloud-store.ts';

/**
 * The alert engine's state in catalog.sqlite (tables from createSecretTables): CloudStore's alert
 * methods on SQLite. JSON is kept as text and parsed by the alert engine.
 */

const PENDING = 'delivered_at IS NULL AND failed_reason IS NULL';
/** Each destination's oldest pending row: one delivery at a time per destination, in order. */
const HEADS = `SELECT min(seq) FROM alert_outbox WHERE ${PENDING} AND destination IN (SELECT value FROM json_each(?)) GROUP BY destination`;

export class SqliteAlertState {
  constructor(private readonly db: Database.Database) {}

  stationState(stationId: string): unknown {
    const row = this.db.prepare('SELECT state FROM alert_stations WHERE station_id = ?').get(stationId) as { state: string } | undefined;
    return row ? JSON.parse(row.state) : undefined;
  }

  commit(stationId: string, state: unknown, alerts: readonly StoredAlert[], outbox: readonly AlertOutboxEntry[], now: number): void {
    const saveState = this.db.prepare('INSERT INTO alert_stations (station_id, state) VALUES (?, ?) ON CONFLICT (station_id) DO UPDATE SET state = excluded.state');
    const saveAlert = this.db.prepare(
      `INSERT INTO alerts (id, station_id, kind, started_at, ended_at, body) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, body = excluded.body`,
    );
    const enqueue = this.db.prepare('INSERT OR IGNORE INTO alert_outbox (event_id, destination, event, next_at, created_at) VALUES (?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      saveState.run(stationId, JSON.stringify(state));
      for (const a of alerts) saveAlert.run(a.id, a.stationId, a.kind, a.startedAt, a.endedAt, JSON.stringify(a.body));
      for (const o of outbox) enqueue.run(o.eventId, o.destination, JSON.stringify(o.event), now, now);
    }).immediate();
  }

  alerts(stationId: string, endedSince: number | undefined): unknown[] {
    const rows = (endedSince === undefined
      ? this.db.prepare('SELECT body FROM alerts WHERE station_id = ? ORDER BY started_at, id').all(stationId)
      : this.db.prepare('SELECT body FROM alerts WHERE station_id = ? AND (ended_at IS NULL OR ended_at >= ?) ORDER BY started_at, id').all(stationId, endedSince)) as { body: string }[];
    return rows.map((r) => JSON.parse(r.body) as unknown);
  }

  due(now: number, destinations: readonly string[]): AlertOutboxRow[] {
    if (destinations.length === 0) return [];
    const rows = this.db
      .prepare(`SELECT seq, destination, event, attempts FROM alert_outbox WHERE next_at <= ? AND seq IN (${HEADS}) ORDER BY seq`)
      .all(now, JSON.stringify(destinations)) as Array<{ seq: number; destination: string; event: string; attempts: number }>;
    return rows.map((r) => ({ ...r, event: JSON.parse(r.event) as unknown }));
  }

  nextDue(destinations: readonly string[]): number | undefined {
    const row = this.db.prepare(`SELECT min(next_at) AS at FROM alert_outbox WHERE seq IN (${HEADS})`).get(JSON.stringify(destinations)) as { at: number | null };
    return row.at ?? undefined;
  }

  dueNow(destination: string, now: number): void {
    this.db.prepare(`UPDATE alert_outbox SET next_at = ? WHERE destination = ? AND ${PENDING} AND next_at > ?`).run(now, destination, now);
  }

  delivered(seq: number, now: number): void {
    this.db.prepare('UPDATE alert_outbox SET delivered_at = ?, attempts = attempts + 1 WHERE seq = ?').run(now, seq);
  }

  failed(seq: number, reason: string, now: number): void {
    this.db.prepare('UPDATE alert_outbox SET failed_reason = ?, delivered_at = NULL, next_at = ?, attempts = attempts + 1 WHERE seq = ?').run(reason, now, seq);
  }

  retryAt(seq: number, nextAt: number, error: string): void {
    this.db.prepare('UPDATE alert_outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE seq = ?').run(nextAt, error, seq);
  }

  counts(): { pending: number; delivered: number; failed: number } {
    return this.db
      .prepare(
        `SELECT count(*) FILTER (WHERE ${PENDING}) AS pending, count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
                count(*) FILTER (WHERE failed_reason IS NOT NULL) AS failed FROM alert_outbox`,
      )
      .get() as { pending: number; delivered: number; failed: number };
  }

  prune(before: number): void {
    this.db.prepare('DELETE FROM alert_outbox WHERE (delivered_at IS NOT NULL OR failed_reason IS NOT NULL) AND next_at < ? AND created_at < ?').run(before, before);
  }

  import(snapshot: AlertStateSnapshot): void {
    const state = this.db.prepare('INSERT OR IGNORE INTO alert_stations (station_id, state) VALUES (?, ?)');
    const alert = this.db.prepare('INSERT OR IGNORE INTO alerts (id, station_id, kind, started_at, ended_at, body) VALUES (?, ?, ?, ?, ?, ?)');
    const row = this.db.prepare(
      `INSERT OR IGNORE INTO alert_outbox (event_id, destination, event, attempts, next_at, created_at, delivered_at, failed_reason, last_error)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const s of snapshot.stations) state.run(s.stationId, JSON.stringify(s.state));
      for (const a of snapshot.alerts) alert.run(a.id, a.stationId, a.kind, a.startedAt, a.endedAt, JSON.stringify(a.body));
      for (const o of snapshot.outbox) row.run(o.eventId, o.destination, JSON.stringify(o.event), o.attempts, o.nextAt, o.createdAt, o.deliveredAt, o.failedReason, o.lastError);
    }).immediate();
  }
}

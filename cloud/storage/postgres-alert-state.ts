import type pg from 'pg';
import type { AlertOutboxEntry, AlertOutboxRow, AlertStateSnapshot, StoredAlert } from './cloud-store.ts';
import { inTransaction } from './postgres-transaction.ts';

/**
 * The alert engine's state on PostgreSQL (migration 5), as sqlite-alert-state.ts: CloudStore's alert
 * methods. JSON is jsonb; bigint columns come back from pg as strings and are converted here.
 */

const PENDING = 'delivered_at IS NULL AND failed_reason IS NULL';
/** Each destination's oldest pending row: one delivery at a time per destination, in order. */
const heads = (destinations: string) => `SELECT min(seq) FROM alert_outbox WHERE ${PENDING} AND destination = ANY(${destinations}::text[]) GROUP BY destination`;
const SAVE_ALERT = `INSERT INTO alerts (id, station_id, kind, started_at, ended_at, body) SELECT * FROM
  unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::jsonb[])`;

function alertColumns(alerts: readonly StoredAlert[]): unknown[] {
  return [
    alerts.map((a) => a.id), alerts.map((a) => a.stationId), alerts.map((a) => a.kind), alerts.map((a) => a.startedAt),
    alerts.map((a) => a.endedAt), alerts.map((a) => JSON.stringify(a.body)),
  ];
}

export class PostgresAlertState {
  constructor(private readonly pool: pg.Pool) {}

  async stationState(stationId: string): Promise<unknown> {
    const { rows } = await this.pool.query<{ state: unknown }>('SELECT state FROM alert_stations WHERE station_id = $1', [stationId]);
    return rows[0]?.state;
  }

  async commit(stationId: string, state: unknown, alerts: readonly StoredAlert[], outbox: readonly AlertOutboxEntry[], now: number): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      await db.query('INSERT INTO alert_stations (station_id, state) VALUES ($1, $2) ON CONFLICT (station_id) DO UPDATE SET state = excluded.state', [stationId, JSON.stringify(state)]);
      // One alert may appear twice in a batch (its change, then its current copy): the last one counts, as on SQLite.
      const latest = [...new Map(alerts.map((a) => [a.id, a])).values()];
      if (latest.length > 0) await db.query(`${SAVE_ALERT} ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, body = excluded.body`, alertColumns(latest));
      if (outbox.length > 0) {
        await db.query(
          `INSERT INTO alert_outbox (event_id, destination, event, next_at, created_at)
           SELECT e, d, v, $4, $4 FROM unnest($1::text[], $2::text[], $3::jsonb[]) WITH ORDINALITY AS t(e, d, v, n) ORDER BY n
           ON CONFLICT (event_id, destination) DO NOTHING`,
          [outbox.map((o) => o.eventId), outbox.map((o) => o.destination), outbox.map((o) => JSON.stringify(o.event)), now],
        );
      }
    });
  }

  async alerts(stationId: string, endedSince: number | undefined): Promise<unknown[]> {
    const { rows } = await this.pool.query<{ body: unknown }>(
      'SELECT body FROM alerts WHERE station_id = $1 AND ($2::bigint IS NULL OR ended_at IS NULL OR ended_at >= $2) ORDER BY started_at, id COLLATE "C"',
      [stationId, endedSince ?? null],
    );
    return rows.map((r) => r.body);
  }

  async due(now: number, destinations: readonly string[]): Promise<AlertOutboxRow[]> {
    if (destinations.length === 0) return [];
    const { rows } = await this.pool.query<{ seq: string; destination: string; event: unknown; attempts: number }>(
      `SELECT seq, destination, event, attempts FROM alert_outbox WHERE next_at <= $1 AND seq IN (${heads('$2')}) ORDER BY seq`,
      [now, destinations],
    );
    return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
  }

  async nextDue(destinations: readonly string[]): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ at: string | null }>(`SELECT min(next_at) AS at FROM alert_outbox WHERE seq IN (${heads('$1')})`, [destinations]);
    return rows[0]?.at == null ? undefined : Number(rows[0].at);
  }

  async dueNow(destination: string, now: number): Promise<void> {
    await this.pool.query(`UPDATE alert_outbox SET next_at = $1 WHERE destination = $2 AND ${PENDING} AND next_at > $1`, [now, destination]);
  }

  async delivered(seq: number, now: number): Promise<void> {
    await this.pool.query('UPDATE alert_outbox SET delivered_at = $1, attempts = attempts + 1 WHERE seq = $2', [now, seq]);
  }

  async failed(seq: number, reason: string, now: number): Promise<void> {
    await this.pool.query('UPDATE alert_outbox SET failed_reason = $1, delivered_at = NULL, next_at = $2, attempts = attempts + 1 WHERE seq = $3', [reason, now, seq]);
  }

  async retryAt(seq: number, nextAt: number, error: string): Promise<void> {
    await this.pool.query('UPDATE alert_outbox SET attempts = attempts + 1, next_at = $1, last_error = $2 WHERE seq = $3', [nextAt, error, seq]);
  }

  async counts(): Promise<{ pending: number; delivered: number; failed: number }> {
    const { rows } = await this.pool.query<{ pending: string; delivered: string; failed: string }>(
      `SELECT count(*) FILTER (WHERE ${PENDING}) AS pending, count(*) FILTER (WHERE delivered_at IS NOT NULL) AS delivered,
              count(*) FILTER (WHERE failed_reason IS NOT NULL) AS failed FROM alert_outbox`,
    );
    const r = rows[0]!;
    return { pending: Number(r.pending), delivered: Number(r.delivered), failed: Number(r.failed) };
  }

  async prune(before: number): Promise<void> {
    await this.pool.query('DELETE FROM alert_outbox WHERE (delivered_at IS NOT NULL OR failed_reason IS NOT NULL) AND next_at < $1 AND created_at < $1', [before]);
  }

  async import(snapshot: AlertStateSnapshot): Promise<void> {
    await inTransaction(this.pool, async (db) => {
      for (const s of snapshot.stations) {
        await db.query('INSERT INTO alert_stations (station_id, state) VALUES ($1, $2) ON CONFLICT DO NOTHING', [s.stationId, JSON.stringify(s.state)]);
      }
      if (snapshot.alerts.length > 0) await db.query(`${SAVE_ALERT} ON CONFLICT DO NOTHING`, alertColumns(snapshot.alerts));
      for (const o of snapshot.outbox) {
        await db.query(
          `INSERT INTO alert_outbox (event_id, destination, event, attempts, next_at, created_at, delivered_at, failed_reason, last_error)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
          [o.eventId, o.destination, JSON.stringify(o.event), o.attempts, o.nextAt, o.createdAt, o.deliveredAt, o.failedReason, o.lastError],
        );
      }
    });
  }
}

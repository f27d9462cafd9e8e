import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert, AlertEvent } from '../../../cloud/alerts/alert-model.ts';
import { ALERTS_FILE, AlertStore } from '../../../cloud/alerts/alert-store.ts';
import { EVENT_HEADER } from '../../../cloud/alerts/webhook-output.ts';
import { FakeTime, startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { evaluateAlertsOnce } from './evaluate-once.ts';
import { startReceiver, type Receiver } from './http-receiver.ts';

/**
 * An engine upgraded from a Hedgerow that kept alert state in the data folder's alerts.sqlite: the file
 * is copied into the store once and renamed aside, so cursors, open alerts and events still waiting to
 * be delivered carry on.
 */

const NOW = Date.UTC(2026, 11, 1, 6);
let fixture: EngineFixture;
let hook: Receiver;

beforeEach(async () => {
  fixture = await startEngine({ resourceFiles: ['cloud/resources/default.json'] }, new FakeTime(NOW));
  hook = await startReceiver('/hook');
});
afterEach(async () => {
  await hook.close();
  await fixture.close();
});

/** alerts.sqlite as the previous Hedgerow wrote it (its schema, verbatim). */
function writeOldFile(alert: Alert, event: AlertEvent): void {
  const db = new Database(join(fixture.dir, ALERTS_FILE));
  db.pragma('journal_mode = WAL');
  db.exec(`
CREATE TABLE IF NOT EXISTS station_state (station_id TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (
  id TEXT PRIMARY KEY, station_id TEXT NOT NULL, kind TEXT NOT NULL,
  started_at INTEGER NOT NULL, ended_at INTEGER, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, destination TEXT NOT NULL, event TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL, created_at INTEGER NOT NULL,
  delivered_at INTEGER, failed_reason TEXT, last_error TEXT,
  UNIQUE (event_id, destination));`);
  const state = { cursor: alert.startedAt, rain: [], active: { frost: alert } };
  db.prepare('INSERT INTO station_state VALUES (?, ?)').run(alert.stationId, JSON.stringify(state));
  db.prepare('INSERT INTO alerts VALUES (?, ?, ?, ?, NULL, ?)').run(alert.id, alert.stationId, alert.kind, alert.startedAt, JSON.stringify(alert));
  db.prepare('INSERT INTO outbox (event_id, destination, event, attempts, next_at, created_at, last_error) VALUES (?, ?, ?, 1, ?, ?, ?)')
    .run(event.eventId, 'webhook', JSON.stringify(event), NOW - 1000, NOW - 60_000, 'HTTP 503');
  // Delivered before the upgrade: adopted as history, never sent again.
  db.prepare('INSERT INTO outbox (event_id, destination, event, next_at, created_at, delivered_at) VALUES (?, ?, ?, ?, ?, ?)')
    .run('done/start', 'webhook', JSON.stringify(event), NOW - 120_000, NOW - 120_000, NOW - 110_000);
  db.close();
}

describe('an alerts.sqlite from before the store kept alert state', () => {
  it('is adopted once: the waiting event is delivered, the open alert and the cursor carry on, and the file is kept as .adopted', async () => {
    const startedAt = NOW - 30 * 60_000;
    const alert: Alert = { id: `north_field/frost/${startedAt}`, kind: 'frost', stationId: 'north_field', startedAt, endedAt: null, value: -1, threshold: 0, worst: -2, measure: null, notify: true };
    const event: AlertEvent = { eventId: `${alert.id}/start`, type: 'start', at: startedAt, alert, headline: 'Frost now', detail: 'Air at -1.0 °C' };
    writeOldFile(alert, event);

    const alerts = { webhook: { url: hook.url }, delivery: { timeoutMs: 10_000 } };
    await evaluateAlertsOnce(fixture, alerts);
    const store = new AlertStore(fixture.engine.store);

    expect(existsSync(join(fixture.dir, ALERTS_FILE))).toBe(false);
    expect(existsSync(join(fixture.dir, `${ALERTS_FILE}.adopted`))).toBe(true);
    expect(hook.received.map((r) => r.headers[EVENT_HEADER])).toEqual([event.eventId]);
    expect(await store.alerts('north_field')).toEqual([alert]);
    expect(await store.stationState('north_field')).toEqual({ cursor: startedAt, rain: [], active: { frost: alert } });
    expect(await store.outboxCounts()).toEqual({ pending: 0, delivered: 2, failed: 0 });

    // A restart finds no file to adopt again, and sends nothing twice.
    await evaluateAlertsOnce(fixture, alerts);
    expect(hook.received).toHaveLength(1);
    expect(await store.outboxCounts()).toEqual({ pending: 0, delivered: 2, failed: 0 });
  });
});

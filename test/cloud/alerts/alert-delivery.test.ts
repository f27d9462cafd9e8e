import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertDelivery } from '../../../cloud/alerts/alert-delivery.ts';
import { AlertEngine } from '../../../cloud/alerts/alert-engine.ts';
import { alertSettings } from '../../../cloud/alerts/alert-settings.ts';
import { AlertStore } from '../../../cloud/alerts/alert-store.ts';
import { EVENT_HEADER, SIGNATURE_HEADER, signatureOf, WebhookOutput } from '../../../cloud/alerts/webhook-output.ts';
import { StoreWeatherSource } from '../../../cloud/dashboard/weather-source.ts';
import type { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { parseCsv } from '../../../cloud/query/csv.ts';
import type { WeatherRecord } from '../../../hardware/core/contract.ts';
import { FakeTime, startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { weatherDay } from '../dashboard/weather-records.ts';
import { until } from '../fixtures/until.ts';
import { startReceiver, type Receiver } from './http-receiver.ts';
import { contentText } from '../helpers/content-text.ts';

/**
 * The alert engine on the real analytics engine (SQLite in a temp folder, the ready-made resources),
 * delivering to real local HTTP servers acting as ntfy and a webhook, on the engine's fake clock.
 */

const MIN = 60_000;
const SECRET = 'barn-door-42';
let fixture: EngineFixture;
let ntfy: Receiver;
let hook: Receiver;
let engines: AlertEngine[] = [];
let logLines: Array<{ level: number; msg: string }> = [];

beforeEach(async () => {
  // 14:00 UTC: a backfilled night's frost is hours old.
  fixture = await startEngine({ resourceFiles: ['cloud/resources/default.json'] }, new FakeTime(Date.UTC(2026, 11, 1, 14)));
  ntfy = await startReceiver('/farm-alerts');
  hook = await startReceiver('/hooks/alerts');
  logLines = [];
});

afterEach(async () => {
  for (const e of engines) await e.stop();
  engines = [];
  await ntfy.close();
  await hook.close();
  await fixture.close();
});

async function startAlerts(over: Record<string, unknown> = {}): Promise<AlertEngine> {
  const log = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(JSON.parse(line) as { level: number; msg: string }) });
  const settings = alertSettings.parse({
    mqtt: { enabled: false },
    ntfy: { url: ntfy.url, token: 'tk_test' },
    webhook: { url: hook.url, secret: SECRET, headers: { 'X-Farm': 'north' } },
    // Generous: a local answer under a load of 6 must never time out, except where a test makes one hang.
    delivery: { timeoutMs: 10_000, retryBaseMs: 1000, retryMaxMs: 8000 },
    ...over,
  });
  const engine = new AlertEngine({
    settings,
    store: fixture.engine.store,
    dataDir: fixture.dir,
    source: new StoreWeatherSource({ store: fixture.engine.store }),
    engine: fixture.engine,
    mqtt: fixture.settings.mqtt,
    log,
    clock: fixture.time,
    timeZone: 'UTC',
    random: () => 0.5,
  });
  await engine.start();
  engines.push(engine);
  return engine;
}

async function stopAlerts(engine: AlertEngine): Promise<void> {
  await engine.stop();
  engines = engines.filter((e) => e !== engine);
}

let batch = 0;
/** As the uplink sends them: envelopes of at most 100 records (IoT Core's 128 KB payload limit), each with a new messageId. */
async function send(stationId: string, records: WeatherRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 100) {
    batch += 1;
    const chunk = records.slice(i, i + 100);
    const envelope = { messageId: `${stationId}-b${batch}`, deviceId: stationId, seq: batch, sentAt: chunk.at(-1)!.ts, records: chunk };
    await fixture.engine.handleMqttMessage(`dt/weather/${stationId}/reading`, Buffer.from(JSON.stringify(envelope)));
  }
}

/** An hour of records a minute apart ending now: mild, then 15 minutes of frost (-1.5 °C at worst), then a thaw to 3 °C. */
function frostHour(): WeatherRecord[] {
  const now = fixture.time.now();
  return weatherDay({ end: now, hours: 1, stepMs: MIN, low: 5, high: 5 }).map((r) => {
    const ago = (now - r.ts) / MIN;
    const air = ago > 30 ? 5 : ago > 15 ? -1 - (ago === 20 ? 0.5 : 0) : 3;
    return { ...r, ambient_temperature: air, ground_temperature: air + 0.5 };
  });
}

async function evaluate(engine: AlertEngine): Promise<void> {
  await engine.evaluateNow();
  await engine.idle();
}

/** Moves the fake clock past every retry until the outbox is empty. */
async function drain(engine: AlertEngine): Promise<void> {
  await engine.evaluateNow();
  for (let i = 0; i < 30 && (await engine.alertStore.outboxCounts()).pending > 0; i++) {
    await engine.idle();
    await fixture.time.advance(10_000);
  }
  await engine.idle();
  expect((await engine.alertStore.outboxCounts()).pending).toBe(0);
}

const eventIds = (r: Receiver) => r.received.map((x) => String(x.headers[EVENT_HEADER]));

async function csv(engine: AnalyticsEngine, datasetName: string): Promise<string[][]> {
  await engine.createDatasetContent({ datasetName });
  await engine.idle();
  const content = await engine.getDatasetContent({ datasetName, versionId: '$LATEST' });
  expect(content.status!.state, content.status!.reason).toBe('SUCCEEDED');
  const entry = content.entries![0]!;
  const file = await engine.openDatasetContent({ datasetName, versionId: decodeURIComponent(entry.dataURI!.split('/')[3]!), entryName: entry.entryName! });
  return parseCsv(await contentText(file));
}

describe('alert delivery', () => {
  it('sends exactly one start and one end to ntfy and to the webhook, and keeps the alert in the weather_alerts dataset', async () => {
    await send('north_field', frostHour());
    const alerts = await startAlerts();
    await evaluate(alerts);
    await evaluate(alerts);

    expect(ntfy.received).toHaveLength(2);
    const [start, end] = ntfy.received;
    expect(start!.path).toBe('/farm-alerts');
    expect(start!.headers).toMatchObject({ title: 'north_field: Frost now', priority: '4', tags: 'warning,snowflake', authorization: 'Bearer tk_test' });
    expect(start!.body).toContain('Temperature down to −1.0 °C since');
    expect(end!.headers).toMatchObject({ title: 'north_field: Frost over', priority: '3' });
    expect(end!.body).toMatch(/It froze from \d\d:\d\d to \d\d:\d\d, down to −1\.5 °C/);

    expect(eventIds(hook)).toEqual([expect.stringMatching(/^north_field\/frost\/\d+\/start$/), expect.stringMatching(/\/end$/)]);
    for (const request of hook.received) {
      expect(request.headers[SIGNATURE_HEADER]).toBe(signatureOf(request.body, SECRET));
      expect(request.headers['x-farm']).toBe('north');
    }
    const ended = JSON.parse(hook.received[1]!.body);
    expect(ended).toMatchObject({ type: 'end', headline: 'Frost over', alert: { kind: 'frost', stationId: 'north_field', value: -1, threshold: 0, worst: -1.5 } });
    expect(ended.alert.endedAt - ended.alert.startedAt).toBe(15 * MIN);
    expect(await alerts.alertStore.outboxCounts()).toEqual({ pending: 0, delivered: 6, failed: 0 });

    const [header, ...rows] = await csv(fixture.engine, 'weather_alerts');
    expect(header).toEqual(['station', 'kind', 'started_utc', 'ended_utc', 'raised_by', 'threshold', 'worst', 'detail']);
    expect(rows).toHaveLength(1);
    const row = Object.fromEntries(header!.map((h, i) => [h, rows[0]![i]]));
    expect(row).toMatchObject({ station: 'north_field', kind: 'frost', raised_by: '-1', threshold: '0', worst: '-1.5' });
    expect(Date.parse(`${row.started_utc!.replace(' ', 'T')}Z`)).toBe(ended.alert.startedAt);
    expect(Date.parse(`${row.ended_utc!.replace(' ', 'T')}Z`)).toBe(ended.alert.endedAt);
  });

  it('retries a receiver that answers 500, after a backoff, in order: the end waits for its start', async () => {
    hook.script.push(500);
    await send('north_field', frostHour());
    const alerts = await startAlerts();
    await evaluate(alerts);
    expect(eventIds(hook)).toEqual([expect.stringMatching(/\/start$/)]);
    expect(ntfy.received).toHaveLength(2);
    expect(logLines.some((l) => l.level === 40 && l.msg.includes('not delivered to webhook (HTTP 500'))).toBe(true);

    // First retry after retryBaseMs · 2^0 · (0.5 + 0.5/2) = 750 ms.
    await fixture.time.advance(700);
    await alerts.idle();
    expect(hook.received).toHaveLength(1);
    await fixture.time.advance(100);
    await alerts.idle();
    expect(eventIds(hook).map((id) => id.split('/').at(-1))).toEqual(['start', 'start', 'end']);
    expect(await alerts.alertStore.outboxCounts()).toMatchObject({ pending: 0, failed: 0 });
  });

  it('times out a receiver that never answers, and retries it after the engine is stopped mid-delivery and started again', async () => {
    ntfy.script.push('hang');
    await send('north_field', frostHour());
    const hanging = { delivery: { timeoutMs: 1500, retryBaseMs: 1000, retryMaxMs: 8000 } };
    const first = await startAlerts(hanging);
    await first.evaluateNow();
    await until(() => ntfy.received.length === 1, 'the request that will hang');
    // Stop while that request is in flight: stop waits for its timeout, and the row stays queued.
    await stopAlerts(first);
    expect(logLines.some((l) => l.msg.includes('not delivered to ntfy (no answer within 1500 ms)'))).toBe(true);

    const second = await startAlerts(hanging);
    await drain(second);
    // At least once: the hung start again, then the end. (A 1.5 s limit on a loaded machine may add a repeat.)
    const titles = ntfy.received.map((r) => r.headers.title);
    expect(titles.filter((t, i) => t !== titles[i - 1])).toEqual(['north_field: Frost now', 'north_field: Frost over']);
    expect(titles.filter((t) => t === 'north_field: Frost now').length).toBeGreaterThanOrEqual(2);
    expect(await second.alertStore.alerts('north_field')).toHaveLength(1);
  });

  it('delivers once after the engine is stopped mid-retry and started again, and sends nothing again that was acknowledged', async () => {
    hook.script.push(500);
    await send('north_field', frostHour());
    const first = await startAlerts();
    await evaluate(first);
    expect(ntfy.received).toHaveLength(2);
    await stopAlerts(first);
    expect(hook.received).toHaveLength(1);

    const second = await startAlerts();
    await second.evaluateNow();
    await fixture.time.advance(1000);
    await second.idle();
    expect(eventIds(hook).map((id) => id.split('/').at(-1))).toEqual(['start', 'start', 'end']);
    // ntfy had both before the stop: the cursor and the outbox survived, so nothing is re-evaluated or re-sent.
    expect(ntfy.received.map((r) => r.headers.title)).toEqual(['north_field: Frost now', 'north_field: Frost over']);
    expect(await second.alertStore.alerts('north_field')).toHaveLength(1);
    expect(await second.alertStore.outboxCounts()).toEqual({ pending: 0, delivered: 6, failed: 0 });
  });

  it('gives up on a 4xx other than 408/429, logging the reason once, while other destinations still get it', async () => {
    hook.script.push(404);
    await send('north_field', frostHour());
    const alerts = await startAlerts();
    await evaluate(alerts);
    await fixture.time.advance(60_000);
    await alerts.idle();
    expect(hook.received).toHaveLength(2);
    const refusals = logLines.filter((l) => l.msg.includes('refused by webhook, not retried: HTTP 404'));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.msg).toContain('check the webhook entry in the alerts settings');
    expect(ntfy.received).toHaveLength(2);
    expect(await alerts.alertStore.outboxCounts()).toEqual({ pending: 0, delivered: 5, failed: 1 });
  });

  it('keeps alerts from a backfilled week as history: in the dataset, never pushed as news', async () => {
    const now = fixture.time.now();
    const week = weatherDay({ end: now, hours: 7 * 24, stepMs: 10 * MIN, low: -3, high: 8 });
    await send('north_field', week);
    const alerts = await startAlerts();
    await evaluate(alerts);
    const stored = await alerts.alertStore.alerts('north_field');
    expect(stored.filter((a) => a.kind === 'frost').length).toBeGreaterThanOrEqual(6);
    expect(stored.filter((a) => a.notify).map((a) => [a.kind, a.startedAt - now])).toEqual([]);
    expect(ntfy.received).toEqual([]);
    expect(hook.received).toEqual([]);
    const [, ...rows] = await csv(fixture.engine, 'weather_alerts');
    expect(rows).toHaveLength(stored.length);

    // A frost that starts now is news again.
    await send('north_field', [{ ...week.at(-1)!, ts: now + MIN, ambient_temperature: 8, ground_temperature: 9 }]);
    await fixture.time.advance(2 * MIN);
    await send('north_field', [{ ...week.at(-1)!, ts: now + 2 * MIN, ambient_temperature: -2, ground_temperature: -1 }]);
    await evaluate(alerts);
    expect(ntfy.received.map((r) => r.headers.title)).toEqual(['north_field: Frost now']);
  });
});

describe('two engines on one store', () => {
  it('send a queued event once when both work the outbox at the same moment (lease alerts:deliver)', async () => {
    const settings = alertSettings.parse({ webhook: { url: hook.url, secret: SECRET } });
    const alert = { id: 'north_field/frost/1', kind: 'frost', stationId: 'north_field', startedAt: 1, endedAt: null, value: -1, threshold: 0, worst: -1, measure: null, notify: true } as const;
    const event = { eventId: `${alert.id}/start`, type: 'start', at: 1, alert, headline: 'Frost now', detail: 'Air at -1.0 °C' };
    await fixture.engine.store.commitAlertState('north_field', { cursor: 1, rain: [], active: {} }, [], [{ eventId: event.eventId, destination: 'webhook', event }], fixture.time.now());
    const both = [0, 1].map(() => new AlertDelivery(new AlertStore(fixture.engine.store), [new WebhookOutput(settings.webhook!, 10_000)], fixture.time, settings.delivery, pino({ level: 'silent' })));
    for (const delivery of both) delivery.start();
    for (const delivery of both) await delivery.idle();
    for (const delivery of both) await delivery.stop();
    expect(eventIds(hook)).toEqual([event.eventId]);
    expect(await fixture.engine.store.alertOutboxCounts()).toEqual({ pending: 0, delivered: 1, failed: 0 });
  });
});

describe('retry delays', () => {
  it('double from retryBaseMs, are capped at retryMaxMs, and are spread by jitter into [half, whole)', () => {
    const settings = alertSettings.parse({}).delivery;
    const store = new AlertStore(fixture.engine.store);
    const at = (random: number) => new AlertDelivery(store, [], fixture.time, settings, pino({ level: 'silent' }), () => random);
    expect([0, 1, 2, 3].map((n) => at(0.999999).retryDelay(n))).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(at(0).retryDelay(2)).toBe(10_000);
    expect(at(0.999999).retryDelay(20)).toBe(900_000);
    expect(at(0.5).retryDelay(1000)).toBe(675_000);
  });
});

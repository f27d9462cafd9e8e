import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertSettings } from '../../../cloud/alerts/alert-settings.ts';
import { apiSettings } from '../../../cloud/api/api-settings.ts';
import { startCloud, type CloudExtension } from '../../../cloud/api/start-cloud.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { BrokerExtension } from '../../../gateway/broker.ts';
import { brokerSettings } from '../../../gateway/settings.ts';
import type { WeatherRecord } from '../../../hardware/core/contract.ts';
import { silentLog, TEST_KEY } from '../api/helpers.ts';
import { weatherDay } from '../dashboard/weather-records.ts';
import { until } from '../fixtures/until.ts';
import { testStorage } from '../helpers/test-storage.ts';
import { startReceiver, type Receiver } from './http-receiver.ts';

/**
 * `hedgerow cloud` as npm start runs it, with alerts on: a real aedes broker, the engine subscribed to it,
 * the ready-made resources, the system clock and a 1 s evaluation interval. A station's envelope on MQTT
 * ends as a frost alert on the page, in the stations JSON, at ntfy and the webhook, and as a retained
 * message that a subscriber connecting afterwards still gets.
 */

const MIN = 60_000;
let dir: string;
let broker: BrokerExtension;
let cloud: CloudExtension | undefined;
let ntfy: Receiver;
let hook: Receiver;
let clients: mqtt.MqttClient[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-alerts-'));
  broker = new BrokerExtension(brokerSettings.parse({ port: 0 }), silentLog);
  await broker.start();
  ntfy = await startReceiver('/farm');
  hook = await startReceiver('/hook');
});

afterEach(async () => {
  for (const c of clients) await c.endAsync(true);
  clients = [];
  await cloud?.stop();
  cloud = undefined;
  await ntfy.close();
  await hook.close();
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function start(port = broker.port, alerts: Record<string, unknown> = {}): Promise<CloudExtension> {
  const url = `mqtt://127.0.0.1:${port}`;
  cloud = startCloud({
    settings: {
      cloud: cloudSettings.parse({ dataDir: dir, ...await testStorage(dir), mqtt: { url } }),
      api: apiSettings.parse({ port: 0, accessKeys: [TEST_KEY] }),
      alerts: alertSettings.parse({ evaluateEverySeconds: 1, ntfy: { url: ntfy.url }, webhook: { url: hook.url }, ...alerts }),
    },
    log: silentLog,
    env: {},
  });
  await cloud.start();
  if (port === broker.port) await cloud.engine.mqttReady();
  return cloud;
}

/** A port nothing listens on yet. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function client(): Promise<mqtt.MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port}`, { reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

async function publish(stationId: string, records: WeatherRecord[], id: string): Promise<void> {
  const c = await client();
  const envelope = { messageId: id, deviceId: stationId, seq: 1, sentAt: records.at(-1)!.ts, records };
  await c.publishAsync(`dt/weather/${stationId}/reading`, JSON.stringify(envelope), { qos: 1 });
}

/** The retained messages under a filter, as a subscriber that connects now receives them. */
async function retained(filter: string): Promise<Map<string, Record<string, unknown>>> {
  const c = await client();
  const got = new Map<string, Record<string, unknown>>();
  c.on('message', (topic, payload, packet) => {
    if (packet.retain && payload.length > 0) got.set(topic, JSON.parse(payload.toString()) as Record<string, unknown>);
  });
  await c.subscribeAsync(filter, { qos: 1 });
  await until(() => got.size > 0, `a retained message on ${filter}`);
  return got;
}

describe('alerts in the running cloud', () => {
  it('turns a station going below zero into one frost alert on the page, at ntfy, at the webhook and retained on MQTT', async () => {
    const c = await start();
    const now = Date.now();
    // The temperature lowered below zero for the last five minutes, wobbling around -0.1 .. -0.4.
    const records = weatherDay({ end: now, hours: 1, stepMs: MIN, low: 6, high: 6 }).map((r, i, all) => {
      const k = i - (all.length - 5);
      return k >= 0 ? { ...r, ambient_temperature: -0.1 - (k % 2) * 0.3 } : r;
    });
    await publish('river_bend', records, 'river-1');

    await until(() => ntfy.received.length >= 1 && hook.received.length >= 1, 'the frost alert at ntfy and the webhook');
    expect(ntfy.received[0]!.headers.title).toBe('river_bend: Frost now');
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({ type: 'start', alert: { kind: 'frost', stationId: 'river_bend', endedAt: null } });

    const onMqtt = await retained('dt/alerts/#');
    expect([...onMqtt.keys()]).toEqual(['dt/alerts/river_bend/frost']);
    expect(onMqtt.get('dt/alerts/river_bend/frost')).toMatchObject({ kind: 'frost', stationId: 'river_bend', endedAt: null, headline: 'Frost now', value: -0.1, threshold: 0 });

    const page = await c.app.inject({ url: '/' });
    expect(page.body).toContain('Frost now');
    const json = JSON.parse((await c.app.inject({ url: '/public/stations.json' })).body);
    expect(json.stations[0].alerts).toEqual([expect.objectContaining({ kind: 'frost', when: 'now', headline: 'Frost now', since: records.at(-5)!.ts, until: null })]);
    expect(json.thresholds.frostAtOrBelowC).toBe(0);

    // More evaluations of the same state send nothing more.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(ntfy.received).toHaveLength(1);
    expect(hook.received).toHaveLength(1);
  });

  it('replaces the retained message with the ended alert once it thaws, for subscribers that connect later', async () => {
    await start();
    const now = Date.now();
    const frosty = weatherDay({ end: now - 20 * MIN, hours: 0.5, stepMs: MIN, low: -2, high: -2 });
    const thaw = weatherDay({ end: now, hours: 20 / 60, stepMs: MIN, low: 4, high: 4 });
    await publish('hill_top', frosty, 'hill-1');
    await until(() => ntfy.received.length >= 1, 'the frost start at ntfy');
    await publish('hill_top', thaw, 'hill-2');
    await until(() => ntfy.received.length >= 2, 'the frost end at ntfy');
    expect(ntfy.received[1]!.headers.title).toBe('hill_top: Frost over');
    // ntfy and MQTT are delivered independently: wait until the outbox has nothing left.
    await until(async () => (await cloud!.alerts!.alertStore.outboxCounts()).pending === 0, 'every delivery done');
    const later = await retained('dt/alerts/hill_top/frost');
    expect(later.get('dt/alerts/hill_top/frost')).toMatchObject({ kind: 'frost', headline: 'Frost over', endedAt: thaw[0]!.ts, worst: -2 });
  });

  it('publishes a waiting alert as soon as the broker comes back, not at the end of its backoff', async () => {
    const port = await freePort();
    // The broker is down and the first retry is a minute away: only the reconnect can deliver it in time.
    const c = await start(port, { delivery: { retryBaseMs: 60_000 } });
    const now = Date.now();
    const records = weatherDay({ end: now, hours: 0.5, stepMs: MIN, low: -1, high: -1 }).map((r, i) => ({ messageId: `r${i}`, payload: Buffer.from(JSON.stringify({ ...r, device_id: 'river_bend' })) }));
    await c.engine.batchPutMessage({ channelName: 'weather_channel', messages: records });
    await until(() => ntfy.received.length === 1, 'the frost start at ntfy');
    await until(async () => (await c.alerts!.alertStore.outboxCounts()).pending === 1, 'the MQTT delivery waiting for the broker');

    const late = new BrokerExtension(brokerSettings.parse({ port }), silentLog);
    await late.start();
    try {
      const c2 = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      clients.push(c2);
      const got: string[] = [];
      c2.on('message', (topic, _payload, packet) => packet.retain && got.push(topic));
      await c2.subscribeAsync('dt/alerts/#', { qos: 1 });
      await until(async () => {
        if (got.length > 0) return true;
        await c2.unsubscribeAsync('dt/alerts/#');
        await c2.subscribeAsync('dt/alerts/#', { qos: 1 });
        return got.length > 0;
      }, 'the retained frost alert after the broker came back', 20_000);
      expect(got[0]).toBe('dt/alerts/river_bend/frost');
    } finally {
      for (const cl of clients) await cl.endAsync(true);
      clients = [];
      await cloud?.stop();
      cloud = undefined;
      await late.stop();
    }
  });
});

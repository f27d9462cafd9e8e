import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto } from './helpers/mosquitto.ts';
import { Collector } from './helpers/subscriber.ts';
import { openTestOutbox, startUplink, tempDir, testUplinkSettings, weatherBatch } from './helpers/gateway-harness.ts';
import type { Outbox } from '../../gateway/outbox.ts';
import type { UplinkService } from '../../gateway/uplink-service.ts';

let broker: Mosquitto;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker.stop();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(settings: Record<string, unknown> = {}): Promise<{ outbox: Outbox; collector: Collector; start: () => UplinkService }> {
  const temp = tempDir();
  const outbox = openTestOutbox(temp.dir);
  const collector = await Collector.start(broker.url);
  cleanups.push(temp.remove, () => outbox.close(), () => collector.stop());
  const start = () => {
    const service = startUplink(outbox, testUplinkSettings({ url: broker.url, ...settings }));
    cleanups.push(() => service.stop());
    return service;
  };
  return { outbox, collector, start };
}

describe('UplinkService against mosquitto', () => {
  it('drains the outbox as envelopes, deletes rows after PUBACK and publishes a retained status', async () => {
    const { outbox, collector, start } = await setup({ maxRecordsPerEnvelope: 10 });
    outbox.append(weatherBatch('station-1', 0, 95));
    const service = start();
    await collector.until(() => collector.records().length >= 95);
    expect(collector.envelopes).toHaveLength(10);
    const first = collector.envelopes[0]!;
    expect(first).toMatchObject({ deviceId: 'station-1', seq: 1 });
    expect(first.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(collector.envelopes.map((envelope) => envelope.seq)).toEqual([1, 11, 21, 31, 41, 51, 61, 71, 81, 91]);
    expect(collector.records().map((record) => record.n)).toEqual(Array.from({ length: 95 }, (_, i) => i));
    await collector.until(() => outbox.stats().depth === 0);
    expect(outbox.stats()).toMatchObject({ sentRecords: 95, sentEnvelopes: 10, retriedEnvelopes: 0 });
    // The retained status reaches a subscriber that arrives later.
    const late = await Collector.start(broker.url, 'dt/weather/station-1/status');
    cleanups.push(() => late.stop());
    await late.until(() => late.statuses.length > 0);
    expect(late.statuses[0]).toMatchObject({ thing: 'station-1', state: 'online', client: 'mqtt.js' });
    expect(service.status()).toMatchObject({ state: 'online', depth: 0, sentRecords: 95 });
  });

  it('sends live records before the backlog', async () => {
    const { outbox, collector, start } = await setup({ maxRecordsPerEnvelope: 1, maxInFlight: 2, maxPublishesPerSecond: 50 });
    outbox.append(weatherBatch('station-1', 0, 60));
    start();
    await collector.until(() => collector.envelopes.length >= 5);
    outbox.append(weatherBatch('station-1', 1000, 1));
    await collector.until(() => collector.records().length >= 61);
    const order = collector.records().map((record) => record.n);
    const live = order.indexOf(1000);
    // At 50 publishes/s the backlog takes over a second; the live record overtakes most of it.
    expect(live).toBeLessThan(30);
    expect(order.filter((n) => n !== 1000)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });
});

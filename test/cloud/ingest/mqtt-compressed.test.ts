import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { parseCsv } from '../../../cloud/query/csv.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { COMPRESSED_ENVELOPE, compressedTopic, topics } from '../../../hardware/core/contract.ts';
import { weekOfRecords } from '../../../bin/demo-backfill.ts';
import { VirtualWeather } from '../../../hardware/virtual-weather.ts';
import { captureLog } from '../../fixtures/captured-log.ts';
import { Mosquitto } from '../../gateway/helpers/mosquitto.ts';
import { createFlow, FakeTime } from '../engine/engine-fixture.ts';
import { until } from '../fixtures/until.ts';
import { contentText } from '../helpers/content-text.ts';
import { testStorage } from '../helpers/test-storage.ts';

/**
 * Issue 12: compressed envelopes (hardware/core/contract.ts COMPRESSED_ENVELOPE) through a real broker
 * into the engine's own subscriber: stored exactly as plain ones, a deflate bomb or garbage refused
 * with its reason, and never sent to a plain `dt/...` subscriber.
 */

const NOW = Date.UTC(2026, 11, 7, 12);
const records = weekOfRecords(new VirtualWeather('north_field'), NOW).slice(0, 300);
const envelope = (messageId: string, deviceId: string, body: unknown[]) => JSON.stringify({ messageId, deviceId, seq: 1, sentAt: NOW, records: body });
const zTopic = (thing: string) => compressedTopic(topics.weatherReading(thing))!;

describe('engine: compressed envelopes over MQTT', () => {
  let broker: Mosquitto;
  let engine: AnalyticsEngine;
  let publisher: mqtt.MqttClient;
  let dir: string;
  const captured = captureLog('warn');

  const start = async (compressed: boolean, name: string) => {
    const d = mkdtempSync(join(tmpdir(), `hedgerow-compressed-${name}-`));
    const settings = cloudSettings.parse({ dataDir: d, ...await testStorage(d), resourceFiles: [], queryTimeoutMs: 20_000, mqtt: { enabled: true, url: broker.url, clientId: `hedgerow-cloud-${name}-${process.pid}`, compressed } });
    let id = 0;
    const e = new AnalyticsEngine({ settings, log: captured.log, clock: new FakeTime(NOW), newId: () => `id-${++id}` });
    await e.start();
    await createFlow(e);
    await e.createTopicRule({ ruleName: 'readings', topicRulePayload: { sql: "SELECT * FROM 'dt/weather/+/reading'", actions: [{ iotAnalytics: { channelName: 'ch', batchMode: true } }] } });
    await e.mqttReady();
    return { engine: e, dir: d };
  };

  beforeAll(async () => {
    broker = await Mosquitto.start();
    ({ engine, dir } = await start(true, 'z'));
    publisher = await mqtt.connectAsync(broker.url, { clientId: `publisher-z-${process.pid}` });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await engine?.stop();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const received = async (n: number, publish: () => Promise<unknown>) => {
    const target = engine.ingestStats().received + n;
    await publish();
    await until(() => engine.ingestStats().received >= target, `${n} message(s)`);
  };
  const rows = async (name: string): Promise<string[][]> => {
    await engine.idle();
    await engine.createDataset({ datasetName: name, actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT * FROM ds ORDER BY ts' } }] });
    await engine.createDatasetContent({ datasetName: name });
    await engine.idle();
    const content = await engine.getDatasetContent({ datasetName: name, versionId: '$LATEST' });
    expect(content.status!.state, content.status!.reason).toBe('SUCCEEDED');
    const entry = content.entries![0]!;
    const file = await engine.openDatasetContent({ datasetName: name, versionId: decodeURIComponent(entry.dataURI!.split('/')[3]!), entryName: entry.entryName! });
    return parseCsv(await contentText(file));
  };

  it('stores a compressed envelope as exactly the datastore rows of the same plain one', async () => {
    const plain = envelope('plain-1', 'north_field', records);
    const compressed = deflateSync(envelope('zipped-1', 'north_field', records));
    // 300 five-minute records: the plain envelope is over 100 KB, the compressed one a fraction of it.
    expect(compressed.length * 8).toBeLessThan(Buffer.byteLength(plain));
    await received(1, () => publisher.publishAsync(topics.weatherReading('north_field'), plain, { qos: 1 }));
    const [header, ...plainRows] = await rows('after_plain');
    expect(plainRows).toHaveLength(records.length);
    await received(1, () => publisher.publishAsync(zTopic('north_field'), compressed, { qos: 1 }));
    const [header2, ...both] = await rows('after_both');
    expect(header2).toEqual(header);
    // Every row the plain envelope made, made again by the compressed one, and nothing else.
    const doubled = [...plainRows, ...plainRows].map((row) => JSON.stringify(row)).sort();
    expect(both.map((row) => JSON.stringify(row)).sort()).toEqual(doubled);
    expect(engine.ingestStats().rejected).toBe(0);
  });

  it('refuses a deflate bomb at the inflate cap, and garbage or bad JSON like a bad plain payload', async () => {
    const before = engine.ingestStats();
    // 64 MiB of zeros deflate to about 64 KB: under the payload limit, 64 times the inflate cap.
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(128 * 1024);
    const heapBefore = process.memoryUsage().arrayBuffers;
    await received(1, () => publisher.publishAsync(zTopic('bomber'), bomb, { qos: 1 }));
    expect(engine.ingestStats().lastRejection).toMatchObject({ topic: zTopic('bomber'), reason: expect.stringMatching(new RegExp(`inflates to more than ${COMPRESSED_ENVELOPE.maxInflatedBytes} bytes`)) });
    // The engine stopped at the cap: it never held the 64 MiB (the test's own bomb input is already freed or counted before).
    expect(process.memoryUsage().arrayBuffers - heapBefore).toBeLessThan(32 * 1024 * 1024);

    await received(1, () => publisher.publishAsync(zTopic('garbler'), Buffer.from('{"messageId":"not compressed"}'), { qos: 1 }));
    expect(engine.ingestStats().lastRejection!.reason).toMatch(/is not zlib deflate data/);
    await received(1, () => publisher.publishAsync(zTopic('jsonless'), deflateSync('not json'), { qos: 1 }));
    expect(engine.ingestStats().lastRejection).toMatchObject({ topic: topics.weatherReading('jsonless'), reason: 'the payload is not JSON' });

    const after = engine.ingestStats();
    expect(after.rejected - before.rejected).toBe(3);
    expect((after.rejectedBy?.payload ?? 0) - (before.rejectedBy?.payload ?? 0)).toBe(3);
    expect(after.accepted).toBe(before.accepted);
    expect(captured.problems().filter((line) => /rejected an MQTT payload/.test(line)).length).toBeGreaterThan(0);
  });

  it('a plain dt/ subscriber and an engine with cloud.mqtt.compressed off are never sent one', async () => {
    const plainSubscriber = await mqtt.connectAsync(broker.url, { clientId: `plain-sub-${process.pid}` });
    const seen: string[] = [];
    plainSubscriber.on('message', (topic) => seen.push(topic));
    await plainSubscriber.subscribeAsync('dt/#', { qos: 1 });
    const off = await start(false, 'off');
    try {
      const marker = envelope('marker-1', 'south_field', records.slice(0, 1));
      const offReceived = () => off.engine.ingestStats().received;
      // One publisher, QoS 1: the broker delivers in order, so once the plain marker is in, the compressed one would have been too.
      await publisher.publishAsync(zTopic('south_field'), deflateSync(envelope('zipped-2', 'south_field', records.slice(0, 5))), { qos: 1 });
      await publisher.publishAsync(topics.weatherReading('south_field'), marker, { qos: 1 });
      await until(() => seen.length >= 1 && offReceived() >= 1, 'the plain marker at both', 20_000);
      expect(seen).toEqual([topics.weatherReading('south_field')]);
      expect(off.engine.ingestStats()).toMatchObject({ received: 1, accepted: 1, rejected: 0 });
    } finally {
      await plainSubscriber.endAsync();
      await off.engine.stop();
      rmSync(off.dir, { recursive: true, force: true });
    }
  });
});

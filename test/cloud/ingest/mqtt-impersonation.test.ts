import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { ResourceNotFoundException } from '../../../cloud/engine/errors.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { topics } from '../../../hardware/core/contract.ts';
import { weatherReading } from '../../bench/fixtures/weather-reading.ts';
import { captureLog } from '../../fixtures/captured-log.ts';
import { Mosquitto } from '../../gateway/helpers/mosquitto.ts';
import { createFlow, FakeTime } from '../engine/engine-fixture.ts';
import { until } from '../fixtures/until.ts';
import { testStorage } from '../helpers/test-storage.ts';

/**
 * Issue 9, defect 7: a station must not write as another, and each record must keep the wire contract.
 * Everything goes through a real broker (mosquitto) to the engine's own MQTT subscriber.
 */

const envelope = (messageId: string, deviceId: string, records: unknown[]) => Buffer.from(JSON.stringify({ messageId, deviceId, seq: 1, sentAt: 1, records }));

describe('engine: MQTT ingest refuses a station writing as another, and bad records one by one', () => {
  let broker: Mosquitto;
  let engine: AnalyticsEngine;
  let publisher: mqtt.MqttClient;
  let dir: string;
  const time = new FakeTime(Date.UTC(2026, 11, 6, 12));
  const captured = captureLog('warn');

  beforeAll(async () => {
    broker = await Mosquitto.start();
    dir = mkdtempSync(join(tmpdir(), 'hedgerow-impersonation-'));
    const settings = cloudSettings.parse({ dataDir: dir, ...await testStorage(dir), resourceFiles: [], mqtt: { enabled: true, url: broker.url, clientId: `hedgerow-cloud-imp-${process.pid}` } });
    let id = 0;
    engine = new AnalyticsEngine({ settings, log: captured.log, clock: time, newId: () => `id-${++id}` });
    await engine.start();
    await createFlow(engine);
    await engine.createChannel({ channelName: 'taps' });
    await engine.createTopicRule({ ruleName: 'readings', topicRulePayload: { sql: "SELECT * FROM 'dt/weather/+/reading'", actions: [{ iotAnalytics: { channelName: 'ch', batchMode: true } }] } });
    await engine.createTopicRule({ ruleName: 'taps', topicRulePayload: { sql: "SELECT * FROM 'dt/museum/+/tap'", actions: [{ iotAnalytics: { channelName: 'taps' } }] } });
    await engine.mqttReady();
    publisher = await mqtt.connectAsync(broker.url, { clientId: `publisher-imp-${process.pid}` });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await engine?.stop();
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const sample = async (channelName: string) =>
    ((await engine.sampleChannelData({ channelName, maxMessages: 10 })).payloads ?? []).map((p) => JSON.parse(Buffer.from(p).toString()) as Record<string, unknown>);
  const received = async (n: number, publish: () => Promise<unknown>) => {
    const target = engine.ingestStats().received + n;
    await publish();
    await until(() => engine.ingestStats().received >= target, `${n} message(s)`);
  };
  const warnings = (pattern: RegExp) => captured.problems().filter((m) => pattern.test(m));

  it('refuses, counts and logs once an envelope whose deviceId is not the topic thing; stores nothing and registers no thing', async () => {
    const before = engine.ingestStats();
    await received(5, async () => {
      for (let i = 0; i < 5; i += 1) {
        await publisher.publishAsync(topics.weatherReading('station_b'), envelope(`imp-${i}`, 'station_a', [weatherReading(time.now() + i)]), { qos: 1 });
      }
    });
    const after = engine.ingestStats();
    expect(after.impersonations! - (before.impersonations ?? 0)).toBe(5);
    expect(after.rejected - before.rejected).toBe(5);
    expect(after.accepted - before.accepted).toBe(0);
    expect(after.lastRejection!.reason).toMatch(/deviceId "station_a" is not the topic's thing "station_b"/);
    expect(await sample('ch')).toEqual([]);
    await expect(engine.describeThing({ thingName: 'station_a' })).rejects.toThrow(ResourceNotFoundException);
    await expect(engine.describeThing({ thingName: 'station_b' })).rejects.toThrow(ResourceNotFoundException);
    // One line for the five, naming both the publishing thing and the device it claimed to be.
    expect(warnings(/refused payloads from station_b that claim to be station_a/)).toHaveLength(1);

    // Another station gets its own line; station_b stays quiet until ten minutes have passed.
    await received(2, async () => {
      await publisher.publishAsync(topics.weatherReading('station_c'), envelope('imp-c', 'station_a', [weatherReading(time.now())]), { qos: 1 });
      await publisher.publishAsync(topics.weatherReading('station_b'), envelope('imp-6', 'station_a', [weatherReading(time.now())]), { qos: 1 });
    });
    expect(warnings(/refused payloads from station_c/)).toHaveLength(1);
    expect(warnings(/refused payloads from station_b/)).toHaveLength(1);
    await time.advance(10 * 60_000);
    await received(1, () => publisher.publishAsync(topics.weatherReading('station_b'), envelope('imp-7', 'station_a', [weatherReading(time.now())]), { qos: 1 }));
    expect(warnings(/refused payloads from station_b/)).toHaveLength(2);
    expect(engine.ingestStats().impersonations! - (before.impersonations ?? 0)).toBe(8);
    expect(await sample('ch')).toEqual([]);
  });

  it('refuses a status that names another thing: the shadow keeps what the thing itself reported', async () => {
    const before = engine.ingestStats();
    const status = (thing: string, depth: number) => Buffer.from(JSON.stringify({ thing, state: 'online', depth }));
    await received(2, async () => {
      await publisher.publishAsync(topics.status('weather', 'station_f'), status('station_f', 1), { qos: 1 });
      await publisher.publishAsync(topics.status('weather', 'station_f'), status('station_g', 99), { qos: 1 });
    });
    expect((await engine.getThingShadow({ thingName: 'station_f' })).state.reported).toEqual({ thing: 'station_f', state: 'online', depth: 1 });
    await expect(engine.getThingShadow({ thingName: 'station_g' })).rejects.toThrow(ResourceNotFoundException);
    expect(engine.ingestStats().impersonations! - before.impersonations!).toBe(1);
    expect(engine.ingestStats().lastRejection!.reason).toMatch(/status payload's thing "station_g" is not the topic's thing "station_f"/);
    expect(warnings(/refused payloads from station_f that claim to be station_g/)).toHaveLength(1);
  });

  it('stores the good records of a mixed envelope and refuses each bad one with its reason', async () => {
    const before = engine.ingestStats();
    const ts = time.now();
    const records = [
      weatherReading(ts),
      { ...weatherReading(ts + 1), humidity: 140 },
      weatherReading(ts + 2),
      { ...weatherReading(ts + 3), sensors: { bme280: 'on fire' } },
      { ...weatherReading(ts + 4), ts: 'yesterday' },
    ];
    await received(1, () => publisher.publishAsync(topics.weatherReading('station_d'), envelope('mixed-1', 'station_d', records), { qos: 1 }));
    const after = engine.ingestStats();
    expect(after.accepted - before.accepted).toBe(2);
    expect(after.rejected - before.rejected).toBe(3);
    expect(after.impersonations).toBe(before.impersonations);
    expect((await sample('ch')).map((r) => r.ts).sort()).toEqual([ts, ts + 2]);
    expect(after.lastRejection!.reason).toMatch(/^record 4: ts/);
    expect((await engine.describeThing({ thingName: 'station_d' })).attributes).toMatchObject({ app: 'weather' });
  });

  it('without batchMode, keeps one message per envelope holding only its good tap records', async () => {
    const before = engine.ingestStats();
    const good = { ts: time.now(), uid: '04a1b2c3d4e501', object_id: 'fossil', event: 'started', play_duration_ms: null };
    const bad = { ...good, event: 'exploded' };
    await received(1, () => publisher.publishAsync(topics.museumTap('box_1'), envelope('taps-1', 'box_1', [good, bad, { ...good, event: 'finished', play_duration_ms: 4000 }]), { qos: 1 }));
    expect(engine.ingestStats().accepted - before.accepted).toBe(1);
    expect(engine.ingestStats().rejected - before.rejected).toBe(1);
    expect(engine.ingestStats().lastRejection!.reason).toMatch(/^record 1: event/);
    const [stored] = await sample('taps');
    expect(stored).toMatchObject({ messageId: 'taps-1', deviceId: 'box_1' });
    expect((stored!.records as Array<{ event: string }>).map((r) => r.event)).toEqual(['started', 'finished']);
  });

  it('still takes a bare JSON object on a reading topic: the contract applies to envelopes', async () => {
    const before = engine.ingestStats();
    await received(1, () => publisher.publishAsync(topics.weatherReading('station_e'), Buffer.from(JSON.stringify({ ts: 5, ambient_temperature: 999 })), { qos: 1 }));
    expect(engine.ingestStats().accepted - before.accepted).toBe(1);
    expect(engine.ingestStats().rejected).toBe(before.rejected);
  });
});

import { hostname } from 'node:os';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudSettings } from '../../../cloud/settings.ts';
import { Mosquitto } from '../../gateway/helpers/mosquitto.ts';
import { createFlow, startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { until } from '../fixtures/until.ts';

const envelope = (messageId: string, n: number) => Buffer.from(JSON.stringify({ messageId, deviceId: 'north_field', seq: n, sentAt: n, records: [{ ts: n, ambient_temperature: 4 }] }));

describe('cloud.mqtt.shareGroup settings', () => {
  it('gives each worker of a group its own client id, and keeps hedgerow-cloud without one', () => {
    const plain = cloudSettings.parse({}).mqtt;
    expect(plain.clientId).toBe('hedgerow-cloud');
    expect(plain.shareGroup).toBeUndefined();
    expect(cloudSettings.parse({ mqtt: { shareGroup: 'hedgerow' } }).mqtt.clientId).toBe(`hedgerow-cloud-${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}`);
    expect(cloudSettings.parse({ mqtt: { shareGroup: 'hedgerow', clientId: 'worker-a' } }).mqtt.clientId).toBe('worker-a');
  });

  it('refuses a group name that is not one topic level, saying what one looks like', () => {
    const result = cloudSettings.safeParse({ mqtt: { shareGroup: 'a/b' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/no \/, \+ or #.*hedgerow/);
  });
});

const modes = [
  { mode: 'a worker of a share group', mqtt: { shareGroup: 'hedgerow', clientId: `hedgerow-cloud-share-${process.pid}` } },
  { mode: 'a plain subscriber', mqtt: { clientId: `hedgerow-cloud-plain-${process.pid}` } },
];

describe.each(modes)('$mode keeps a message unacknowledged until the store commits it', ({ mqtt: mode }) => {
  let broker: Mosquitto;
  let f: EngineFixture;
  let publisher: mqtt.MqttClient;
  let failure: Error | undefined;
  let failures = 0;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    f = await startEngine({ mqtt: { enabled: true, url: broker.url, ...mode } });
    await createFlow(f.engine);
    await f.engine.createTopicRule({ ruleName: 'readings', topicRulePayload: { sql: "SELECT * FROM 'dt/weather/+/reading'", actions: [{ iotAnalytics: { channelName: 'ch', batchMode: true } }] } });
    await f.engine.mqttReady();
    // The next `failures` commits fail with `failure`, as SQLite past its busy timeout or PostgreSQL restarting.
    const store = f.engine.store;
    const commit = store.commitIngest.bind(store);
    store.commitIngest = async (...args) => {
      if (failures > 0) {
        failures -= 1;
        throw failure!;
      }
      return commit(...args);
    };
    publisher = await mqtt.connectAsync(broker.url, { clientId: `publisher-share-${process.pid}` });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await f?.close();
    await broker?.stop();
  });

  const stored = async () => (await f.engine.store.channelStats('ch', true)).count;

  it.each([
    ['SQLite past its busy timeout', Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })],
    ['PostgreSQL shutting down', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['a lost PostgreSQL connection', new Error('Connection terminated unexpectedly')],
  ])('stores a message whose first commits fail (%s), once, and refuses nothing', async (_, error) => {
    const before = await stored();
    const stats = f.engine.ingestStats();
    failure = error;
    failures = 3;
    const id = `busy-${before}`;
    await publisher.publishAsync('dt/weather/north_field/reading', envelope(id, 100 + before), { qos: 1 });
    await until(async () => (await stored()) === before + 1, 'the message stored after the store recovered', 30_000);
    expect(failures).toBe(0);
    // Counted once, not once per attempt.
    expect(f.engine.ingestStats()).toMatchObject({ received: stats.received + 1, accepted: stats.accepted + 1, rejected: stats.rejected });
    expect((await f.engine.store.datastoreStats('ds', true)).count).toBe(before + 1);
  });

  it('refuses a message whose commit fails in a way retrying cannot fix, and goes on with the next', async () => {
    const before = await stored();
    const stats = f.engine.ingestStats();
    failure = Object.assign(new Error('unsupported Unicode escape sequence'), { code: '22P05' });
    failures = 1;
    await publisher.publishAsync('dt/weather/north_field/reading', envelope(`poison-${before}`, 200 + before), { qos: 1 });
    await publisher.publishAsync('dt/weather/north_field/reading', envelope(`after-${before}`, 201 + before), { qos: 1 });
    await until(async () => (await stored()) === before + 1, 'the message after the refused one stored', 30_000);
    expect(f.engine.ingestStats()).toMatchObject({ received: stats.received + 2, accepted: stats.accepted + 1, rejected: stats.rejected + 1, rejectedBy: { internal: 1 } });
  });
});

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

describe('a worker of a share group keeps a message unacknowledged until the store commits it', () => {
  let broker: Mosquitto;
  let f: EngineFixture;
  let publisher: mqtt.MqttClient;
  let failures = 0;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    f = await startEngine({ mqtt: { enabled: true, url: broker.url, shareGroup: 'hedgerow', clientId: `hedgerow-cloud-share-${process.pid}` } });
    await createFlow(f.engine);
    await f.engine.createTopicRule({ ruleName: 'readings', topicRulePayload: { sql: "SELECT * FROM 'dt/weather/+/reading'", actions: [{ iotAnalytics: { channelName: 'ch', batchMode: true } }] } });
    await f.engine.mqttReady();
    // The database is busy for the next `failures` commits, as SQLite past its busy timeout.
    const store = f.engine.store;
    const commit = store.commitIngest.bind(store);
    store.commitIngest = async (...args) => {
      if (failures > 0) {
        failures -= 1;
        throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
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

  it('stores a message whose first commits fail, once, and refuses nothing', async () => {
    failures = 3;
    await publisher.publishAsync('dt/weather/north_field/reading', envelope('busy-1', 100), { qos: 1 });
    await until(async () => (await f.engine.store.channelStats('ch', true)).count === 1, 'the message stored after the store recovered', 30_000);
    expect(failures).toBe(0);
    expect(f.engine.ingestStats()).toMatchObject({ accepted: 1, rejected: 0 });
    expect((await f.engine.store.datastoreStats('ds', true)).count).toBe(1);
  });
});

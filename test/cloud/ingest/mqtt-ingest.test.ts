import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto } from '../../gateway/helpers/mosquitto.ts';
import { badPayloads } from '../fixtures/bad-payloads.ts';
import { createFlow, startEngine, type EngineFixture } from '../engine/engine-fixture.ts';
import { until } from '../fixtures/until.ts';

const BAD_INPUTS = 10_000;

const envelope = (messageId: string, deviceId: string, n: number) =>
  Buffer.from(JSON.stringify({ messageId, deviceId, seq: n, sentAt: n, records: [{ ts: n, ambient_temperature: (n % 1000) / 10 }, { ts: n + 1, ambient_temperature: (n % 1000) / 10 + 1 }] }));

describe('engine: MQTT ingestion through mosquitto', () => {
  let broker: Mosquitto;
  let f: EngineFixture;
  let publisher: mqtt.MqttClient;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    f = await startEngine({ mqtt: { enabled: true, url: broker.url, clientId: `hedgerow-cloud-test-${process.pid}` } });
    await createFlow(f.engine);
    await f.engine.createTopicRule({ ruleName: 'readings', topicRulePayload: { sql: "SELECT * FROM 'dt/weather/+/reading'", actions: [{ iotAnalytics: { channelName: 'ch', batchMode: true } }] } });
    await f.engine.mqttReady();
    publisher = await mqtt.connectAsync(broker.url, { clientId: `publisher-${process.pid}` });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await f?.close();
    await broker?.stop();
  });

  const stored = async () => (await f.engine.describeDatastore({ datastoreName: 'ds', includeStatistics: true })).statistics!.size!.estimatedSizeInBytes!;

  it('stores each record of an envelope once, however often the envelope arrives', async () => {
    await publisher.publishAsync('dt/weather/station_1/reading', envelope('env-1', 'station_1', 10), { qos: 1 });
    await publisher.publishAsync('dt/weather/station_1/reading', envelope('env-1', 'station_1', 10), { qos: 1 });
    await until(() => f.engine.ingestStats().received >= 2, 'two messages');
    expect(f.engine.ingestStats()).toMatchObject({ accepted: 2, duplicates: 2, rejected: 0 });
    const sample = await f.engine.sampleChannelData({ channelName: 'ch' });
    expect(sample.payloads!.map((p) => JSON.parse(Buffer.from(p).toString()))).toEqual([
      { ts: 11, ambient_temperature: 2, device_id: 'station_1' },
      { ts: 10, ambient_temperature: 1, device_id: 'station_1' },
    ]);
  });

  it('keeps the retained status of a device as its shadow', async () => {
    await publisher.publishAsync('dt/weather/station_2/status', Buffer.from('{"online":true,"battery":77}'), { qos: 1, retain: true });
    await until(() => f.engine.getThingShadow({ thingName: 'station_2' }).then(() => true, () => false), 'the shadow');
    expect((await f.engine.getThingShadow({ thingName: 'station_2' })).state.reported).toEqual({ online: true, battery: 77 });
  });

  it(`rejects ${BAD_INPUTS} generated bad payloads with reasons, and stores the valid ones sent alongside exactly once`, async () => {
    const before = f.engine.ingestStats();
    const bytesBefore = await stored();
    const bad = badPayloads(BAD_INPUTS);
    const kinds = new Set(bad.map((b) => b.kind));
    expect(kinds.size).toBeGreaterThanOrEqual(12);
    const validEnvelopes = 100;
    let sentValid = 0;
    for (let i = 0; i < bad.length; i += 1) {
      publisher.publish(`dt/weather/fuzz_${i % 7}/reading`, bad[i]!.payload, { qos: 1 });
      if (i % 100 === 0) {
        // Every valid envelope is sent twice; the second copy must add nothing.
        const id = `valid-${sentValid}`;
        publisher.publish('dt/weather/station_3/reading', envelope(id, 'station_3', 1000 + sentValid * 10), { qos: 1 });
        publisher.publish('dt/weather/station_3/reading', envelope(id, 'station_3', 1000 + sentValid * 10), { qos: 1 });
        sentValid += 1;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    expect(sentValid).toBe(validEnvelopes);
    const expectedReceived = before.received + BAD_INPUTS + 2 * validEnvelopes;
    await until(() => f.engine.ingestStats().received >= expectedReceived, 'every payload', 60_000);
    const after = f.engine.ingestStats();
    expect(after.received).toBe(expectedReceived);
    expect(after.rejected - before.rejected).toBe(BAD_INPUTS);
    expect(after.accepted - before.accepted).toBe(2 * validEnvelopes);
    expect(after.duplicates - before.duplicates).toBe(2 * validEnvelopes);
    expect(after.lastRejection!.reason.length).toBeGreaterThan(5);
    // The engine still serves, and the datastore grew by exactly the valid records.
    const rowsAdded = (await stored()) - bytesBefore;
    const perRow = JSON.stringify({ ts: 1000, ambient_temperature: 100, device_id: 'station_3' }).length;
    expect(rowsAdded).toBeGreaterThanOrEqual(2 * validEnvelopes * (perRow - 6));
    expect(rowsAdded).toBeLessThanOrEqual(2 * validEnvelopes * (perRow + 6));
    const created = await f.engine.createDataset({ datasetName: 'fuzz_check', actions: [{ queryAction: { sqlQuery: "SELECT count(*) AS n, count(DISTINCT ts) AS d FROM ds WHERE device_id = 'station_3'" } }] });
    expect(created.datasetName).toBe('fuzz_check');
    await f.engine.createDatasetContent({ datasetName: 'fuzz_check' });
    await f.engine.idle();
    const content = await f.engine.getDatasetContent({ datasetName: 'fuzz_check' });
    const file = await f.engine.openDatasetContent({ datasetName: 'fuzz_check', versionId: content.entries![0]!.dataURI!.split('/')[3]!, entryName: 'fuzz_check.csv' });
    const { readFileSync } = await import('node:fs');
    expect(readFileSync(file.path, 'utf8')).toBe(`n,d\r\n${2 * validEnvelopes},${2 * validEnvelopes}\r\n`);
  });
});

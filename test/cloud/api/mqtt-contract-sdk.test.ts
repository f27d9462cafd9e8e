import { SampleChannelDataCommand } from '@aws-sdk/client-iotanalytics';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../../hardware/core/contract.ts';
import { weatherReading } from '../../bench/fixtures/weather-reading.ts';
import { Mosquitto } from '../../gateway/helpers/mosquitto.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';
import { until } from '../fixtures/until.ts';

/**
 * Issue 9, defect 7 end to end: stations publish to mosquitto, the cloud's own subscriber ingests with the
 * ready-made resources (cloud/resources/default.json), and the real AWS SDK client reads the channel back.
 */

describe('MQTT ingest seen through the AWS SDK: a station cannot write as another; bad records go alone', () => {
  let broker: Mosquitto;
  let t: TestCloud;
  let publisher: mqtt.MqttClient;

  beforeAll(async () => {
    broker = await Mosquitto.start();
    t = await startTestCloud({ cloud: { resourceFiles: ['cloud/resources/default.json'], mqtt: { enabled: true, url: broker.url, clientId: `hedgerow-cloud-sdk-${process.pid}`, statusTopic: 'dt/+/+/status' } } });
    await t.cloud.engine.mqttReady();
    publisher = await mqtt.connectAsync(broker.url, { clientId: `station-sdk-${process.pid}` });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await t?.stop();
    await broker?.stop();
  });

  it('keeps the impersonated and the bad records out of weather_channel, and the good ones in', async () => {
    const now = Date.now();
    const stats = () => t.cloud.engine.ingestStats();
    const impostor = { messageId: 'sdk-imp', deviceId: 'north_field', seq: 1, sentAt: now, records: [{ ...weatherReading(now), ambient_temperature: -30 }] };
    const mixed = { messageId: 'sdk-mixed', deviceId: 'south_field', seq: 1, sentAt: now, records: [weatherReading(now), { ...weatherReading(now + 1), wind_speed: 'calm' }] };
    await publisher.publishAsync(topics.weatherReading('south_field'), Buffer.from(JSON.stringify(impostor)), { qos: 1 });
    await publisher.publishAsync(topics.weatherReading('south_field'), Buffer.from(JSON.stringify(mixed)), { qos: 1 });
    await until(() => stats().received >= 2, 'both envelopes');
    expect(stats()).toMatchObject({ accepted: 1, rejected: 2, impersonations: 1 });

    const sample = await t.client.send(new SampleChannelDataCommand({ channelName: 'weather_channel', maxMessages: 10 }));
    const stored = (sample.payloads ?? []).map((p) => JSON.parse(Buffer.from(p).toString()) as Record<string, unknown>);
    expect(stored).toEqual([{ ...weatherReading(now), device_id: 'south_field' }]);
  });
});

import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto } from './helpers/mosquitto.ts';
import { makeTestPki } from './helpers/certs.ts';
import type { TestPki } from './helpers/certs.ts';
import { Collector } from './helpers/subscriber.ts';
import { openTestOutbox, recordingLog, silent, startUplink, tempDir, testUplinkSettings, weatherBatch } from './helpers/gateway-harness.ts';
import { MqttConnector } from '../../gateway/mqtt-uplink.ts';
import { AwsIotConnector, loadAwsIotSdk } from '../../gateway/aws-iot-uplink.ts';
import { BrokerExtension } from '../../gateway/broker.ts';
import { brokerSettings } from '../../gateway/settings.ts';
import type { UplinkSettings } from '../../gateway/settings.ts';
import type { UplinkConnector } from '../../gateway/uplink.ts';

const will = { topic: 'dt/weather/test/status', payload: Buffer.from('{}') };
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Sends 30 records through the uplink with this connector and checks they all arrive. */
async function deliversThrough(settings: UplinkSettings, connector: UplinkConnector, collector: Collector): Promise<void> {
  const temp = tempDir();
  const outbox = openTestOutbox(temp.dir);
  const thing = `station-${connector.kind.replace(/[^a-z0-9]/gi, '')}`;
  outbox.append(weatherBatch(thing, 0, 30));
  const service = startUplink(outbox, settings, { connector, thing });
  cleanups.push(temp.remove, () => outbox.close(), () => service.stop());
  await collector.until(() => collector.envelopes.filter((envelope) => envelope.deviceId === thing).flatMap((e) => e.records).length >= 30);
  await collector.until(() => outbox.stats().depth === 0);
}

describe('password listener', () => {
  let broker: Mosquitto;
  const user = { username: 'pi', password: 'hedgerow-secret' };
  beforeAll(async () => {
    broker = await Mosquitto.start({ user });
  });
  afterAll(async () => broker.stop());

  it('refuses a wrong password and delivers with the right one', async () => {
    const wrong = testUplinkSettings({ url: broker.url, ...user, password: 'nope' });
    await expect(new MqttConnector({ settings: wrong, clientId: 'wrong', log: silent }).connect(will)).rejects.toThrow(/Not authorized|Bad User Name or Password/i);
    const collector = await Collector.start(broker.url, 'dt/#', user);
    cleanups.push(() => collector.stop());
    const settings = testUplinkSettings({ url: broker.url, ...user });
    await deliversThrough(settings, new MqttConnector({ settings, clientId: 'right', log: silent }), collector);
  });
});

describe('mutual TLS listener', () => {
  let broker: Mosquitto;
  let pki: TestPki;
  let url: string;
  beforeAll(async () => {
    pki = makeTestPki();
    broker = await Mosquitto.start({ mtls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
    url = `mqtts://127.0.0.1:${broker.port}`;
  });
  afterAll(async () => {
    await broker.stop();
    pki.remove();
  });

  const tls = () => ({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });

  it('refuses a client without a certificate or with one from another CA', async () => {
    const bare = testUplinkSettings({ url, tls: { ca: pki.ca } });
    await expect(new MqttConnector({ settings: bare, clientId: 'bare', log: silent }).connect(will)).rejects.toThrow();
    const foreign = testUplinkSettings({ url, tls: { ca: pki.ca, cert: pki.otherClientCert, key: pki.otherClientKey } });
    await expect(new MqttConnector({ settings: foreign, clientId: 'foreign', log: silent }).connect(will)).rejects.toThrow();
  });

  it('delivers through mqtt.js and through aws-iot-device-sdk-v2 with the client certificate', async () => {
    const collector = await Collector.start(url, 'dt/#', {
      ca: readFileSync(pki.ca),
      cert: readFileSync(pki.clientCert),
      key: readFileSync(pki.clientKey),
    });
    cleanups.push(() => collector.stop());
    const viaMqtt = testUplinkSettings({ url, tls: tls() });
    await deliversThrough(viaMqtt, new MqttConnector({ settings: viaMqtt, clientId: 'mtls-mqttjs', log: silent }), collector);
    const viaSdk = testUplinkSettings({ url: `mqtts://localhost:${broker.port}`, client: 'aws-iot', tls: tls() });
    const sdk = new AwsIotConnector(await loadAwsIotSdk(), { settings: viaSdk, clientId: 'mtls-sdk', log: silent });
    await deliversThrough(viaSdk, sdk, collector);
    const devices = new Set(collector.envelopes.map((envelope) => envelope.deviceId));
    expect(devices).toEqual(new Set(['station-mqttjs', 'station-awsiotdevicesdkv2']));
  });
});

describe('embedded aedes broker', () => {
  it('speaks MQTT 3.1.1, so the uplink falls back from 5 and says so', async () => {
    const broker = new BrokerExtension(brokerSettings.parse({ port: 0 }), silent);
    await broker.start();
    cleanups.push(() => broker.stop());
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const collector = await Collector.start(url, 'dt/#', { protocolVersion: 4 });
    cleanups.push(() => collector.stop());
    const { log, lines } = recordingLog();
    const settings = testUplinkSettings({ url });
    const connector = new MqttConnector({ settings, clientId: 'fallback', log });
    await deliversThrough(settings, connector, collector);
    expect(lines().join('\n')).toMatch(/MQTT 3\.1\.1, not 5.*using MQTT 3\.1\.1/);
  });

  it('requires the configured credentials', async () => {
    const broker = new BrokerExtension(brokerSettings.parse({ port: 0, host: '127.0.0.1', username: 'class', password: 'room-42' }), silent);
    await broker.start();
    cleanups.push(() => broker.stop());
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const anonymous = testUplinkSettings({ url, protocolVersion: 4 });
    await expect(new MqttConnector({ settings: anonymous, clientId: 'anon', log: silent }).connect(will)).rejects.toThrow();
    const good = testUplinkSettings({ url, protocolVersion: 4, username: 'class', password: 'room-42' });
    const session = await new MqttConnector({ settings: good, clientId: 'good', log: silent }).connect(will);
    await session.publish('dt/weather/x/reading', Buffer.from('{}'));
    await session.end();
  });

  it('will not listen beyond loopback without credentials', () => {
    const result = brokerSettings.safeParse({ host: '0.0.0.0' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/needs broker.username and broker.password/);
  });
});

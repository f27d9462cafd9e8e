import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { topics } from '../../../hardware/core/contract.ts';
import { weatherReading } from '../../bench/fixtures/weather-reading.ts';
import { captureLog } from '../../fixtures/captured-log.ts';
import { makeTestPki, type TestPki } from '../../gateway/helpers/certs.ts';
import { Mosquitto } from '../../gateway/helpers/mosquitto.ts';
import { createFlow, FakeTime } from '../engine/engine-fixture.ts';
import { until } from '../fixtures/until.ts';
import { testStorage } from '../helpers/test-storage.ts';

/**
 * Issue 12: the engine's MQTT connection takes the uplink's TLS options, so it can subscribe to AWS IoT
 * Core or a school's TLS broker. Checked against mosquitto with `require_certificate true` and a test
 * CA made with openssl (test/gateway/helpers/certs.ts).
 */

describe('engine: MQTT over mutual TLS', () => {
  let pki: TestPki;
  let broker: Mosquitto;
  let url: string;
  const dirs: string[] = [];
  beforeAll(async () => {
    pki = makeTestPki();
    broker = await Mosquitto.start({ mtls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey } });
    url = `mqtts://127.0.0.1:${broker.port}`;
  });
  afterAll(async () => {
    await broker?.stop();
    pki?.remove();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const settingsFor = async (tls: Record<string, unknown>, name: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'hedgerow-cloud-tls-'));
    dirs.push(dir);
    return cloudSettings.parse({ dataDir: dir, ...await testStorage(dir), resourceFiles: [], mqtt: { enabled: true, url, clientId: `hedgerow-cloud-${name}-${process.pid}`, tls } });
  };
  const issues = (tls: Record<string, unknown>) => {
    const parsed = cloudSettings.safeParse({ mqtt: { tls } });
    expect(parsed.success).toBe(false);
    return parsed.error!.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('refuses at start a missing file, a key of another certificate, or a certificate without its key, naming the setting', () => {
    expect(issues({ ca: pki.ca, cert: join(pki.dir, 'nope.crt'), key: pki.clientKey })).toEqual([
      expect.stringMatching(/^mqtt\.tls\.cert: file .*nope\.crt does not exist/),
    ]);
    expect(issues({ ca: pki.ca, cert: pki.clientCert, key: pki.otherClientKey })).toEqual([
      expect.stringMatching(/^mqtt\.tls\.key: the private key .*other-client\.key is not the key of the certificate .*client\.crt/),
    ]);
    expect(issues({ cert: pki.clientCert })).toEqual(['mqtt.tls.key: mutual TLS needs both tls.cert and tls.key']);
    expect(issues({ ca: pki.clientKey })).toEqual([expect.stringMatching(/^mqtt\.tls\.ca: file .*client\.key is not a PEM certificate/)]);
  });

  it("subscribes with the engine's client certificate and ingests a station's envelope", async () => {
    const captured = captureLog('info');
    const time = new FakeTime(Date.UTC(2026, 11, 7, 12));
    const engine = new AnalyticsEngine({ settings: await settingsFor({ ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }, 'mtls'), log: captured.log, clock: time, newId: () => 'unused' });
    const station = await mqtt.connectAsync(url, {
      clientId: `station-tls-${process.pid}`,
      ca: readFileSync(pki.ca),
      cert: readFileSync(pki.clientCert),
      key: readFileSync(pki.clientKey),
    });
    try {
      await engine.start();
      await createFlow(engine);
      await engine.createTopicRule({ ruleName: 'readings', topicRulePayload: { sql: "SELECT * FROM 'dt/weather/+/reading'", actions: [{ iotAnalytics: { channelName: 'ch', batchMode: true } }] } });
      await engine.mqttReady();
      const envelope = { messageId: 'tls-1', deviceId: 'north_field', seq: 1, sentAt: time.now(), records: [weatherReading(time.now()), weatherReading(time.now() + 60_000)] };
      await station.publishAsync(topics.weatherReading('north_field'), JSON.stringify(envelope), { qos: 1 });
      await until(() => engine.ingestStats().accepted >= 2, 'the envelope over mTLS');
      const sample = await engine.sampleChannelData({ channelName: 'ch', maxMessages: 10 });
      expect(sample.payloads!.map((p) => (JSON.parse(Buffer.from(p).toString()) as { ts: number }).ts).sort()).toEqual([time.now(), time.now() + 60_000]);
      expect(captured.text()).toMatch(/cloud engine subscribed to the broker/);
    } finally {
      await station.endAsync();
      await engine.stop();
    }
  });

  it('with a certificate from another CA: refused by the broker, and the log says which certificate to fix', async () => {
    const captured = captureLog('warn');
    const engine = new AnalyticsEngine({
      settings: await settingsFor({ ca: pki.ca, cert: pki.otherClientCert, key: pki.otherClientKey }, 'foreign'),
      log: captured.log,
      clock: new FakeTime(),
      newId: () => 'unused',
    });
    try {
      await engine.start();
      await until(() => captured.problems().some((line) => /cloud MQTT connection/.test(line)), 'the refusal in the log');
      const line = captured.problems().find((l) => /cloud MQTT connection/.test(l))!;
      expect(line).toContain(`cloud MQTT connection to ${url} failed`);
      expect(line).toMatch(/the broker refused the engine's client certificate \(cloud\.mqtt\.tls\.cert\)/);
      expect(line).toMatch(/not signed by a CA the broker trusts/);
      expect(engine.ingestStats().received).toBe(0);
    } finally {
      await engine.stop();
    }
  });
});

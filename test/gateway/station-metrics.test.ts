import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { BrokerExtension } from '../../gateway/broker.ts';
import { brokerSettings } from '../../gateway/settings.ts';
import { deviceStatus, IOT_CORE, topics, type DeviceStatus } from '../../hardware/core/contract.ts';
import { openTestOutbox, silent, startUplink, tempDir, testUplinkSettings, weatherBatch } from './helpers/gateway-harness.ts';

// The station's metrics in its retained status message, against the embedded aedes broker.

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(condition: () => boolean, what: string, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('station metrics in the status message', () => {
  it('carry the outbox depth the outbox has, and count publishes and PUBACKs as envelopes go', async () => {
    const broker = new BrokerExtension(brokerSettings.parse({ port: 0 }), silent);
    await broker.start();
    cleanups.push(() => broker.stop());
    const temp = tempDir();
    cleanups.push(temp.remove);
    const outbox = openTestOutbox(temp.dir);
    cleanups.push(() => outbox.close());
    outbox.append(weatherBatch('station-1', 0, 40));
    expect(outbox.stats().depth).toBe(40);

    const url = `mqtt://127.0.0.1:${broker.port}`;
    const statuses: { status: DeviceStatus; bytes: number }[] = [];
    const client = mqtt.connect(url, { protocolVersion: 4, clientId: `metrics-${process.pid}` });
    cleanups.push(() => client.endAsync(true));
    client.on('message', (_topic, payload) => statuses.push({ status: deviceStatus.parse(JSON.parse(payload.toString())), bytes: payload.length }));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => client.subscribe(topics.status('weather', 'station-1'), { qos: 1 }, (error) => (error ? reject(error) : resolve())));
    });

    // One record per envelope at 20 publishes a second: the drain takes about two seconds, with a status every 200 ms.
    const service = startUplink(outbox, testUplinkSettings({ url, maxRecordsPerEnvelope: 1, maxPublishesPerSecond: 20, statusInterval: '200ms' }));
    cleanups.push(() => service.stop());
    await until(() => statuses.some((s) => s.status.metrics?.hedgerow_outbox_depth_records === 0), 'a status with an empty outbox');

    const online = statuses.filter((s) => s.status.state === 'online');
    // The first status is made before any PUBACK came back: its depth is the outbox's 40.
    expect(online[0]!.status.metrics).toMatchObject({ hedgerow_outbox_depth_records: 40, hedgerow_uplink_connected: 1, hedgerow_outbox_sent_records_total: 0 });
    for (const { status, bytes } of online) {
      const m = status.metrics!;
      expect(m.hedgerow_outbox_depth_records).toBe(status.depth);
      expect(m.hedgerow_outbox_bytes).toBe(status.bytes);
      expect(m.hedgerow_outbox_sent_records_total).toBe(status.sentRecords);
      expect(m.hedgerow_outbox_dropped_records_total).toBe(status.droppedRecords);
      expect(m.hedgerow_outbox_retried_envelopes_total).toBe(status.retriedEnvelopes);
      // Every acknowledged envelope was published and had its PUBACK timed.
      expect(m.hedgerow_uplink_publishes_total).toBeGreaterThanOrEqual(m.hedgerow_outbox_sent_envelopes_total!);
      expect(m.hedgerow_uplink_puback_seconds_count).toBeGreaterThanOrEqual(m.hedgerow_outbox_sent_envelopes_total!);
      expect(bytes).toBeLessThan(IOT_CORE.maxPayloadBytes);
    }
    const depths = online.map((s) => s.status.metrics!.hedgerow_outbox_depth_records!);
    expect(depths.some((d) => d > 0 && d < 40), `some status mid-drain: ${depths.join(',')}`).toBe(true);
    const last = online.at(-1)!.status.metrics!;
    expect(last.hedgerow_outbox_sent_records_total).toBe(outbox.stats().sentRecords);
    expect(last.hedgerow_uplink_puback_seconds_count).toBe(40);
    expect(last.hedgerow_uplink_puback_seconds_sum).toBeGreaterThan(0);
  });
});

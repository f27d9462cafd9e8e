import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto } from '../../gateway/helpers/mosquitto.ts';
import { readingEnvelope, startCloudWorker, weatherCounts, type CloudWorker } from '../helpers/cloud-worker.ts';
import { until } from '../fixtures/until.ts';

/**
 * Real `hedgerow cloud` worker processes on one SQLite folder behind mosquitto's `$share/hedgerow/`
 * subscriptions, fed by two publishers as stations publish. One worker is SIGKILLed mid-stream and
 * started again with its clientId (its persistent session holds what it had not acknowledged); a third
 * joins. Every envelope must land in the datastore exactly once.
 */

const PER_PUBLISHER = 150;
const PUBLISHERS = ['north_field', 'south_field'];
const BASE_TS = Date.now() - 3600_000;

describe('several hedgerow cloud workers share one SQLite folder through $share', () => {
  let broker: Mosquitto;
  let work: string;
  const workers: CloudWorker[] = [];

  beforeAll(async () => {
    broker = await Mosquitto.start();
    work = mkdtempSync(join(tmpdir(), 'hedgerow-share-'));
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await broker?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  async function startWorker(id: string): Promise<CloudWorker> {
    const worker = await startCloudWorker({ work, brokerUrl: broker.url, id, shareGroup: 'hedgerow' });
    workers.push(worker);
    return worker;
  }
  const counts = () => weatherCounts(work);

  /** How many MQTT messages a worker handled since it started, from its Prometheus endpoint. */
  async function received(worker: CloudWorker): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    const line = /^hedgerow_mqtt_messages_total (\d+)$/m.exec(text);
    if (!line) throw new Error(`no hedgerow_mqtt_messages_total in ${worker.id}'s /metrics:\n${text.slice(0, 500)}`);
    return Number(line[1]);
  }

  it('stores every envelope exactly once while a worker is SIGKILLed, restarted and a third joins', async () => {
    const w1 = await startWorker('hedgerow-cloud-w1');
    const w2 = await startWorker('hedgerow-cloud-w2');
    const publishers = await Promise.all(PUBLISHERS.map((deviceId) => mqtt.connectAsync(broker.url, { clientId: `station-${deviceId}-${process.pid}` })));
    const third = Math.ceil(PER_PUBLISHER / 3);
    // Each publisher sends its envelopes n in [from, to) one after the other at QoS 1, as a station's uplink.
    const send = (from: number, to: number) =>
      Promise.all(
        PUBLISHERS.map(async (deviceId, p) => {
          for (let n = from; n < to; n++) await publishers[p]!.publishAsync(`dt/weather/${deviceId}/reading`, readingEnvelope(deviceId, n, BASE_TS), { qos: 1 });
        }),
      );
    try {
      await send(0, third);
      w2.child.kill('SIGKILL');
      // The stream goes on while w2 comes back with its clientId (and session) and w3 joins.
      const rejoined = w2.exited.then(async () => [await startWorker('hedgerow-cloud-w2'), await startWorker('hedgerow-cloud-w3')] as const);
      await send(third, 2 * third);
      const [w2again, w3] = await rejoined;
      await send(2 * third, PER_PUBLISHER);
      const total = PER_PUBLISHER * PUBLISHERS.length;
      await until(() => counts().rows >= total, `all ${total} readings in the datastore`, 60_000);
      // The broker spread the group's messages: the last phase reached the newcomer, and w1 never saw them all.
      const live = await Promise.all([w1, w2again, w3].map(received));
      expect(live[2]).toBeGreaterThan(0);
      expect(live[0]).toBeGreaterThan(0);
      expect(live[0]).toBeLessThan(total);
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      // Counted after every worker stopped, so a late redelivery would show as a second row.
      expect(counts()).toEqual({ rows: total, ids: total });
    } finally {
      await Promise.all(publishers.map((p) => p.endAsync()));
    }
  }, 90_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto } from '../../gateway/helpers/mosquitto.ts';
import { readingEnvelope, startCloudWorker, storedWeather, type CloudWorker } from '../helpers/cloud-worker.ts';
import { Postgres, hasPostgres } from '../helpers/postgres.ts';
import { until } from '../fixtures/until.ts';

/**
 * Real `hedgerow cloud` worker processes on one store behind mosquitto's `$share/hedgerow/`
 * subscriptions, fed by two publishers as stations publish. One worker is SIGKILLed mid-stream and
 * started again with its clientId (its persistent session holds what it had not acknowledged); a third
 * joins. On PostgreSQL the server is also killed and restarted while the publishers go on. Every
 * envelope must land in the datastore exactly once.
 */

const PER_PUBLISHER = 150;
const PUBLISHERS = ['north_field', 'south_field'];
const BASE_TS = Date.now() - 3600_000;
/**
 * Hang guards only: a case took 50-60 s here at a load average of 18 and over 90 s at 32, mostly its
 * five `hedgerow cloud` starts. A worker outliving the test is killed.
 */
const TEST_LIMIT_MS = 240_000;
const CHILD_KILL_MS = TEST_LIMIT_MS - 10_000;

interface Backend {
  name: string;
  /** The workers' `cloud.storage`: undefined for SQLite in the shared folder. */
  storage(): Promise<string | undefined>;
  /** Whether outage() takes the database down: PostgreSQL is SIGKILLed, then started again; SQLite has no server. */
  restarts: boolean;
  /** Runs `during` while the database is down, if it has a server to take down. */
  outage(during: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

// One PostgreSQL server for the file, started only if its case runs.
let postgres: Promise<Postgres> | undefined;
const server = () => (postgres ??= Postgres.start());
const backends: Backend[] = [
  { name: 'one SQLite folder', restarts: false, storage: async () => undefined, outage: (during) => during(), stop: async () => undefined },
  ...(hasPostgres()
    ? [{
        name: 'one PostgreSQL database',
        restarts: true,
        storage: async () => (await server()).createDatabase('share'),
        outage: async (during: () => Promise<void>) => {
          const s = await server();
          await s.crash();
          await during();
          await s.resume();
        },
        stop: async () => (await postgres)?.stop(),
      }]
    : []),
];

describe.each(backends)('several hedgerow cloud workers share $name through a shared subscription', (backend) => {
  let broker: Mosquitto;
  let work: string;
  let storage: string | undefined;
  const workers: CloudWorker[] = [];

  beforeAll(async () => {
    broker = await Mosquitto.start();
    work = mkdtempSync(join(tmpdir(), 'hedgerow-share-'));
    storage = await backend.storage();
  }, 120_000);
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.exited));
    await broker?.stop();
    await backend.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  }, 60_000);

  async function startWorker(id: string): Promise<CloudWorker> {
    const worker = await startCloudWorker({ work, brokerUrl: broker.url, id, shareGroup: 'hedgerow', storage, killAfterMs: CHILD_KILL_MS });
    workers.push(worker);
    return worker;
  }
  const counts = () => storedWeather(work, storage);

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
    const send = async (from: number, to: number) => {
      await Promise.all(
        PUBLISHERS.map(async (deviceId, p) => {
          for (let n = from; n < to; n++) await publishers[p]!.publishAsync(`dt/weather/${deviceId}/reading`, readingEnvelope(deviceId, n, BASE_TS), { qos: 1 });
        }),
      );
    };
    try {
      await send(0, third);
      w2.child.kill('SIGKILL');
      // The stream goes on while w2 comes back with its clientId (and session) and w3 joins.
      const rejoined = w2.exited.then(() => Promise.all([startWorker('hedgerow-cloud-w2'), startWorker('hedgerow-cloud-w3')]));
      await send(third, 2 * third);
      const [w2again, w3] = await rejoined;
      // The last third: the workers are still storing the first ones when the database goes down, and
      // the publishers go on meanwhile; the workers hold what they cannot commit until it is back.
      const quarter = Math.ceil(third / 4);
      await send(2 * third, 2 * third + quarter);
      await backend.outage(() => send(2 * third + quarter, 2 * third + 3 * quarter));
      await send(2 * third + 3 * quarter, PER_PUBLISHER);
      const total = PER_PUBLISHER * PUBLISHERS.length;
      await until(async () => (await counts()).rows >= total, `all ${total} readings in the datastore`, 120_000);
      // The broker spread the group's messages: every worker handled some, and w1 never saw them all.
      const live = await Promise.all([w1, w2again, w3].map(received));
      for (const n of live) expect(n).toBeGreaterThan(0);
      expect(live[0]).toBeLessThan(total);
      for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      // Counted after every worker stopped, so a late redelivery would show as a second row.
      expect(await counts()).toEqual({ rows: total, ids: total });
      if (backend.restarts) {
        // The outage was felt: workers held messages they could not commit, and said so once it ended.
        const felt = workers.filter((w) => w.output().includes('it stays unacknowledged and is retried'));
        expect(felt.length).toBeGreaterThan(0);
        for (const w of felt) expect(w.output()).toContain('the store accepts messages again; ingest resumed');
      }
    } finally {
      await Promise.all(publishers.map((p) => p.endAsync()));
    }
  }, TEST_LIMIT_MS);
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto, freePort } from './helpers/mosquitto.ts';
import { Collector } from './helpers/subscriber.ts';
import { openTestOutbox, startUplink, tempDir, weatherBatch } from './helpers/gateway-harness.ts';
import { uplinkSettings } from '../../gateway/settings.ts';
import type { CapPolicy } from '../../gateway/outbox.ts';

const temp = tempDir();
afterAll(() => temp.remove());

describe('broker outage', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await Mosquitto.start();
  });
  afterAll(async () => broker.stop());

  it('delivers every record once the broker is back, and resumes within 5 s of its return', { timeout: 60_000 }, async () => {
    const outbox = openTestOutbox(temp.dir);
    const collector = await Collector.start(broker.url, 'dt/weather/+/reading');
    // Default reconnect settings: the promise of resuming within 5 s is the default's, not a test tweak.
    const service = startUplink(outbox, uplinkSettings.parse({ url: broker.url, pollInterval: '50ms' }));
    let n = 0;
    const appendSome = () => outbox.append(weatherBatch('station-1', (n += 1) - 1, 1));
    for (let i = 0; i < 20; i += 1) appendSome();
    await collector.until(() => collector.records().length === 20);

    await broker.pause();
    const during = setInterval(appendSome, 20);
    await new Promise((done) => setTimeout(done, 2_500));
    expect(service.status().state).toBe('offline');
    await broker.resume();
    const resumedAt = Date.now();
    const before = collector.records().length;
    await collector.until(() => collector.records().length > before, 15_000);
    const resumeMs = Date.now() - resumedAt;
    clearInterval(during);
    const total = n;
    await collector.until(() => new Set(collector.records().map((record) => record.n)).size === total, 15_000);
    await service.stop();
    await collector.stop();
    const unique = [...new Set(collector.records().map((record) => record.n))].sort((a, b) => Number(a) - Number(b));
    expect(unique).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(outbox.stats().depth).toBe(0);
    outbox.close();
    console.log(`outage: ${total} records, drain resumed ${resumeMs} ms after the broker came back`);
    // The 5 s promise rests on the backoff ceiling (the next attempt is never later than reconnectMax,
    // checked in uplink-flow.test.ts), not on a wall-clock figure from a loaded machine.
    expect(uplinkSettings.parse({}).reconnectMax).toBeLessThanOrEqual(5_000);
  });
});

describe('byte cap with the broker down', () => {
  const size = Buffer.byteLength(JSON.stringify(weatherBatch('station-1', 100, 1)[0]!.record));
  const policies: CapPolicy[] = ['drop-oldest', 'drop-newest', 'block'];

  it('keeps and drops exactly what each policy says, counts it, and delivers what it kept', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    // The subscriber's persistent session is made first, so what the uplinks send the moment the
    // broker returns is queued for it.
    const broker = await Mosquitto.start({ port });
    const collector = await Collector.start(url, 'dt/weather/+/reading');
    await broker.pause();
    const runs = policies.map((policy) => {
      const outbox = openTestOutbox(temp.dir, { path: `${temp.dir}/${policy}.db`, capBytes: size * 10, capPolicy: policy });
      const service = startUplink(outbox, uplinkSettings.parse({ url, reconnectMin: '50ms', reconnectMax: '300ms', pollInterval: '50ms' }), { thing: policy });
      // Records 100..124, one batch of 5 at a time: 25 records against room for 10. Block holds the
      // 15 that do not fit in memory (none thrown, none dropped yet).
      for (let from = 100; from < 125; from += 5) outbox.append(weatherBatch(`station-${policy}`, from, 5));
      return { policy, outbox, service, refused: outbox.stats().refusedBatches };
    });
    const expected: Record<CapPolicy, number[]> = {
      'drop-oldest': [115, 116, 117, 118, 119, 120, 121, 122, 123, 124],
      'drop-newest': [100, 101, 102, 103, 104, 105, 106, 107, 108, 109],
      block: [100, 101, 102, 103, 104, 105, 106, 107, 108, 109],
    };
    for (const run of runs) {
      expect(run.outbox.stats(), run.policy).toMatchObject({ depth: 10, droppedRecords: run.policy === 'block' ? 0 : 15 });
      expect(run.refused, run.policy).toBe(run.policy === 'block' ? 3 : 0);
    }
    await broker.resume();
    try {
      for (const run of runs) await collector.until(() => run.outbox.stats().depth === 0);
      await collector.until(() => collector.records().length >= 30);
      for (const policy of policies) {
        const got = collector.envelopes.filter((envelope) => envelope.deviceId === `station-${policy}`).flatMap((envelope) => envelope.records.map((record) => record.n));
        expect(got, policy).toEqual(expected[policy]);
      }
      for (const run of runs) expect(run.service.status(), run.policy).toMatchObject({ droppedRecords: run.policy === 'block' ? 0 : 15, sentRecords: 10 });
    } finally {
      for (const run of runs) {
        await run.service.stop();
        run.outbox.close();
      }
      await collector.stop();
      await broker.stop();
    }
  });
});

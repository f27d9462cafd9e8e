import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { Mosquitto } from './helpers/mosquitto.ts';
import { Collector } from './helpers/subscriber.ts';
import { openTestOutbox, tempDir, weatherBatch } from './helpers/gateway-harness.ts';
import type { Envelope } from '../../hardware/core/contract.ts';

const root = resolve(import.meta.dirname, '../..');
const KILLS = 30;
const DEVICES = ['station-a', 'station-b', 'station-c'];
const PER_DEVICE = 2_500;
/** Slow enough that the backlog outlives 30 kills; the last run, never killed, drains at full speed. */
const PUBLISHES_PER_SECOND = 20;
const PER_ENVELOPE = 5;

let broker: Mosquitto;
const temp = tempDir();
beforeAll(async () => {
  broker = await Mosquitto.start();
});
afterAll(async () => {
  await broker.stop();
  temp.remove();
});

function startGateway(path: string, rate = PUBLISHES_PER_SECOND): { child: ChildProcess; online: Promise<void>; exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['bin/run-ts.js', 'test/gateway/fixtures/gateway-process.ts', path, broker.url, String(rate), String(PER_ENVELOPE)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const online = new Promise<void>((resolve) => child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('online') && resolve()));
  return { child, online, exited: once(child, 'close') };
}

describe('gateway crash loop', () => {
  it('loses nothing across 30 SIGKILLs mid-drain; duplicates share a messageId; per-device seq order holds', { timeout: 180_000 }, async () => {
    const path = join(temp.dir, 'outbox.db');
    const outbox = openTestOutbox(temp.dir);
    for (let i = 0; i < PER_DEVICE; i += 100) outbox.append(DEVICES.flatMap((device) => weatherBatch(device, i, 100)));
    outbox.close();
    const collector = await Collector.start(broker.url, 'dt/weather/+/reading');

    let kills = 0;
    while (kills < KILLS) {
      const gateway = startGateway(path);
      await gateway.online;
      await new Promise((done) => setTimeout(done, Math.random() * 200));
      gateway.child.kill('SIGKILL');
      await gateway.exited;
      kills += 1;
    }
    const uniqueAtLastKill = new Set(collector.envelopes.map((e) => e.messageId)).size;
    const last = startGateway(path, 0);
    await collector.until(() => new Set(collector.envelopes.map((e) => e.messageId)).size * PER_ENVELOPE >= DEVICES.length * PER_DEVICE, 60_000);
    last.child.kill('SIGTERM');
    await last.exited;
    await collector.stop();

    // Dedupe by messageId, keeping the first arrival; a duplicate must be byte-for-byte the same records.
    const first = new Map<string, Envelope<Record<string, unknown>>>();
    let duplicates = 0;
    for (const envelope of collector.envelopes) {
      const seen = first.get(envelope.messageId);
      if (!seen) first.set(envelope.messageId, envelope);
      else {
        duplicates += 1;
        expect({ ...envelope, sentAt: 0 }).toEqual({ ...seen, sentAt: 0 });
      }
    }
    const unique = [...first.values()];
    for (const device of DEVICES) {
      const mine = unique.filter((envelope) => envelope.deviceId === device);
      // Seq rises strictly in arrival order, and each envelope continues where the previous ended.
      let expected = 1;
      for (const envelope of mine) {
        expect(envelope.seq).toBe(expected);
        expected += envelope.records.length;
      }
      expect(mine.flatMap((envelope) => envelope.records.map((record) => record.n))).toEqual(Array.from({ length: PER_DEVICE }, (_, i) => i));
    }
    const sent = unique.reduce((sum, envelope) => sum + envelope.records.length, 0);
    const lost = DEVICES.length * PER_DEVICE - sent;
    console.log(
      `crash loop: ${kills} kills, ${DEVICES.length * PER_DEVICE} records queued, ${sent} delivered (${unique.length} envelopes), ` +
        `${lost} lost, ${duplicates} duplicate envelopes (same messageId), ${uniqueAtLastKill} of ${unique.length} envelopes had arrived by the last kill`,
    );
    expect(lost).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(30);
    // The kills landed mid-drain: part of the backlog was still queued when the last one came.
    expect(uniqueAtLastKill).toBeLessThan(unique.length);
  });
});

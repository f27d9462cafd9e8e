import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Outbox } from '../../gateway/outbox.ts';
import { formatStatus, readStatus } from '../../gateway/status.ts';
import type { OutgoingRecord } from '../../hardware/core/contract.ts';

const FIVE_MINUTES = 5 * 60_000;
const START = Date.parse('2026-06-01T00:00:00Z');
let dir: string;
let path: string;

/** A pino logger whose lines are kept, to count what the journal would get. */
function journal(): { log: pino.Logger; lines: { level: number; msg: string; err?: unknown }[] } {
  const lines: { level: number; msg: string; err?: unknown }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

function sample(n: number): OutgoingRecord {
  return { deviceId: 'station-1', topic: 'dt/weather/station-1/reading', record: { ts: START + n * FIVE_MINUTES, ambient_temperature: 12.5, n } };
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-block-'));
  path = join(dir, 'outbox.db');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('capPolicy block with the broker away', () => {
  it('keeps, holds, then counts every sample of a long outage, logging only state changes', async () => {
    const { log, lines } = journal();
    const capBytes = 4 * 1024;
    const outbox = Outbox.open({ path, log, capBytes, capPolicy: 'block', holdRecords: 20 });
    const samples = 400;
    // A station appends one sample per tick and does not expect append to throw.
    for (let n = 0; n < samples; n += 1) outbox.append([sample(n)]);
    const stats = outbox.stats();
    expect(stats.bytes).toBeLessThanOrEqual(capBytes);
    expect(stats.depth).toBeGreaterThan(0);
    // Every sample is stored, held (20) or counted as dropped: none vanish.
    expect(stats.depth + 20 + stats.droppedRecords).toBe(samples);
    expect(stats.droppedRecords).toBeGreaterThan(0);

    // `hedgerow status`, from another handle, reads the same count.
    const report = readStatus(path, pino({ level: 'silent' }));
    expect(report.outbox.droppedRecords).toBe(stats.droppedRecords);
    expect(formatStatus(report).join('\n')).toContain(`dropped ${stats.droppedRecords},`);

    // One line on reaching the cap, one on starting to drop: not one per sample, and no stack trace.
    await new Promise((resolve) => setImmediate(resolve));
    const loud = lines.filter((line) => line.level >= 40);
    expect(loud.map((line) => line.msg)).toEqual([expect.stringMatching(/holding new records in memory/), expect.stringMatching(/dropping newer records, counted/)]);
    expect(lines.some((line) => line.err !== undefined)).toBe(false);

    // The uplink drains the queue; the next sample brings the held ones in first, in order.
    outbox.ack(outbox.readUnsent({ limit: 1_000 }).map((row) => row.id));
    const firstHeld = stats.depth;
    outbox.append([sample(samples)]);
    const queued = outbox.readUnsent({ limit: 1_000 }).map((row) => (JSON.parse(row.record) as { n: number }).n);
    expect(queued).toEqual([...Array.from({ length: 20 }, (_, i) => firstHeld + i), samples]);

    // Room again: the drop is logged once, with its time range (the samples after the held ones).
    await new Promise((resolve) => setImmediate(resolve));
    const summary = lines.filter((line) => /dropped \d+ records \(policy block\)/.test(line.msg));
    expect(summary).toHaveLength(1);
    const firstLost = firstHeld + 20;
    expect(summary[0]).toMatchObject({
      dropped: stats.droppedRecords,
      fromTs: sample(firstLost).record.ts,
      toTs: sample(samples - 1).record.ts,
    });
    outbox.close();
  });

  it('counts the held samples as dropped when the outbox closes while full', () => {
    const { log } = journal();
    const outbox = Outbox.open({ path, log, capBytes: 2 * 1024, capPolicy: 'block', holdRecords: 50 });
    for (let n = 0; n < 60; n += 1) outbox.append([sample(n)]);
    const before = outbox.stats();
    expect(before.droppedRecords).toBe(0);
    outbox.close();
    expect(readStatus(path, pino({ level: 'silent' })).outbox).toMatchObject({ depth: before.depth, droppedRecords: 60 - before.depth });
  });
});

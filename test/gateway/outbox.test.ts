import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Outbox, OutboxRecordError } from '../../gateway/outbox.ts';
import type { OutboxOptions } from '../../gateway/outbox.ts';
import { groupRows } from '../../gateway/envelope.ts';
import type { OutgoingRecord } from '../../hardware/core/contract.ts';

const log = pino({ level: 'silent' });
let dir: string;
let path: string;
const open: Outbox[] = [];

function openOutbox(options: Partial<OutboxOptions> = {}): Outbox {
  const outbox = Outbox.open({ path, log, ...options });
  open.push(outbox);
  return outbox;
}

function rec(deviceId: string, ts: number, extra: Record<string, unknown> = {}): OutgoingRecord {
  return { deviceId, topic: `dt/weather/${deviceId}/reading`, record: { ts, ambient_temperature: 21.5, ...extra } };
}

const limits = { maxRecords: 10, maxBytes: 128_000, maxEnvelopes: 100 };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-outbox-'));
  path = join(dir, 'outbox.db');
});

afterEach(() => {
  for (const outbox of open.splice(0)) outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('Outbox', () => {
  it('appends, reads the oldest unsent, acknowledges and reports stats', () => {
    let now = 10_000;
    let id = 0;
    const outbox = openOutbox({ now: () => now, newId: () => `id-${++id}` });
    outbox.append([rec('a', 1_000), rec('a', 2_000)]);
    outbox.append([rec('b', 3_000)]);
    const rows = outbox.readUnsent({ limit: 10 });
    expect(rows.map((row) => [row.deviceId, row.seq, row.messageId, row.ts])).toEqual([
      ['a', 1, 'id-1', 1_000],
      ['a', 2, 'id-2', 2_000],
      ['b', 1, 'id-3', 3_000],
    ]);
    expect(JSON.parse(rows[0]!.record)).toEqual({ ts: 1_000, ambient_temperature: 21.5 });
    const bytes = rows.reduce((sum, row) => sum + Buffer.byteLength(row.record), 0);
    expect(outbox.stats()).toMatchObject({ depth: 3, bytes, oldestTs: 1_000, oldestAgeMs: 9_000 });
    now = 20_000;
    expect(outbox.ack([rows[0]!.id, 999_999])).toBe(1);
    expect(outbox.stats()).toMatchObject({ depth: 2, oldestTs: 2_000, oldestAgeMs: 18_000, sentRecords: 1 });
    expect(outbox.ack(outbox.readUnsent({ limit: 10 }).map((row) => row.id))).toBe(2);
    expect(outbox.stats()).toMatchObject({ depth: 0, bytes: 0, oldestAgeMs: null, sentRecords: 3 });
  });

  it('reads live-first (newest rows) and filters by topic and device', () => {
    const outbox = openOutbox();
    for (let i = 1; i <= 5; i += 1) outbox.append([rec('a', i), rec('b', i * 10)]);
    expect(outbox.readUnsent({ limit: 2, newest: true }).map((row) => row.ts)).toEqual([5, 50]);
    expect(outbox.readUnsent({ limit: 2, deviceId: 'b' }).map((row) => row.ts)).toEqual([10, 20]);
    expect(outbox.readUnsent({ limit: 10, topic: 'dt/weather/a/reading', newest: true }).map((row) => row.seq)).toEqual([
      1, 2, 3, 4, 5,
    ]);
    const mark = outbox.readUnsent({ limit: 4 }).at(-1)!.id;
    expect(outbox.readUnsent({ limit: 100, afterId: mark }).map((row) => row.ts)).toEqual([3, 30, 4, 40, 5, 50]);
    expect(outbox.readUnsent({ limit: 100, upToId: mark }).map((row) => row.ts)).toEqual([1, 10, 2, 20]);
  });

  it('continues each device seq after a reopen, without gaps', () => {
    const first = openOutbox();
    first.append([rec('a', 1), rec('a', 2), rec('b', 3)]);
    first.ack(first.readUnsent({ limit: 10 }).map((row) => row.id));
    first.close();
    const second = openOutbox();
    second.append([rec('b', 4), rec('a', 5)]);
    expect(second.readUnsent({ limit: 10 }).map((row) => [row.deviceId, row.seq])).toEqual([
      ['b', 2],
      ['a', 3],
    ]);
    expect(second.stats()).toMatchObject({ depth: 2, sentRecords: 3 });
  });

  it('never reuses a row id, even after the table empties and the file is reopened', () => {
    const first = openOutbox();
    first.append([rec('a', 1), rec('a', 2)]);
    first.ack(first.readUnsent({ limit: 10 }).map((row) => row.id));
    first.append([rec('a', 3)]);
    expect(first.readUnsent({ limit: 10 }).map((row) => row.id)).toEqual([3]);
    first.ack([3]);
    first.close();
    const second = openOutbox();
    expect(second.lastId()).toBe(3);
    second.append([rec('a', 4)]);
    expect(second.readUnsent({ limit: 10 }).map((row) => [row.id, row.seq])).toEqual([[4, 4]]);
  });

  it('rejects a batch with an unsendable record and stores none of it', () => {
    const outbox = openOutbox();
    expect(() => outbox.append([rec('a', 1), { deviceId: 'a', topic: 'dt/weather/+/reading', record: { ts: 2 } }])).toThrow(
      OutboxRecordError,
    );
    expect(() => outbox.append([{ deviceId: 'a', topic: 'a/b/c/d/e/f/g/h/i', record: { ts: 2 } }])).toThrow(/8 levels/);
    expect(() => outbox.append([rec('a', 1, { blob: 'x'.repeat(200_000) })])).toThrow(/bytes/);
    expect(outbox.stats().depth).toBe(0);
    outbox.append([rec('a', 3)]);
    expect(outbox.readUnsent({ limit: 1 })[0]!.seq).toBe(1);
  });

  it('stamps envelopes durably: after a reopen the same groups come back with the same messageId', () => {
    const first = openOutbox();
    for (let i = 0; i < 25; i += 1) first.append([rec('a', i)]);
    first.append([rec('b', 100)]);
    const stamped = first.stampEnvelopes({ ...limits, maxEnvelopes: 2 });
    expect(stamped.map((e) => [e.deviceId, e.seq, e.count])).toEqual([
      ['a', 1, 10],
      ['a', 11, 10],
    ]);
    first.close();
    const second = openOutbox();
    const again = second.stampedEnvelopes(10);
    expect(again).toEqual(stamped);
    expect(second.stampedEnvelopes(10, new Set([stamped[0]!.id])).map((e) => e.id)).toEqual([stamped[1]!.id]);
    // New envelopes come only from rows never stamped.
    const rest = second.stampEnvelopes(limits);
    expect(rest.map((e) => [e.deviceId, e.seq, e.count])).toEqual([
      ['a', 21, 5],
      ['b', 1, 1],
    ]);
    expect(second.ackEnvelopes([stamped[0]!.id, stamped[1]!.id])).toBe(20);
    expect(second.stats()).toMatchObject({ depth: 6, sentRecords: 20, sentEnvelopes: 2, stampedRows: 6 });
    second.countRetries(2);
    expect(second.stats().retriedEnvelopes).toBe(2);
  });

  it('forms envelopes from contiguous runs of one device, so each envelope is an id range', () => {
    const outbox = openOutbox();
    outbox.append([rec('a', 1), rec('a', 2), rec('b', 3), rec('b', 4), rec('a', 5), rec('b', 6)]);
    const envelopes = outbox.stampEnvelopes(limits);
    expect(envelopes.map((e) => [e.deviceId, e.seq, e.count])).toEqual([
      ['a', 1, 2],
      ['b', 1, 2],
      ['a', 3, 1],
      ['b', 3, 1],
    ]);
    expect(outbox.stats().stampedRows).toBe(6);
    expect(outbox.readUnsent({ limit: 10 })).toEqual([]);
  });

  it('keeps the messageId of an envelope equal to its first row', () => {
    const outbox = openOutbox();
    outbox.append([rec('a', 1), rec('a', 2)]);
    const [row] = outbox.readUnsent({ limit: 1 });
    const [envelope] = outbox.stampEnvelopes(limits);
    expect(envelope).toMatchObject({ id: row!.id, messageId: row!.messageId, seq: 1, count: 2 });
    expect(JSON.parse(`[${envelope!.body}]`).map((record: { ts: number }) => record.ts)).toEqual([1, 2]);
  });

  it('stamps in small steps the same envelopes as one grouping of the whole queue: runs, gaps, mixed devices, large records', () => {
    const outbox = openOutbox({ capBytes: 60_000, capPolicy: 'drop-oldest' });
    const batch = (deviceId: string, from: number, count: number, extra: Record<string, unknown> = {}) =>
      Array.from({ length: count }, (_, i) => rec(deviceId, from + i, extra));
    outbox.append(batch('a', 0, 95));
    outbox.append([...batch('a', 100, 3), ...batch('b', 200, 2), ...batch('a', 103, 4)]);
    outbox.append(batch('b', 300, 23));
    outbox.append(batch('a', 400, 6, { blob: 'x'.repeat(5_000) }));
    outbox.append(batch('a', 500, 40));
    // The cap evicts the oldest rows: a gap in ids and seq at the front.
    outbox.append(batch('c', 600, 12, { blob: 'y'.repeat(2_000) }));
    const grouping = { maxRecords: 10, maxBytes: 12_000 };
    const expected = groupRows(outbox.readUnsent({ limit: 10_000 }), { ...grouping, maxEnvelopes: 10_000 }).map((plan) => [plan.id, plan.count]);
    const cursor = { scannedTo: 0 };
    const stamped: number[][] = [];
    for (let step = 0; step < 100; step += 1) {
      const envelopes = outbox.stampEnvelopes({ ...grouping, maxEnvelopes: 1 + (step % 3), fill: 1, readAheadBytes: 20_000, cursor });
      if (envelopes.length === 0) break;
      stamped.push(...envelopes.map((envelope) => [envelope.id, envelope.count]));
      for (const envelope of envelopes) {
        const records = JSON.parse(`[${envelope.body}]`) as { ts: number }[];
        expect(records).toHaveLength(envelope.count);
      }
    }
    expect(outbox.stats().droppedRecords).toBeGreaterThan(0);
    expect(stamped).toEqual(expected);
    expect(outbox.readUnsent({ limit: 10 })).toEqual([]);
  });

  it('forms byte-bound envelopes by whole chunks, packed as full as one grouping of the whole queue', () => {
    const outbox = openOutbox();
    // Same-size records: 40 of them fit 12,000 bytes, far under maxRecords, as IoT Core's 128 KB does.
    for (let i = 0; i < 5; i += 1) outbox.append(Array.from({ length: 100 }, (_, k) => rec('a', 10_000 + i * 100 + k, { pad: 'p'.repeat(250) })));
    const grouping = { maxRecords: 1_000, maxBytes: 12_000 };
    const expected = groupRows(outbox.readUnsent({ limit: 10_000 }), { ...grouping, maxEnvelopes: 10_000 }).map((plan) => [plan.id, plan.count]);
    expect(expected[0]![1]).toBeGreaterThan(8);
    const cursor = { scannedTo: 0 };
    const stamped: number[][] = [];
    for (let envelopes = outbox.stampEnvelopes({ ...grouping, maxEnvelopes: 3, cursor }); envelopes.length > 0; envelopes = outbox.stampEnvelopes({ ...grouping, maxEnvelopes: 3, cursor })) {
      for (const envelope of envelopes) expect(Buffer.byteLength(`{"messageId":"${envelope.messageId}","deviceId":"a","seq":${envelope.seq},"sentAt":1,"records":[${envelope.body}]}`)).toBeLessThanOrEqual(12_000);
      stamped.push(...envelopes.map((envelope) => [envelope.id, envelope.count]));
    }
    expect(stamped).toEqual(expected);
  });

  it('never joins two devices whose seq happen to follow each other in one id range', () => {
    const outbox = openOutbox();
    outbox.append(Array.from({ length: 5 }, (_, i) => rec('y', i)));
    const cursor = { scannedTo: 0 };
    outbox.ackEnvelopes(outbox.stampEnvelopes({ ...limits, cursor }).map((envelope) => envelope.id));
    // x's seq 1..5, then y's 6..10: ten rows, ten consecutive seq numbers, two devices.
    outbox.append([...Array.from({ length: 5 }, (_, i) => rec('x', 10 + i)), ...Array.from({ length: 5 }, (_, i) => rec('y', 20 + i))]);
    expect(outbox.stampEnvelopes({ ...limits, cursor }).map((e) => [e.deviceId, e.seq, e.count])).toEqual([
      ['x', 1, 5],
      ['y', 6, 5],
    ]);
  });

  it('gives single-record envelopes their own row: messageId and record, also with other rows in between', () => {
    const outbox = openOutbox();
    outbox.append([rec('a', 1), rec('b', 2), rec('a', 3), rec('b', 4), rec('a', 5)]);
    const rows = outbox.readUnsent({ limit: 10 });
    const first = outbox.stampEnvelopes({ ...limits, maxRecords: 1, maxEnvelopes: 1 });
    const rest = outbox.stampEnvelopes({ ...limits, maxRecords: 1, afterId: rows[1]!.id });
    expect([...first, ...rest].map((e) => [e.id, e.messageId, e.body])).toEqual(
      [rows[0]!, ...rows.slice(2)].map((row) => [row.id, row.messageId, row.record]),
    );
  });

  it('acknowledges envelopes that are not neighbours, deleting exactly their rows', () => {
    const outbox = openOutbox();
    for (let i = 0; i < 6; i += 1) outbox.append(Array.from({ length: 10 }, (_, k) => rec('a', i * 10 + k)));
    const envelopes = outbox.stampEnvelopes(limits);
    expect(envelopes.map((envelope) => envelope.count)).toEqual([10, 10, 10, 10, 10, 10]);
    const [e0, e1, e2, e3, e4] = envelopes.map((envelope) => envelope.id);
    expect(outbox.ackEnvelopes([e0!, e1!, e3!, e0!])).toBe(30);
    expect(outbox.stats()).toMatchObject({ depth: 30, sentRecords: 30, sentEnvelopes: 3 });
    expect(outbox.depth()).toBe(30);
    expect(outbox.stampedEnvelopes(10).map((envelope) => envelope.id)).toEqual([e2, e4, envelopes[5]!.id]);
    expect(outbox.ackEnvelopes([e3!])).toBe(0);
    expect(outbox.ackEnvelopes([e4!, e2!])).toBe(20);
    expect(outbox.stats()).toMatchObject({ depth: 10, sentRecords: 50, sentEnvelopes: 5 });
  });

  it('deletes acknowledged envelopes in the same transaction that stamps the next ones', () => {
    const outbox = openOutbox();
    outbox.append(Array.from({ length: 40 }, (_, k) => rec('a', k)));
    const first = outbox.stampEnvelopes({ ...limits, maxEnvelopes: 2 });
    const next = outbox.stampEnvelopes({ ...limits, maxEnvelopes: 1, acknowledged: first.map((envelope) => envelope.id) });
    expect(next.map((envelope) => envelope.seq)).toEqual([21]);
    expect(outbox.stats()).toMatchObject({ depth: 20, sentRecords: 20, sentEnvelopes: 2, stampedRows: 10 });
    expect(outbox.stampedEnvelopes(10).map((envelope) => envelope.id)).toEqual([next[0]!.id]);
    // A failed stamp takes its acknowledgements down with it: nothing half-done.
    expect(() => outbox.stampEnvelopes({ ...limits, maxBytes: 10, acknowledged: [next[0]!.id] })).toThrow(/cannot fit/);
    expect(outbox.stats()).toMatchObject({ depth: 20, sentEnvelopes: 2 });
  });

  describe('byte cap', () => {
    // Each record below is the same size, so the cap holds exactly four of them.
    const size = Buffer.byteLength(JSON.stringify(rec('a', 1_000).record));

    it('drop-oldest evicts the oldest unsent rows and counts them', () => {
      const outbox = openOutbox({ capBytes: size * 4, capPolicy: 'drop-oldest' });
      for (let ts = 1_000; ts < 1_007; ts += 1) outbox.append([rec('a', ts)]);
      expect(outbox.readUnsent({ limit: 10 }).map((row) => row.ts)).toEqual([1_003, 1_004, 1_005, 1_006]);
      expect(outbox.stats()).toMatchObject({ depth: 4, bytes: size * 4, droppedRecords: 3 });
    });

    it('drop-oldest never evicts rows stamped into an envelope', () => {
      const outbox = openOutbox({ capBytes: size * 4, capPolicy: 'drop-oldest' });
      outbox.append([rec('a', 1_000), rec('a', 1_001)]);
      outbox.stampEnvelopes(limits);
      for (let ts = 1_002; ts < 1_006; ts += 1) outbox.append([rec('a', ts)]);
      expect(outbox.readUnsent({ limit: 10 }).map((row) => row.ts)).toEqual([1_004, 1_005]);
      expect(outbox.stampedEnvelopes(10)[0]!.count).toBe(2);
      expect(outbox.stats().droppedRecords).toBe(2);
    });

    it('drop-newest keeps what is queued and drops the records that do not fit', () => {
      const outbox = openOutbox({ capBytes: size * 4, capPolicy: 'drop-newest' });
      outbox.append([rec('a', 1_000), rec('a', 1_001), rec('a', 1_002)]);
      outbox.append([rec('a', 1_003), rec('a', 1_004), rec('a', 1_005)]);
      expect(outbox.readUnsent({ limit: 10 }).map((row) => [row.ts, row.seq])).toEqual([
        [1_000, 1],
        [1_001, 2],
        [1_002, 3],
        [1_003, 4],
      ]);
      expect(outbox.stats()).toMatchObject({ depth: 4, droppedRecords: 2 });
    });

    it('block stores what fits and holds the rest in memory, in order, until room returns', () => {
      const outbox = openOutbox({ capBytes: size * 4, capPolicy: 'block' });
      outbox.append([rec('a', 1_000), rec('a', 1_001), rec('a', 1_002)]);
      outbox.append([rec('a', 1_003), rec('a', 1_004)]);
      expect(outbox.stats()).toMatchObject({ depth: 4, droppedRecords: 0, refusedBatches: 1 });
      outbox.ack(outbox.readUnsent({ limit: 2 }).map((row) => row.id));
      outbox.append([rec('a', 1_005)]);
      expect(outbox.readUnsent({ limit: 10 }).map((row) => [row.ts, row.seq])).toEqual([
        [1_002, 3],
        [1_003, 4],
        [1_004, 5],
        [1_005, 6],
      ]);
      expect(outbox.stats()).toMatchObject({ depth: 4, droppedRecords: 0 });
    });
  });
});

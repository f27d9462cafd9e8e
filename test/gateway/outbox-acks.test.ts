import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import pino from 'pino';
import { Outbox } from '../../gateway/outbox.ts';
import type { OutboxOptions } from '../../gateway/outbox.ts';
import { OutboxSchemaError } from '../../gateway/outbox-schema.ts';
import type { OutgoingRecord } from '../../hardware/core/contract.ts';
import { tempDir } from './helpers/gateway-harness.ts';

const log = pino({ level: 'silent' });
const limits = { maxRecords: 10, maxBytes: 128_000, maxEnvelopes: 100 };
let temp: ReturnType<typeof tempDir>;
let path: string;
const handles: Outbox[] = [];

function openOutbox(options: Partial<OutboxOptions> = {}): Outbox {
  const outbox = Outbox.open({ path, log, ...options });
  handles.push(outbox);
  return outbox;
}

function records(from: number, count: number): OutgoingRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    deviceId: 'a',
    topic: 'dt/weather/a/reading',
    // Every record the same size, so a cap holds an exact number of them.
    record: { ts: 1_000 + from + i, n: String(from + i).padStart(4, '0') },
  }));
}

/** What the file itself holds, read by a second connection as another process would. */
function inFile(): { rows: number; envelopes: number; acked: number } {
  const db = new Database(path, { readonly: true });
  try {
    const count = (sql: string) => db.prepare(sql).pluck().get() as number;
    return {
      rows: count('SELECT count(*) FROM rows'),
      envelopes: count('SELECT count(*) FROM envelopes'),
      acked: count('SELECT count(*) FROM envelopes WHERE acked = 1'),
    };
  } finally {
    db.close();
  }
}

beforeEach(() => {
  temp = tempDir();
  path = join(temp.dir, 'outbox.db');
});

afterEach(() => {
  for (const outbox of handles.splice(0)) outbox.close();
  temp.remove();
});

describe('acknowledged rows', () => {
  it('are marked sent, never sent again, and all deleted at once when the queue empties', () => {
    const outbox = openOutbox();
    outbox.append(records(0, 30));
    const [e0, e1, e2] = outbox.stampEnvelopes(limits).map((envelope) => envelope.id);
    expect(outbox.ackEnvelopes([e0!, e1!])).toBe(20);
    expect(inFile()).toEqual({ rows: 30, envelopes: 3, acked: 2 });
    expect(outbox.stats()).toMatchObject({ depth: 10, sentRecords: 20, sentEnvelopes: 2, stampedRows: 10, oldestTs: 1_020 });
    expect(outbox.pendingEnvelopeIds()).toEqual([e2]);
    expect(outbox.stampEnvelopes(limits)).toEqual([]);
    expect(outbox.readUnsent({ limit: 100 })).toEqual([]);

    outbox.append(records(30, 5));
    expect(outbox.readUnsent({ limit: 100 }).map((row) => row.seq)).toEqual([31, 32, 33, 34, 35]);
    const [e3] = outbox.stampEnvelopes(limits).map((envelope) => envelope.id);
    expect(outbox.ackEnvelopes([e2!, e3!, e0!])).toBe(15);
    expect(inFile()).toEqual({ rows: 0, envelopes: 0, acked: 0 });
    expect(outbox.stats()).toMatchObject({ depth: 0, bytes: 0, sentRecords: 35, sentEnvelopes: 4, oldestTs: null });
    // Ids and seqs carry on after the table emptied.
    outbox.append(records(35, 1));
    expect(outbox.readUnsent({ limit: 1 })[0]).toMatchObject({ id: 36, seq: 36 });
  });

  it('deletes rows in bulk only when the rows themselves are all acknowledged, whatever the running totals say', () => {
    const outbox = openOutbox();
    outbox.append(records(0, 20));
    const [e0, e1] = outbox.stampEnvelopes(limits).map((envelope) => envelope.id);
    const db = new Database(path);
    db.prepare(`UPDATE state SET value = 10 WHERE key = 'depth'`).run();
    db.close();
    outbox.ackEnvelopes([e0!]);
    expect(inFile()).toEqual({ rows: 20, envelopes: 2, acked: 1 });
    expect(outbox.envelopesById([e1!])).toEqual([expect.objectContaining({ count: 10, seq: 11 })]);
    // Once the rows are all sent, the totals are right again.
    outbox.ackEnvelopes([e1!]);
    expect(inFile().rows).toBe(0);
    expect(outbox.stats()).toMatchObject({ depth: 0, bytes: 0, sentRecords: 20 });
  });

  it('acknowledged out of order: the acknowledged prefix stops at the first unacknowledged envelope, and a reopened file counts the same', () => {
    const outbox = openOutbox();
    outbox.append(records(0, 40));
    const [e0, e1, e2, e3] = outbox.stampEnvelopes(limits).map((envelope) => envelope.id);
    outbox.ackEnvelopes([e1!, e3!]);
    expect(outbox.stats()).toMatchObject({ depth: 20, stampedRows: 20, oldestTs: 1_000 });
    outbox.ackEnvelopes([e0!]);
    expect(outbox.stats()).toMatchObject({ depth: 10, stampedRows: 10, oldestTs: 1_020 });
    outbox.close();

    const reopened = openOutbox();
    expect(reopened.stats()).toMatchObject({ depth: 10, bytes: expect.any(Number), stampedRows: 10, sentRecords: 30, oldestTs: 1_020 });
    expect(reopened.pendingEnvelopeIds()).toEqual([e2]);
    const [retry] = reopened.envelopesById([e0!, e2!, e3!]);
    expect(retry).toMatchObject({ id: e2, seq: 21, count: 10 });
    expect(reopened.envelopesById([e0!, e3!])).toEqual([]);
    expect(reopened.ackEnvelopes([e2!])).toBe(10);
    expect(inFile().rows).toBe(0);
  });

  it('past keepAckedBytes the oldest acknowledged rows are deleted one by one while a backlog remains', () => {
    const outbox = openOutbox({ keepAckedBytes: 200 });
    outbox.append(records(0, 100));
    const envelopes = outbox.stampEnvelopes(limits);
    outbox.ackEnvelopes(envelopes.slice(0, 5).map((envelope) => envelope.id));
    const kept = inFile();
    expect(kept.rows).toBeLessThan(100);
    expect(kept.rows).toBeGreaterThanOrEqual(50);
    expect(outbox.stats()).toMatchObject({ depth: 50, stampedRows: 50, oldestTs: 1_050 });
    outbox.ackEnvelopes(envelopes.slice(5, 9).map((envelope) => envelope.id));
    expect(inFile().rows).toBeLessThan(kept.rows);
    expect(outbox.stats()).toMatchObject({ depth: 10, sentRecords: 90 });
    expect(outbox.pendingEnvelopeIds()).toEqual([envelopes[9]!.id]);
  });

  it('the cap evicts only unsent rows, never acknowledged ones kept in the file', () => {
    const size = Buffer.byteLength(JSON.stringify(records(0, 1)[0]!.record));
    const outbox = openOutbox({ capBytes: size * 15, capPolicy: 'drop-oldest' });
    outbox.append(records(0, 10));
    outbox.ackEnvelopes(outbox.stampEnvelopes(limits).map((envelope) => envelope.id));
    outbox.append(records(10, 10));
    outbox.stampEnvelopes({ ...limits, maxRecords: 5, maxEnvelopes: 1 });
    outbox.append(records(20, 10));
    // 20 unsent-or-stamped rows over a cap of 15: the 5 oldest never stamped go, the stamped 5 stay.
    expect(outbox.stats()).toMatchObject({ depth: 15, droppedRecords: 5, stampedRows: 5 });
    expect(outbox.readUnsent({ limit: 100 }).map((row) => row.seq)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
    // The acknowledged prefix steps over the ids the cap dropped.
    const stamped = outbox.pendingEnvelopeIds();
    const next = outbox.stampEnvelopes({ ...limits, maxRecords: 5, maxEnvelopes: 1, afterId: stamped[0]! + 4 });
    outbox.ackEnvelopes([...stamped, next[0]!.id]);
    expect(outbox.stats()).toMatchObject({ depth: 5, oldestTs: 1_025 });
  });

  it('upgrades a schema 2 file: its envelopes (in flight when it closed) keep their rows and are sent once', () => {
    const db = new Database(path);
    db.exec(`CREATE TABLE rows (id INTEGER PRIMARY KEY, message_id TEXT NOT NULL, device_id TEXT NOT NULL, seq INTEGER NOT NULL,
               topic TEXT NOT NULL, ts INTEGER NOT NULL, record TEXT NOT NULL, bytes INTEGER NOT NULL);
             CREATE TABLE envelopes (id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL);
             CREATE TABLE state (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
             INSERT INTO state VALUES ('depth', 3), ('bytes', 30), ('dropped_records', 0), ('sent_records', 7), ('sent_envelopes', 2),
               ('retried_envelopes', 0), ('last_row_id', 10), ('seq:a', 10);
             INSERT INTO rows VALUES (8, 'm8', 'a', 8, 'dt/weather/a/reading', 8, '{"ts":8}', 8), (9, 'm9', 'a', 9, 'dt/weather/a/reading', 9, '{"ts":9}', 8),
               (10, 'm10', 'a', 10, 'dt/weather/a/reading', 10, '{"ts":10}', 9);
             INSERT INTO envelopes VALUES (8, 9);
             PRAGMA user_version = 2;`);
    db.close();
    expect(() => Outbox.open({ path, log, readonly: true })).toThrow(OutboxSchemaError);
    expect(() => Outbox.open({ path, log, readonly: true })).toThrow(/start the station or gateway once to upgrade it/);

    const outbox = openOutbox();
    expect(outbox.stats()).toMatchObject({ depth: 3, bytes: 25, stampedRows: 2, sentRecords: 7 });
    expect(outbox.envelopesById([8])).toEqual([expect.objectContaining({ messageId: 'm8', count: 2, recordBytes: 16, body: '{"ts":8},{"ts":9}' })]);
    expect(outbox.ackEnvelopes([8])).toBe(2);
    expect(outbox.stats()).toMatchObject({ depth: 1, sentRecords: 9 });
    expect(outbox.readUnsent({ limit: 10 }).map((row) => row.id)).toEqual([10]);
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import pino from 'pino';
import Database from 'better-sqlite3';
import { Outbox } from '../../gateway/outbox.ts';

const root = resolve(import.meta.dirname, '../..');
const appender = 'test/gateway/fixtures/outbox-appender.ts';
const log = pino({ level: 'silent' });
const KILL_ROUNDS = 6;
let dir: string;
let path: string;

interface Child {
  process: ChildProcess;
  started: Promise<void>;
  exited: Promise<unknown>;
}

function startAppender(batchSize: number, batches: number, devices = 1): Child {
  const child = spawn(process.execPath, ['bin/run-ts.js', appender, path, String(batchSize), String(batches), String(devices)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const started = new Promise<void>((resolve) => child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('started') && resolve()));
  return { process: child, started, exited: once(child, 'close') };
}

/** "run batch" keys the appenders reported committed, in order. */
function reportedCommitted(): string[] {
  if (!existsSync(`${path}.committed`)) return [];
  return readFileSync(`${path}.committed`, 'utf8')
    .split('\n')
    .map((line) => /^committed (\d+) (\d+)$/.exec(line))
    .filter((match) => match !== null)
    .map((match) => `${match[1]} ${match[2]}`);
}

interface StoredRecord {
  seq: number;
  run: string;
  batch: number;
  i: number;
  size: number;
}

function readAll(): StoredRecord[] {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare(`SELECT seq, record FROM rows ORDER BY id`).all() as { seq: number; record: string }[];
    return rows.map((row) => ({ seq: row.seq, ...(JSON.parse(row.record) as Omit<StoredRecord, 'seq'>) }));
  } finally {
    db.close();
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-outbox-proc-'));
  path = join(dir, 'outbox.db');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Outbox across processes', () => {
  it('keeps every batch a SIGKILLed appender reported committed, in order, without gaps or partial batches', async () => {
    for (let round = 0; round < KILL_ROUNDS; round += 1) {
      const child = startAppender(10, 1_000_000);
      await child.started;
      // A random moment inside the append loop: anywhere from a few to a few thousand batches in.
      await new Promise((done) => setTimeout(done, 20 + Math.random() * 300));
      child.process.kill('SIGKILL');
      await child.exited;
    }
    const reported = reportedCommitted();
    const records = readAll();
    expect(records.map((record) => record.seq)).toEqual(records.map((_, index) => index + 1));
    const batches = new Map<string, StoredRecord[]>();
    for (const record of records) {
      const key = `${record.run} ${record.batch}`;
      batches.set(key, [...(batches.get(key) ?? []), record]);
    }
    for (const [key, members] of batches) {
      expect(members.map((member) => member.i), `batch ${key} is whole`).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    const stored = [...batches.keys()];
    // Every reported batch is there, in the order it was reported; at most the one in flight at each
    // kill may have committed without being reported.
    expect(stored.filter((key) => reported.includes(key))).toEqual(reported);
    expect(stored.length - reported.length).toBeLessThanOrEqual(KILL_ROUNDS);
    expect(reported.length).toBeGreaterThan(KILL_ROUNDS);
  });

  it('lets a station process append while a gateway process acknowledges (WAL, busy timeout)', async () => {
    const batches = 1_500;
    const batchSize = 4;
    // The fixture creates the file; open our handle once it exists so both run at the same time.
    const child = startAppender(batchSize, batches, 3);
    await child.started;
    const gateway = Outbox.open({ path, log });
    const delivered: { deviceId: string; seq: number; count: number }[] = [];
    let childDone = false;
    void child.exited.then(() => (childDone = true));
    const limits = { maxRecords: 5, maxBytes: 128_000, maxEnvelopes: 20 };
    for (;;) {
      const envelopes = gateway.stampEnvelopes(limits);
      for (const envelope of envelopes) delivered.push(envelope);
      gateway.ackEnvelopes(envelopes.map((envelope) => envelope.id));
      if (envelopes.length === 0) {
        if (childDone && gateway.stats().depth === 0) break;
        await new Promise((done) => setImmediate(done));
      }
    }
    expect(child.process.exitCode).toBe(0);
    const stats = gateway.stats();
    gateway.close();
    expect(stats).toMatchObject({ depth: 0, sentRecords: batches * batchSize });
    // Per device, the envelopes carry seq 1..N in order with nothing missing or repeated.
    const seqs = new Map<string, number[]>();
    for (const envelope of delivered) {
      const list = seqs.get(envelope.deviceId) ?? [];
      for (let offset = 0; offset < envelope.count; offset += 1) list.push(envelope.seq + offset);
      seqs.set(envelope.deviceId, list);
    }
    const total = [...seqs.values()].reduce((sum, list) => sum + list.length, 0);
    expect(total).toBe(batches * batchSize);
    for (const list of seqs.values()) expect(list).toEqual(list.map((_, index) => index + 1));
  });
});

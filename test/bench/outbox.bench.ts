// Outbox append rate beside a raw better-sqlite3 insert loop of the same rows, in the same run.
// Run: node bin/run-ts.js test/bench/outbox.bench.ts
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Outbox } from '../../gateway/outbox.ts';
import type { OutgoingRecord } from '../../hardware/core/contract.ts';
import { weatherReading } from './fixtures/weather-reading.ts';

/** How long each measurement runs; each pair is measured twice, alternating, and the better run kept. */
const MEASURE_MS = 1_000;
const ROUNDS = 2;
const BATCH_SIZES = [1, 10];
const MODES = ['NORMAL', 'FULL'] as const;

const dir = mkdtempSync(join(tmpdir(), 'hedgerow-bench-outbox-'));
const log = pino({ level: 'silent' });

function weather(ts: number): OutgoingRecord {
  return { deviceId: 'station-1', topic: 'dt/weather/station-1/reading', record: { ...weatherReading(ts) } };
}

function batchOf(size: number, start: number): OutgoingRecord[] {
  return Array.from({ length: size }, (_, i) => weather(start + i));
}

/** Records per second for `append` called with batches of `size` for MEASURE_MS. */
function measure(size: number, append: (batch: OutgoingRecord[]) => void): number {
  let records = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < MEASURE_MS) {
    append(batchOf(size, records));
    records += size;
    elapsed = performance.now() - started;
  }
  return (records / elapsed) * 1_000;
}

function rawInserter(path: string, synchronous: string): { append: (batch: OutgoingRecord[]) => void; close: () => void } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec(`CREATE TABLE rows (id INTEGER PRIMARY KEY, message_id TEXT, device_id TEXT, seq INTEGER, topic TEXT,
                              ts INTEGER, record TEXT, bytes INTEGER)`);
  const insert = db.prepare(`INSERT INTO rows (message_id, device_id, seq, topic, ts, record, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  let seq = 0;
  // The same work the outbox must do per row to store it (serialize, id), with none of its bookkeeping.
  const append = db.transaction((batch: OutgoingRecord[]) => {
    for (const item of batch) {
      const record = JSON.stringify(item.record);
      seq += 1;
      insert.run(randomUUID(), item.deviceId, seq, item.topic, item.record.ts, record, Buffer.byteLength(record));
    }
  });
  return { append: (batch) => append.immediate(batch), close: () => db.close() };
}

const results: string[] = [];
let file = 0;
for (const synchronous of MODES) {
  for (const size of BATCH_SIZES) {
    let bestRaw = 0;
    let bestOutbox = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const raw = rawInserter(join(dir, `raw-${file}.db`), synchronous);
      bestRaw = Math.max(bestRaw, measure(size, raw.append));
      raw.close();
      const outbox = Outbox.open({ path: join(dir, `outbox-${file}.db`), log, synchronous });
      bestOutbox = Math.max(bestOutbox, measure(size, (batch) => outbox.append(batch)));
      outbox.close();
      file += 1;
    }
    const ratio = bestOutbox / bestRaw;
    results.push(
      `synchronous=${synchronous.padEnd(6)} batch=${String(size).padEnd(3)} outbox ${bestOutbox.toFixed(0).padStart(8)} rec/s` +
        `   raw insert ${bestRaw.toFixed(0).padStart(8)} rec/s   ratio ${(ratio * 100).toFixed(0)}% ${ratio >= 0.5 ? '(goal >= 50% met)' : '(BELOW the 50% goal)'}`,
    );
  }
}
rmSync(dir, { recursive: true, force: true });
console.log('outbox append vs raw better-sqlite3 insert (weather records, one transaction per batch)');
for (const line of results) console.log(line);

// Dataset content bodies in the store (issue 12): storing a content's CSV (putContent with its body
// file) and streaming it back chunk by chunk (openContentBody, as the dataURI download does), on SQLite
// and on PostgreSQL, beside the old code's way in the same run: copying the file into dataDir/content
// and streaming it with createReadStream.
// Run: node bin/run-ts.js test/bench/content-body.bench.ts [MiB]
import { copyFileSync, createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudStore } from '../../cloud/storage/cloud-store.ts';
import { PostgresStore } from '../../cloud/storage/postgres-store.ts';
import { SqliteStore } from '../../cloud/storage/sqlite-store.ts';
import { Postgres, hasPostgres } from '../cloud/helpers/postgres.ts';

const MIB = Number(process.argv[2] ?? 64);
const ROUNDS = 3;

function csvOf(bytes: number): Buffer {
  const lines: string[] = ['ts,device_id,ambient_temperature,humidity\r\n'];
  let size = lines[0]!.length;
  for (let i = 0; size < bytes; i++) {
    const line = `${1_700_000_000_000 + i * 60_000},station-${i % 100},${(10 + (i % 97) / 7).toFixed(4)},${(50 + (i % 31)).toFixed(1)}\r\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join(''));
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

async function drain(chunks: AsyncIterable<Buffer | string>): Promise<number> {
  let n = 0;
  for await (const chunk of chunks) n += chunk.length;
  return n;
}

/** Best write and read seconds over ROUNDS versions. */
async function storeRun(store: CloudStore, file: string, size: number): Promise<{ write: number; read: number }> {
  let write = Infinity;
  let read = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const record = { datasetName: 'bench', versionId: `v${round}`, state: 'SUCCEEDED' as const, creationTime: round, scheduleTime: round, file: `v${round}.csv` };
    let start = process.hrtime.bigint();
    await store.putContent(record, file);
    write = Math.min(write, seconds(start));
    start = process.hrtime.bigint();
    const body = (await store.openContentBody('bench', record.versionId))!;
    if ((await drain(body.chunks())) !== size) throw new Error('the body came back with another size');
    read = Math.min(read, seconds(start));
    await store.deleteContent('bench', record.versionId);
  }
  return { write, read };
}

async function fileRun(dir: string, file: string, size: number): Promise<{ write: number; read: number }> {
  let write = Infinity;
  let read = Infinity;
  for (let round = 0; round < ROUNDS; round++) {
    const target = join(dir, `v${round}.csv`);
    let start = process.hrtime.bigint();
    copyFileSync(file, target);
    write = Math.min(write, seconds(start));
    start = process.hrtime.bigint();
    if ((await drain(createReadStream(target))) !== size) throw new Error('the file came back with another size');
    read = Math.min(read, seconds(start));
    rmSync(target);
  }
  return { write, read };
}

const dir = mkdtempSync(join(tmpdir(), 'hedgerow-bench-body-'));
let server: Postgres | undefined;
try {
  const csv = csvOf(MIB * 1024 * 1024);
  const file = join(dir, 'content.csv');
  writeFileSync(file, csv);
  const results: [string, { write: number; read: number }][] = [['file (old: dataDir/content)', await fileRun(dir, file, csv.length)]];
  const sqlite = new SqliteStore(join(dir, 'sqlite'));
  await sqlite.open();
  results.push(['SQLite content_chunks', await storeRun(sqlite, file, csv.length)]);
  await sqlite.close();
  if (hasPostgres()) {
    server = await Postgres.start();
    const pgStore = new PostgresStore({ url: await server.createDatabase('bench'), poolSize: 2 });
    await pgStore.open();
    results.push(['PostgreSQL content_chunks', await storeRun(pgStore, file, csv.length)]);
    await pgStore.close();
  }
  const rate = (s: number) => `${((csv.length / 1024 / 1024) / s).toFixed(0).padStart(5)} MiB/s (${(s * 1000).toFixed(0)} ms)`;
  console.log(`dataset content body of ${(csv.length / 1024 / 1024).toFixed(1)} MiB of CSV, best of ${ROUNDS}`);
  for (const [name, r] of results) console.log(`  ${name.padEnd(28)} store ${rate(r.write)}   stream back ${rate(r.read)}`);
} finally {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}

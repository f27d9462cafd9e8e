// Ingest on PostgreSQL with 1, 2 and 3 engine processes sharing one database, beside one engine on
// SQLite, in the same run: BatchPutMessage batches of 100 through the 5-activity pipeline of
// cloud-ingest.bench.ts, each message committed with its datastore row in one transaction. Each worker is
// its own process (test/bench/pg-ingest-worker.ts), started and ready before the clock starts; the rate
// is all messages over the time from "go" to the last worker's "done". Every message is then counted in
// the datastore. Run: npm run bench -- pg-ingest [messages]   (default 30,000)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import pino from 'pino';
import { AnalyticsEngine } from '../../cloud/engine/analytics-engine.ts';
import { cloudSettings } from '../../cloud/settings.ts';
import { Postgres } from '../cloud/helpers/postgres.ts';
import { BENCH_BATCH, benchBatches, createBenchResources } from './fixtures/ingest-bench-data.ts';

const MESSAGES = Number(process.argv[2] ?? 30_000);
const BATCHES = MESSAGES / BENCH_BATCH;

function engineOn(storage: string): AnalyticsEngine {
  return new AnalyticsEngine({
    settings: cloudSettings.parse({ dataDir: mkdtempSync(join(tmpdir(), 'hedgerow-bench-pg-')), storage, resourceFiles: [], mqtt: { enabled: false } }),
    log: pino({ level: 'silent' }),
  });
}

async function sqliteRate(): Promise<number> {
  const engine = engineOn('sqlite');
  await engine.start();
  try {
    await createBenchResources(engine);
    const batches = benchBatches('s', 0, BATCHES);
    const started = process.hrtime.bigint();
    for (const messages of batches) await engine.batchPutMessage({ channelName: 'bench_channel', messages });
    return MESSAGES / (Number(process.hrtime.bigint() - started) / 1e9);
  } finally {
    await engine.stop();
  }
}

/** A worker process, resolved once it printed `ready`; `done` resolves when it printed `done`. */
function startWorker(url: string, first: number, count: number): Promise<{ child: ChildProcess; done: Promise<void> }> {
  const child = spawn(process.execPath, ['bin/run-ts.js', 'test/bench/pg-ingest-worker.ts', url, String(first), String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const kill = setTimeout(() => child.kill('SIGKILL'), 20 * 60_000);
  const lines = createInterface({ input: child.stdout! });
  const exited = new Promise<void>((_, reject) => child.once('exit', (code) => reject(new Error(`a bench worker exited (${code}) before it was done`))));
  const done = new Promise<void>((resolve) => lines.on('line', (line) => line.startsWith('done') && resolve()));
  const ready = new Promise<void>((resolve) => lines.on('line', (line) => line === 'ready' && resolve()));
  void exited.catch(() => undefined);
  child.once('exit', () => clearTimeout(kill));
  return Promise.race([ready, exited]).then(() => ({ child, done: Promise.race([done, exited]) }));
}

async function postgresRate(server: Postgres, workers: number): Promise<number> {
  const url = await server.createDatabase(`ingest${workers}`);
  const setup = engineOn(url);
  await setup.start();
  await createBenchResources(setup);
  await setup.stop();
  const per = Math.ceil(BATCHES / workers);
  const started = await Promise.all(Array.from({ length: workers }, (_, w) => startWorker(url, w * per, Math.min(per, BATCHES - w * per))));
  const clock = process.hrtime.bigint();
  for (const { child } of started) child.stdin!.write('go\n');
  await Promise.all(started.map((w) => w.done));
  const seconds = Number(process.hrtime.bigint() - clock) / 1e9;
  await Promise.all(started.map(({ child }) => new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)))));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const rows = Number((await client.query('SELECT count(*) AS n FROM __ds_bench_store')).rows[0].n);
  const messages = Number((await client.query("SELECT count(*) AS n FROM channel_messages WHERE channel = 'bench_channel'")).rows[0].n);
  await client.end();
  if (rows !== MESSAGES || messages !== MESSAGES) throw new Error(`${workers} workers stored ${messages} messages and ${rows} rows, not ${MESSAGES}`);
  return MESSAGES / seconds;
}

const server = await Postgres.start();
try {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const sqlite = await sqliteRate();
  const rates: number[] = [];
  for (const workers of [1, 2, 3]) rates.push(await postgresRate(server, workers));
  console.log(`ingest, ${fmt(MESSAGES)} messages in batches of ${BENCH_BATCH}, channel + 5 activities + datastore, one transaction per batch`);
  console.log(`  SQLite, one engine process         : ${fmt(sqlite)} msg/s`);
  rates.forEach((rate, i) => console.log(`  PostgreSQL, ${i + 1} engine process${i ? 'es' : '  '}     : ${fmt(rate)} msg/s (${(rate / rates[0]!).toFixed(2)}x one worker, ${(rate / sqlite).toFixed(2)}x SQLite); every message stored once`));
  console.log('  this machine has 2 cores shared by the workers and PostgreSQL: the ratio shows contention, not the scaling of separate machines');
} finally {
  await server.stop();
}

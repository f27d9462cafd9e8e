// Ingest on PostgreSQL with 1, 2 and 3 engine processes sharing one database, beside one engine process
// on SQLite, in the same run: BatchPutMessage batches of 100 through the 5-activity pipeline of
// cloud-ingest.bench.ts, each batch committed with its datastore rows at once (one statement on PostgreSQL). Each worker is
// its own process (test/bench/pg-ingest-worker.ts), started and ready before the clock starts; the rate
// is all messages over the time from "go" to the last worker's "done". Every message is then counted,
// once, in the channel and in the datastore. Progress goes to stderr; every wait has a deadline and every
// worker a kill timer, so a stuck run fails with the step it was at instead of hanging.
// Run: npm run bench -- pg-ingest   or   node bin/run-ts.js test/bench/pg-ingest.bench.ts [messages]   (default 30,000)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { AnalyticsEngine } from '../../cloud/engine/analytics-engine.ts';
import { cloudSettings } from '../../cloud/settings.ts';
import { Postgres } from '../cloud/helpers/postgres.ts';
import { BENCH_BATCH, createBenchResources } from './fixtures/ingest-bench-data.ts';
import { cpuSeconds } from './fixtures/process-memory.ts';

const MESSAGES = Number(process.argv[2] ?? 30_000);
const BATCHES = MESSAGES / BENCH_BATCH;
if (!Number.isInteger(BATCHES) || BATCHES < 3) throw new Error(`messages must be a multiple of ${BENCH_BATCH} and at least ${3 * BENCH_BATCH}, not ${process.argv[2]}`);

/** Deadlines: engine start (migrations included) on a busy host; the run at no less than 25 msg/s; a clean exit. */
const READY_MS = 120_000;
const RUN_MS = 60_000 + MESSAGES * 40;
const EXIT_MS = 60_000;

const t0 = performance.now();
const progress = (text: string) => console.error(`[pg-ingest ${((performance.now() - t0) / 1000).toFixed(1)} s] ${text}`);

function deadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms / 1000} s`)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

interface Worker {
  child: ChildProcess;
  /** The first stdout line starting with `prefix`; rejects if the worker exits first. */
  line: (prefix: string) => Promise<string>;
  exited: Promise<void>;
}

function startWorker(storage: string, dataDir: string, first: number, count: number): Worker {
  const child = spawn(process.execPath, ['bin/run-ts.js', 'test/bench/pg-ingest-worker.ts', storage, dataDir, String(first), String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  // The last resort, for a worker whose event loop is blocked or that ignores its deadlines.
  const kill = setTimeout(() => child.kill('SIGKILL'), READY_MS + RUN_MS + EXIT_MS);
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    lines.push(text);
    for (const wake of waiters) wake();
  });
  let exit = '';
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    clearTimeout(kill);
    exit = `the worker for batches ${first}+${count} exited (${code ?? signal})`;
    for (const wake of waiters) wake();
    resolve();
  }));
  const line = (prefix: string) => new Promise<string>((resolve, reject) => {
    const check = () => {
      const found = lines.find((l) => l.startsWith(prefix));
      if (found !== undefined || exit) waiters.delete(check);
      if (found !== undefined) resolve(found);
      else if (exit) reject(new Error(`${exit} before it printed "${prefix}"`));
    };
    waiters.add(check);
    check();
  });
  return { child, line, exited };
}

async function createResources(storage: string, dataDir: string): Promise<void> {
  const engine = new AnalyticsEngine({ settings: cloudSettings.parse({ dataDir, storage, resourceFiles: [], mqtt: { enabled: false } }), log: pino({ level: 'silent' }) });
  await deadline(engine.start(), READY_MS, 'the setup engine start');
  try {
    await createBenchResources(engine);
  } finally {
    await engine.stop();
  }
}

/** Starts `workers` processes on the storage, sends "go", and returns messages/s and the workers' CPU seconds. */
interface Figures {
  rate: number;
  /** The workers' CPU seconds, summed, from "go" to "done". */
  cpu: number;
  /** PostgreSQL's (postmaster and its backends), over the same time; 0 for SQLite. */
  serverCpu: number;
  seconds: number;
  /** The host's 1-minute load average at "done": other work on the 2 cores skews every figure. */
  load: number;
}

/** A file of /proc/<pid>/, or '' once the process has gone. */
function proc(pid: number, name: string): string {
  try {
    return readFileSync(`/proc/${pid}/${name}`, 'utf8');
  } catch {
    return '';
  }
}

/** The CPU seconds of the PostgreSQL server on `port`, its postmaster and each process it started, by pid (Linux /proc). */
function postgresCpu(port: number | undefined): Map<number, number> {
  const cpu = new Map<number, number>();
  if (port === undefined) return cpu;
  const pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
  const postmaster = pids.find((pid) => {
    const argv = proc(pid, 'cmdline').split('\0');
    return argv[0]?.endsWith('/postgres') && argv[argv.indexOf('-p') + 1] === String(port);
  });
  if (postmaster === undefined) return cpu;
  // The parent pid is the second field after the command name, which may hold spaces.
  const parentOf = (pid: number) => Number(proc(pid, 'stat').split(') ')[1]?.split(' ')[1]);
  for (const pid of pids) {
    const seconds = pid === postmaster || parentOf(pid) === postmaster ? cpuSeconds(pid) : undefined;
    if (seconds !== undefined) cpu.set(pid, seconds);
  }
  return cpu;
}

async function run(label: string, storage: string, dataDir: string, workers: number, port?: number): Promise<Figures> {
  const per = Math.ceil(BATCHES / workers);
  const started = Array.from({ length: workers }, (_, w) => startWorker(storage, dataDir, w * per, Math.min(per, BATCHES - w * per)));
  try {
    await deadline(Promise.all(started.map((w) => w.line('ready'))), READY_MS, `${label}: the workers' start`);
    progress(`${label}: ${workers} worker${workers > 1 ? 's' : ''} ready, go`);
    const serverAtGo = postgresCpu(port);
    const clock = performance.now();
    for (const { child } of started) child.stdin!.write('go\n');
    const done = await deadline(Promise.all(started.map((w) => w.line('done'))), RUN_MS, `${label}: the ingest of ${MESSAGES} messages`);
    const seconds = (performance.now() - clock) / 1000;
    // Read while every worker's pool is still open (they stop when their stdin ends); a backend started in between counts whole.
    const serverCpu = [...postgresCpu(port)].reduce((sum, [pid, s]) => sum + s - (serverAtGo.get(pid) ?? 0), 0);
    const load = loadavg()[0]!;
    for (const { child } of started) child.stdin!.end();
    await deadline(Promise.all(started.map((w) => w.exited)), EXIT_MS, `${label}: the workers' exit after "done"`);
    const cpu = done.reduce((sum, text) => sum + Number(text.split(' ')[2]), 0) / 1000;
    progress(`${label}: ${MESSAGES} messages in ${seconds.toFixed(1)} s`);
    return { rate: MESSAGES / seconds, cpu, serverCpu, seconds, load };
  } finally {
    for (const { child } of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function checkCounts(label: string, counts: { messages: number; messageIds: number; rows: number; readings: number }): void {
  if (Object.values(counts).some((n) => n !== MESSAGES)) throw new Error(`${label}: expected ${MESSAGES} of each, stored ${JSON.stringify(counts)}`);
}

async function sqliteRun(): Promise<Figures> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hedgerow-bench-pg-sqlite-'));
  try {
    await createResources('sqlite', dataDir);
    const result = await run('SQLite x1', 'sqlite', dataDir, 1);
    const db = new Database(join(dataDir, 'datastores.sqlite'), { readonly: true, fileMustExist: true });
    try {
      const channel = db.prepare('SELECT count(*) AS messages, count(DISTINCT message_id) AS messageIds FROM __ch_bench_channel').get() as { messages: number; messageIds: number };
      const store = db.prepare('SELECT count(*) AS rows, count(DISTINCT ts) AS readings FROM bench_store').get() as { rows: number; readings: number };
      checkCounts('SQLite x1', { ...channel, ...store });
    } finally {
      db.close();
    }
    return result;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function postgresRun(server: Postgres, workers: number): Promise<Figures> {
  const label = `PostgreSQL x${workers}`;
  const url = await server.createDatabase(`ingest${workers}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'hedgerow-bench-pg-'));
  try {
    await createResources(url, dataDir);
    const result = await run(label, url, dataDir, workers, server.port);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 30_000, statement_timeout: 60_000 });
    await client.connect();
    try {
      const channel = await client.query("SELECT count(*)::int AS messages, count(DISTINCT message_id)::int AS \"messageIds\" FROM channel_messages WHERE channel = 'bench_channel'");
      const store = await client.query('SELECT count(*)::int AS rows, count(DISTINCT ts)::int AS readings FROM bench_store');
      checkCounts(label, { ...channel.rows[0], ...store.rows[0] });
    } finally {
      await client.end();
    }
    return result;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

progress(`starting PostgreSQL; ${MESSAGES} messages per run`);
const server = await Postgres.start();
try {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const sqlite = await sqliteRun();
  const runs: Figures[] = [];
  for (const workers of [1, 2, 3]) runs.push(await postgresRun(server, workers));
  const perMessage = (seconds: number) => `${((seconds / MESSAGES) * 1e6).toFixed(0)} µs`;
  const cpu = (r: Figures) => `CPU per message: workers ${perMessage(r.cpu)}${r.serverCpu ? `, PostgreSQL ${perMessage(r.serverCpu)}` : ''}; load ${r.load.toFixed(1)}`;
  console.log(`ingest, ${fmt(MESSAGES)} messages in batches of ${BENCH_BATCH}, channel + 5 activities + datastore, one commit per batch; every message counted once in channel and datastore`);
  console.log(`  SQLite, 1 engine process        : ${fmt(sqlite.rate).padStart(6)} msg/s (${cpu(sqlite)})`);
  runs.forEach((r, i) => console.log(`  PostgreSQL, ${i + 1} engine process${i ? 'es' : '  '}  : ${fmt(r.rate).padStart(6)} msg/s (${(r.rate / runs[0]!.rate).toFixed(2)}x 1 worker, ${(r.rate / sqlite.rate).toFixed(2)}x SQLite; ${cpu(r)})`));
  console.log('  2 cores here, shared by the workers and PostgreSQL: the ratio shows contention on one box, not how separate machines would scale');
} finally {
  progress('stopping PostgreSQL');
  await deadline(server.stop(), EXIT_MS, 'the PostgreSQL stop');
}

// A real `hedgerow cloud` child process against a broker, for the several-workers test and bench.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { freePort } from '../../gateway/helpers/mosquitto.ts';
import { until } from '../fixtures/until.ts';

const REPO = join(import.meta.dirname, '../../..');
/** A worker that has not exited by then is killed, so a hung child cannot hang the run. */
const CHILD_KILL_MS = 85_000;

export interface CloudWorker {
  id: string;
  port: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

/**
 * Starts `hedgerow cloud` on `<work>/data` with clientId `id` (and `shareGroup` and `cloud.storage`, if given) and resolves
 * once the broker confirmed its weather subscription, so from then on nothing published is missed.
 */
export async function startCloudWorker(options: { work: string; brokerUrl: string; id: string; shareGroup?: string; storage?: string; killAfterMs?: number }): Promise<CloudWorker> {
  const { work, brokerUrl, id, shareGroup, storage } = options;
  const config = join(work, `${id}.json`);
  const port = await freePort();
  const cloud = { dataDir: join(work, 'data'), ...(storage ? { storage } : {}), mqtt: { url: brokerUrl, clientId: id, ...(shareGroup ? { shareGroup } : {}) } };
  writeFileSync(config, JSON.stringify({ api: { port }, cloud }));
  const child = spawn(process.execPath, [join(REPO, 'bin/hedgerow.js'), '--config', config, 'cloud'], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HEDGEROW_FROM_SOURCE: '1' },
  });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? CHILD_KILL_MS);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const filter = `${shareGroup ? `$share/${shareGroup}/` : ''}dt/weather/+/reading`;
  await until(() => {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`worker ${id} exited (${child.exitCode ?? child.signalCode})`);
    return out.split('\n').some((line) => line.includes('the broker confirmed the subscriptions to') && line.includes(filter));
  }, `worker ${id} subscribed`, 60_000).catch((error: unknown) => {
    throw new Error(`${String(error)}; worker ${id} printed:\n${out}`);
  });
  return { id, port, child, output: () => out, exited };
}

const COUNT_WEATHER = "SELECT count(*) AS rows, count(DISTINCT device_id || ':' || ts) AS ids FROM weather_datastore";

/** Rows and distinct readings (device_id, ts) in the weather datastore of `<work>/data`, read-only. */
export function weatherCounts(work: string): { rows: number; ids: number } {
  const db = new Database(join(work, 'data', 'datastores.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(COUNT_WEATHER).get() as { rows: number; ids: number };
  } finally {
    db.close();
  }
}

/** As weatherCounts, in the workers' store: `<work>/data` on SQLite, or the PostgreSQL database `storage` names. */
export async function storedWeather(work: string, storage?: string): Promise<{ rows: number; ids: number }> {
  if (!storage) return weatherCounts(work);
  const client = new pg.Client({ connectionString: storage });
  await client.connect();
  try {
    const { rows } = await client.query<{ rows: string; ids: string }>(COUNT_WEATHER);
    return { rows: Number(rows[0]!.rows), ids: Number(rows[0]!.ids) };
  } finally {
    await client.end();
  }
}

/** A station's envelope of one weather reading, as the uplink publishes it (hardware/core/contract.ts). */
export const readingEnvelope = (deviceId: string, n: number, baseTs: number) =>
  Buffer.from(
    JSON.stringify({
      messageId: `${deviceId}-${n}`,
      deviceId,
      seq: n,
      sentAt: baseTs + n * 1000,
      records: [{ ts: baseTs + n * 1000, ambient_temperature: 10 + (n % 10), humidity: 60 }],
    }),
  );

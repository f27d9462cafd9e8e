// Incremental weather_daily (cloud/engine/incremental-refresh.ts): the refresh after 15 minutes of
// new data from 100 stations, over 10 million rows of history (100 stations, one row a minute,
// ~69 days), patched from the previous content, beside the full query over the same datastore, in the
// same run, through the engine (CreateDatasetContent until SUCCEEDED, CSV written). The two CSVs are
// compared byte for byte every round. Goal from issue 12: under 1 s and at least 20x faster.
// The history is built once by one INSERT ... SELECT over a recursive CTE and cached under the temp
// folder, keyed by its size. HEDGEROW_BENCH_ROWS picks a smaller history for a quick run.
// Run: npm run bench -- incremental-refresh   (HEDGEROW_BENCH_ROWS=1000000 for a quick one)
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AnalyticsEngine } from '../../cloud/engine/analytics-engine.ts';
import { readResourceFile } from '../../cloud/engine/resource-file.ts';
import { cloudSettings } from '../../cloud/settings.ts';
import { contentText } from '../cloud/helpers/content-text.ts';

const STATIONS = 100;
const ROWS = Number(process.env.HEDGEROW_BENCH_ROWS ?? 10_000_000);
const MINUTES = Math.ceil(ROWS / STATIONS);
const MINUTE = 60_000;
/** The history ends here, at noon, so the new rows fall in a day that already has 720 rows per station. */
const END = Date.UTC(2026, 0, 1, 12);
const START = END - MINUTES * MINUTE;
const ROUNDS = Number(process.env.HEDGEROW_BENCH_ROUNDS ?? 3);
const GOAL_MS = 1000;
const GOAL_SPEEDUP = 20;
const DATASTORE = 'weather_datastore';
const TABLE = `__ds_${DATASTORE}`;
// Bump the version when the generator or the layout changes.
const CACHE = join(tmpdir(), 'hedgerow-bench-cache', `incremental-${STATIONS}x${MINUTES}-v1`);
const log = pino({ level: 'silent' });
const defaults = readResourceFile('cloud/resources/default.json');
const daily = defaults.datasets.find((d) => d.datasetName === 'weather_daily')!;
const SQL = daily.actions[0]!.queryAction!.sqlQuery;

function engineFor(dir: string): AnalyticsEngine {
  return new AnalyticsEngine({ settings: cloudSettings.parse({ dataDir: dir, resourceFiles: [], mqtt: { enabled: false }, queryTimeoutMs: 3_600_000 }), log });
}

const reading = (station: number, ts: number) => ({
  device_id: `station_${String(station + 1).padStart(3, '0')}`,
  ts,
  ambient_temperature: Math.round((8 + 6 * Math.sin((2 * Math.PI * ts) / 86_400_000) + station * 0.05) * 100) / 100,
  rainfall: (ts / MINUTE) % 97 === 0 ? 0.2794 : 0,
  wind_gust_speed: Math.round(Math.abs(32 * Math.sin((2 * Math.PI * ts) / (300 * MINUTE))) * 10) / 10,
});

async function build(): Promise<void> {
  const building = `${CACHE}.building`;
  rmSync(building, { recursive: true, force: true });
  console.log(`building ${(MINUTES * STATIONS).toLocaleString('en-US')} rows into ${CACHE} (once; later runs reuse it)...`);
  const started = Date.now();
  // The engine makes the datastore's table, columns and indexes from one message through a pipeline.
  const engine = engineFor(building);
  await engine.start();
  await engine.createChannel({ channelName: 'weather_channel' });
  await engine.createDatastore(defaults.datastores.find((d) => d.datastoreName === DATASTORE)!);
  await engine.createPipeline({
    pipelineName: 'weather_pipeline',
    pipelineActivities: [
      { channel: { name: 'in', channelName: 'weather_channel', next: 'out' } },
      { datastore: { name: 'out', datastoreName: DATASTORE } },
    ],
  });
  await engine.batchPutMessage({ channelName: 'weather_channel', messages: [{ messageId: 'seed', payload: Buffer.from(JSON.stringify(reading(0, START))) }] });
  await engine.stop();
  const db = new Database(join(building, 'datastores.sqlite'));
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -400000');
  const indexes = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL").all(TABLE) as { name: string; sql: string }[];
  for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
  db.exec(`DELETE FROM "${TABLE}"`);
  // Rows in time order, stations interleaved, as they would arrive; arrival = ts.
  db.exec(`
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${MINUTES * STATIONS - 1}),
    r AS (SELECT i % ${STATIONS} AS s, ${START} + (i / ${STATIONS}) * ${MINUTE} AS ts FROM n)
    INSERT INTO "${TABLE}" (__arrival, __record, device_id, ts, ambient_temperature, rainfall, wind_gust_speed)
    SELECT ts, '{}', printf('station_%03d', s + 1), ts,
      round(8 + 6 * sin(2 * pi() * ts / 86400000.0) + s * 0.05, 2),
      CASE WHEN (ts / ${MINUTE}) % 97 = 0 THEN 0.2794 ELSE 0 END,
      round(abs(32 * sin(2 * pi() * ts / ${300 * MINUTE}.0)), 1)
    FROM r`);
  for (const index of indexes) db.exec(index.sql);
  db.close();
  renameSync(building, CACHE);
  console.log(`built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

async function refresh(engine: AnalyticsEngine, datasetName: string): Promise<{ ms: number; csv: string }> {
  const started = process.hrtime.bigint();
  const { versionId } = await engine.createDatasetContent({ datasetName });
  await engine.idle();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const content = await engine.getDatasetContent({ datasetName, versionId: versionId! });
  if (content.status?.state !== 'SUCCEEDED') throw new Error(`${datasetName} failed: ${content.status?.reason}`);
  const file = await engine.openDatasetContent({ datasetName, versionId: versionId!, entryName: `${datasetName}.csv` });
  return { ms, csv: await contentText(file) };
}

if (!existsSync(CACHE)) await build();
// Rows an earlier run added (arrivals after the history) go first, so every run starts from the same history.
{
  const db = new Database(join(CACHE, 'datastores.sqlite'));
  const removed = db.prepare(`DELETE FROM "${TABLE}" WHERE __arrival > ?`).run(END).changes;
  if (removed > 0) console.log(`removed ${removed} rows an earlier run added`);
  db.close();
}
mkdirSync(join(CACHE, 'content'), { recursive: true });
const engine = engineFor(CACHE);
await engine.start();
let minute = 0;
try {
  for (const name of ['weather_daily', 'weather_full']) await engine.deleteDataset({ datasetName: name }).catch(() => undefined);
  await engine.createDataset({ datasetName: 'weather_daily', actions: daily.actions });
  // The same query with a LIMIT no result reaches: not eligible, so always the full query.
  await engine.createDataset({ datasetName: 'weather_full', actions: [{ actionName: 'full', queryAction: { sqlQuery: `${SQL} LIMIT 100000000` } }] });
  const first = await refresh(engine, 'weather_daily');
  console.log(`first weather_daily content (full, it records the watermark): ${(first.ms / 1000).toFixed(2)} s`);
  const incremental: number[] = [];
  const full: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    // 15 minutes of readings from every station, through the channel and pipeline.
    const messages = [];
    for (let m = 0; m < 15; m += 1, minute += 1) {
      for (let s = 0; s < STATIONS; s += 1) messages.push({ messageId: `r${round}-${minute}-${s}`, payload: Buffer.from(JSON.stringify(reading(s, END + minute * MINUTE))) });
    }
    for (let i = 0; i < messages.length; i += 100) await engine.batchPutMessage({ channelName: 'weather_channel', messages: messages.slice(i, i + 100) });
    const inc = await refresh(engine, 'weather_daily');
    const all = await refresh(engine, 'weather_full');
    if (inc.csv !== all.csv) throw new Error(`round ${round}: the incremental CSV differs from the full query's`);
    incremental.push(inc.ms);
    full.push(all.ms);
  }
  const best = (xs: number[]) => Math.min(...xs);
  const speedup = best(full) / best(incremental);
  console.log(`weather_daily refresh after 15 minutes of new data from ${STATIONS} stations, over ${(MINUTES * STATIONS).toLocaleString('en-US')} rows, best of ${ROUNDS} (load ${loadavg()[0]!.toFixed(1)})`);
  console.log(`  incremental (patched content)  : ${(best(incremental) / 1000).toFixed(3)} s (goal < ${GOAL_MS / 1000} s: ${best(incremental) < GOAL_MS ? 'met' : 'NOT met'})`);
  console.log(`  full query, same run           : ${(best(full) / 1000).toFixed(3)} s`);
  console.log(`  speed-up                       : ${speedup.toFixed(1)}x (goal >= ${GOAL_SPEEDUP}x: ${speedup >= GOAL_SPEEDUP ? 'met' : 'NOT met'}); CSVs identical in every round`);
  console.log(`  runs (s): incremental ${incremental.map((x) => (x / 1000).toFixed(3)).join(', ')}; full ${full.map((x) => (x / 1000).toFixed(2)).join(', ')}`);
} finally {
  await engine.stop();
  const db = new Database(join(CACHE, 'datastores.sqlite'));
  db.prepare(`DELETE FROM "${TABLE}" WHERE __arrival > ?`).run(END);
  db.close();
}

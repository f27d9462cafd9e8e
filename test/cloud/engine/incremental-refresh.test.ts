import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { readResourceFile } from '../../../cloud/engine/resource-file.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { testStorage } from '../helpers/test-storage.ts';
import { FakeTime, message } from './engine-fixture.ts';
import { contentText } from '../helpers/content-text.ts';

// Incremental weather_daily (cloud/engine/incremental-refresh.ts) against the full query, byte for
// byte: `weather_daily` is the default dataset; `weather_full` is the same query with a LIMIT no
// result reaches, which makes it ineligible, so it always runs in full. The log says which contents
// were patched, so every test also checks that the incremental path (or the fallback) really ran.

const DAY = 86_400_000;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const SQL = readResourceFile('cloud/resources/default.json').datasets.find((d) => d.datasetName === 'weather_daily')!.actions[0]!.queryAction!.sqlQuery;
const PATCHED = 'dataset content patched incrementally';

/** mulberry32: a seeded generator, so a failing sequence can be replayed from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let engine: AnalyticsEngine;
let time: FakeTime;
let dir: string;
let logs: string[];
let nextId = 0;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hedgerow-incremental-'));
  time = new FakeTime(Date.UTC(2024, 2, 1));
  logs = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter((l) => l !== ''));
      done();
    },
  });
  let id = 0;
  engine = new AnalyticsEngine({
    // One sweep in a test's lifetime unless it moves time past it.
    settings: cloudSettings.parse({ dataDir: dir, resourceFiles: [], mqtt: { enabled: false }, queryTimeoutMs: 30_000, retentionSweepMs: 40 * DAY, ...await testStorage(dir) }),
    log: pino({ level: 'debug' }, stream),
    clock: time,
    newId: () => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}`,
  });
  await engine.start();
  await engine.createChannel({ channelName: 'weather_channel' });
  await engine.createDatastore({ datastoreName: 'weather_datastore', retentionPeriod: { numberOfDays: 30 } });
  await engine.createPipeline({
    pipelineName: 'weather_pipeline',
    pipelineActivities: [
      { channel: { name: 'in', channelName: 'weather_channel', next: 'out' } },
      { datastore: { name: 'out', datastoreName: 'weather_datastore' } },
    ],
  });
  await engine.createDataset({ datasetName: 'weather_daily', actions: [{ actionName: 'daily_summary', queryAction: { sqlQuery: SQL } }] });
  await engine.createDataset({ datasetName: 'weather_full', actions: [{ actionName: 'daily_summary', queryAction: { sqlQuery: `${SQL} LIMIT 100000000` } }] });
});

afterEach(async () => {
  await engine.stop();
  rmSync(dir, { recursive: true, force: true });
});

const patched = () => logs.filter((l) => l.includes(PATCHED)).length;

/** Readings from `stations` stations at random times in [from, to), with random values (some missing). */
function readings(rand: () => number, count: number, from: number, to: number, stations = 12): Record<string, unknown>[] {
  return Array.from({ length: count }, () => {
    let ts = Math.floor(from + rand() * (to - from));
    // Some a fraction of a millisecond from an hour's (and so sometimes a day's) boundary, which
    // from_unixtime rounds to the millisecond: either side of it.
    if (rand() < 0.1) ts = Math.round(ts / HOUR) * HOUR + [-0.6, -0.4, -0.2, 0.3, 0.5][Math.floor(rand() * 5)]!;
    const r: Record<string, unknown> = {
      device_id: `station_${String(1 + Math.floor(rand() * stations)).padStart(2, '0')}`,
      ts,
      ambient_temperature: Math.round((rand() * 50 - 15) * 1000) / 1000,
      rainfall: rand() < 0.3 ? Math.round(rand() * 3 * 10_000) / 10_000 : 0,
    };
    if (rand() < 0.8) r.wind_gust_speed = Math.round(rand() * 900) / 10;
    return r;
  });
}

async function put(records: Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < records.length; i += 100) {
    const messages = records.slice(i, i + 100).map((r) => message(`m${++nextId}`, r));
    await engine.batchPutMessage({ channelName: 'weather_channel', messages });
  }
}

async function content(datasetName: string, versionId: string): Promise<string> {
  const state = await engine.getDatasetContent({ datasetName, versionId });
  expect(state.status?.state, state.status?.reason).toBe('SUCCEEDED');
  const file = await engine.openDatasetContent({ datasetName, versionId, entryName: `${datasetName}.csv` });
  return await contentText(file);
}

/** Refreshes both datasets and returns their CSVs; 15 minutes pass first, as between schedules. */
async function refresh(): Promise<{ daily: string; full: string }> {
  await time.advance(15 * MINUTE);
  const daily = await engine.createDatasetContent({ datasetName: 'weather_daily' });
  const full = await engine.createDatasetContent({ datasetName: 'weather_full' });
  await engine.idle();
  return { daily: await content('weather_daily', daily.versionId!), full: await content('weather_full', full.versionId!) };
}

async function expectSame(): Promise<string> {
  const { daily, full } = await refresh();
  expect(daily).toBe(full);
  return daily;
}

describe('incremental weather_daily', () => {
  it('equals the full query byte for byte after random appends over many stations and days, late data included', async () => {
    const seed = 20_240_301;
    const rand = random(seed);
    const now = () => time.now();
    await put(readings(rand, 1500, now() - 25 * DAY, now()));
    const first = await expectSame();
    expect(patched()).toBe(0);
    for (let round = 0; round < 8; round += 1) {
      // Mostly the last minutes, some late data from days ago, one station back after weeks.
      await put(readings(rand, 120, now() - 15 * MINUTE, now(), 12 + round));
      await put(readings(rand, 10, now() - 20 * DAY, now() - 2 * DAY));
      if (round === 3) await put(readings(rand, 1, now() - 24 * DAY, now() - 23 * DAY, 1));
      expect(await expectSame(), `seed ${seed}, round ${round}`).not.toBe(first);
    }
    expect(patched()).toBe(8);
    // A refresh with nothing new is patched too, and changes nothing.
    const before = await expectSame();
    expect(await expectSame()).toBe(before);
    expect(patched()).toBe(10);
  });

  it('equals the full query for hourly groups with WHERE, HAVING, quoted names and the keys in another order', async () => {
    const hourly =
      'SELECT date_trunc(\'hour\', from_unixtime("ts" / 1000)) AS hour, "device_id", count(*) AS n, round(avg(ambient_temperature), 3) AS t, max(wind_gust_speed) AS g ' +
      'FROM weather_datastore WHERE rainfall >= 0 GROUP BY "device_id", date_trunc(\'hour\', from_unixtime("ts" / 1000)) HAVING count(*) > 1 ORDER BY 2, hour';
    await engine.updateDataset({ datasetName: 'weather_daily', actions: [{ actionName: 'hourly', queryAction: { sqlQuery: hourly } }] });
    await engine.updateDataset({ datasetName: 'weather_full', actions: [{ actionName: 'hourly', queryAction: { sqlQuery: `${hourly} LIMIT 100000000` } }] });
    const seed = 4242;
    const rand = random(seed);
    await put(readings(rand, 1500, time.now() - 2 * DAY, time.now(), 5));
    await expectSame();
    for (let round = 0; round < 5; round += 1) {
      await put(readings(rand, 100, time.now() - 15 * MINUTE, time.now(), 5));
      await put(readings(rand, 20, time.now() - 2 * DAY, time.now() - HOUR, 5));
      await expectSame();
    }
    expect(patched(), `seed ${seed}`).toBe(5);
  });

  it('recomputes an old group that late data (old ts, new arrival) changes', async () => {
    await put([{ device_id: 'station_01', ts: time.now() - 10 * DAY, ambient_temperature: 10, rainfall: 1, wind_gust_speed: 5 }]);
    const first = await expectSame();
    await put([{ device_id: 'station_01', ts: time.now() - 10 * DAY + 1000, ambient_temperature: 20, rainfall: 2, wind_gust_speed: 4 }]);
    const second = await expectSame();
    expect(patched()).toBe(1);
    expect(first).toContain(',10,10,10,1,5\r\n');
    expect(second).toContain(',10,20,15,3,5\r\n');
  });

  it('equals the full query after a pipeline reprocessing re-adds the channel messages', async () => {
    const rand = random(7);
    await put(readings(rand, 400, time.now() - 10 * DAY, time.now()));
    const first = await expectSame();
    await engine.startPipelineReprocessing({ pipelineName: 'weather_pipeline' });
    await engine.idle();
    const again = await expectSame();
    expect(patched()).toBe(1);
    // Every row is there twice now: the sums doubled.
    expect(again).not.toBe(first);
  });

  it('runs in full after retention deleted rows, then incrementally again', async () => {
    const rand = random(11);
    await put(readings(rand, 300, time.now() - 5 * DAY, time.now()));
    await expectSame();
    // Ten days later, newer rows; then the sweep (40 days after start) removes the first ones (30-day retention).
    await time.advance(10 * DAY);
    await put(readings(rand, 300, time.now() - 5 * DAY, time.now()));
    await expectSame();
    expect(patched()).toBe(1);
    await time.advance(30 * DAY);
    expect(logs.some((l) => l.includes('retention removed expired data'))).toBe(true);
    const swept = await expectSame();
    expect(patched()).toBe(1);
    await put(readings(rand, 50, time.now() - DAY, time.now()));
    expect(await expectSame()).not.toBe(swept);
    expect(patched()).toBe(2);
  });

  it('runs in full after a definition change, a dropped and re-created datastore, or a deleted previous content', async () => {
    const rand = random(5);
    await put(readings(rand, 200, time.now() - 3 * DAY, time.now()));
    await expectSame();
    const changed = SQL.replace('round(sum(rainfall), 2)', 'round(sum(rainfall), 3)');
    await engine.updateDataset({ datasetName: 'weather_daily', actions: [{ actionName: 'daily_summary', queryAction: { sqlQuery: changed } }] });
    await engine.updateDataset({ datasetName: 'weather_full', actions: [{ actionName: 'daily_summary', queryAction: { sqlQuery: `${changed} LIMIT 100000000` } }] });
    await put(readings(rand, 20, time.now() - DAY, time.now()));
    await expectSame();
    expect(patched()).toBe(0);

    await engine.deleteDatastore({ datastoreName: 'weather_datastore' });
    await engine.createDatastore({ datastoreName: 'weather_datastore' });
    await put(readings(rand, 20, time.now() - DAY, time.now()));
    await expectSame();
    expect(patched()).toBe(0);

    await put(readings(rand, 20, time.now() - DAY, time.now()));
    await expectSame();
    expect(patched()).toBe(1);
    await engine.deleteDatasetContent({ datasetName: 'weather_daily' });
    await put(readings(rand, 20, time.now() - DAY, time.now()));
    await expectSame();
    expect(patched()).toBe(1);
  });

  it('runs in full for a reading without a time or a station name that would not sort as plain text', async () => {
    await put(readings(random(3), 100, time.now() - 3 * DAY, time.now()));
    await expectSame();
    await put([{ device_id: 'station_02', ambient_temperature: 3 }]);
    await expectSame();
    expect(patched()).toBe(0);
    // The next run still sees that reading (arrivals are looked at again for ARRIVAL_SETTLE_MS), the
    // one after patches, and the station's NULL-day row stays first among its rows.
    await put(readings(random(4), 30, time.now() - 3 * DAY, time.now()));
    await expectSame();
    expect(patched()).toBe(0);
    await put(readings(random(6), 30, time.now() - 3 * DAY, time.now()));
    expect(await expectSame()).toMatch(/station_02,,/);
    expect(patched()).toBe(1);
    await put([{ device_id: '=cmd', ts: time.now() - DAY, ambient_temperature: 1 }, { device_id: 'Station_10', ts: time.now() - DAY, ambient_temperature: 2 }]);
    await expectSame();
    await put(readings(random(5), 30, time.now() - 3 * DAY, time.now()));
    await expectSame();
    expect(patched()).toBe(1);
  });
});

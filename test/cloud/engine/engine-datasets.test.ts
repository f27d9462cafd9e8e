import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseCsv } from '../../../cloud/query/csv.ts';
import type { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { InvalidRequestException, ResourceNotFoundException } from '../../../cloud/engine/errors.ts';
import { BACKENDS } from '../query/sql-backends.ts';
import { storesByBackend } from '../helpers/engine-stores.ts';
import { createFlow, message, startEngine as startEngineOn, type EngineFixture } from './engine-fixture.ts';
import { contentText } from '../helpers/content-text.ts';

const HOUR = 3600_000;

async function csv(engine: AnalyticsEngine, datasetName: string, versionId = '$LATEST'): Promise<string[][]> {
  const content = await engine.getDatasetContent({ datasetName, versionId });
  expect(content.status!.state, content.status!.reason).toBe('SUCCEEDED');
  const entry = content.entries![0]!;
  const version = decodeURIComponent(entry.dataURI!.split('/')[3]!);
  const file = await engine.openDatasetContent({ datasetName, versionId: version, entryName: entry.entryName! });
  return parseCsv(await contentText(file));
}

async function put(engine: AnalyticsEngine, ...readings: { id: string; station: string; ts: number; temp: number }[]) {
  await engine.batchPutMessage({
    channelName: 'ch',
    messages: readings.map((r) => message(r.id, { device_id: r.station, ts: r.ts, ambient_temperature: r.temp })),
  });
}

const query = (sqlQuery: string, extra: Record<string, unknown> = {}) => ({ actions: [{ actionName: 'q', queryAction: { sqlQuery, ...extra } }] });

// One PostgreSQL server for the file, a fresh database per engine.
const stores = storesByBackend();
afterAll(() => stores.stop());

describe.each(BACKENDS)('engine: datasets on %s', (backend) => {
  let f: EngineFixture;
  const startEngine = (overrides: Record<string, unknown>) => startEngineOn(overrides, undefined, stores.store(backend));
  beforeEach(async () => {
    f = await startEngine({ queryTimeoutMs: 20_000 });
    await createFlow(f.engine);
  });
  afterEach(async () => f.close());

  it('creates content as a CSV version with states and a dataURI', async () => {
    const t = Date.UTC(2024, 0, 1, 6);
    await put(f.engine, { id: '1', station: 's1', ts: t, temp: 4 }, { id: '2', station: 's1', ts: t + HOUR, temp: 8 }, { id: '3', station: 's2', ts: t, temp: -1 });
    await f.engine.createDataset({
      datasetName: 'daily',
      ...query("SELECT device_id AS station, date_trunc('day', from_unixtime(ts / 1000)) AS day, min(ambient_temperature) AS lo, max(ambient_temperature) AS hi FROM ds GROUP BY 1, 2 ORDER BY 1"),
    });
    const { versionId } = await f.engine.createDatasetContent({ datasetName: 'daily' });
    expect((await f.engine.getDatasetContent({ datasetName: 'daily', versionId })).status!.state).toBe('CREATING');
    await f.engine.idle();
    expect(await csv(f.engine, 'daily')).toEqual([
      ['station', 'day', 'lo', 'hi'],
      ['s1', '2024-01-01 00:00:00.000', '4', '8'],
      ['s2', '2024-01-01 00:00:00.000', '-1', '-1'],
    ]);
    const got = await f.engine.getDatasetContent({ datasetName: 'daily', versionId: '$LATEST_SUCCEEDED' });
    expect(got.entries![0]!.dataURI).toBe(`/content/daily/${versionId}/daily.csv`);
    const listed = await f.engine.listDatasetContents({ datasetName: 'daily' });
    expect(listed.datasetContentSummaries!.map((c) => [c.version, c.status!.state])).toEqual([[versionId, 'SUCCEEDED']]);
    await f.engine.deleteDatasetContent({ datasetName: 'daily', versionId: versionId! });
    await expect(f.engine.getDatasetContent({ datasetName: 'daily' })).rejects.toThrow(ResourceNotFoundException);
    await expect(f.engine.openDatasetContent({ datasetName: 'daily', versionId: versionId!, entryName: 'daily.csv' })).rejects.toThrow(ResourceNotFoundException);
  });

  it('refuses SQL that is not a single SELECT over datastores when the dataset is created', async () => {
    const bad = [
      'DELETE FROM ds', 'SELECT * FROM ds; DROP TABLE ds', 'SELECT * FROM ch', "SELECT * FROM ds WHERE x = 1 /* */; ATTACH DATABASE '/tmp/x' AS y",
      'SELECT * FROM sqlite_master', 'PRAGMA writable_schema = 1', 'SELECT nosuchfunction(1) FROM ds', 'SELECT * FROM ds WHERE',
    ];
    for (const sqlQuery of bad) await expect(f.engine.createDataset({ datasetName: 'bad', ...query(sqlQuery) }), sqlQuery).rejects.toThrow(InvalidRequestException);
    await expect(f.engine.createDataset({ datasetName: 'c', actions: [{ actionName: 'x', containerAction: { image: 'x' } }] })).rejects.toThrow(/containerAction/);
    await expect(f.engine.createDataset({ datasetName: 'c', ...query('SELECT * FROM ds'), triggers: [{ schedule: { expression: 'rate(5 weeks)' } }] })).rejects.toThrow(/Schedule expression/);
    await expect(f.engine.createDataset({ datasetName: 'c', ...query('SELECT * FROM ds'), triggers: [{ dataset: { name: 'c' } }] })).rejects.toThrow(/cannot trigger itself/);
    await expect(f.engine.createDataset({ datasetName: 'c', ...query('SELECT * FROM ds'), triggers: [{ dataset: { name: 'ghost' } }] })).rejects.toThrow(/does not exist/);
    expect((await f.engine.listDatasets({})).datasetSummaries).toEqual([]);
  });

  it('records a query that fails at run time as FAILED with the reason', async () => {
    await f.engine.createDataset({ datasetName: 'later', ...query('SELECT not_yet_an_attribute FROM ds') });
    await f.engine.createDatasetContent({ datasetName: 'later' });
    await f.engine.idle();
    const content = await f.engine.getDatasetContent({ datasetName: 'later', versionId: '$LATEST' });
    expect(content.status).toEqual({ state: 'FAILED', reason: expect.stringMatching(/^no such column: "not_yet_an_attribute"/) });
    expect(content.entries).toEqual([]);
    await expect(f.engine.getDatasetContent({ datasetName: 'later', versionId: '$LATEST_SUCCEEDED' })).rejects.toThrow(ResourceNotFoundException);
  });

  it('reads only data since the last run with deltaTime, up to the run time plus offsetSeconds', async () => {
    await f.engine.createDataset({
      datasetName: 'delta',
      ...query('SELECT device_id, ambient_temperature FROM ds ORDER BY ts', { filters: [{ deltaTime: { offsetSeconds: -60, timeExpression: 'from_unixtime(ts / 1000)' } }] }),
    });
    const start = f.time.now();
    await put(f.engine, { id: 'a', station: 's1', ts: start + 1000, temp: 1 });
    await f.time.advance(HOUR);
    await f.engine.createDatasetContent({ datasetName: 'delta' });
    await f.engine.idle();
    expect(await csv(f.engine, 'delta')).toEqual([['device_id', 'ambient_temperature'], ['s1', '1']]);
    // 30 s before the run: inside the (negative) offset, so it belongs to the next window.
    await put(f.engine, { id: 'b', station: 's1', ts: f.time.now() - 30_000, temp: 2 }, { id: 'c', station: 's1', ts: f.time.now() + 1000, temp: 3 });
    await f.time.advance(HOUR);
    const second = await f.engine.createDatasetContent({ datasetName: 'delta' });
    await f.engine.idle();
    expect(await csv(f.engine, 'delta')).toEqual([['device_id', 'ambient_temperature'], ['s1', '2'], ['s1', '3']]);
    await f.engine.createDatasetContent({ datasetName: 'delta', versionId: second.versionId! });
    await f.engine.idle();
    expect(await csv(f.engine, 'delta', second.versionId)).toEqual([['device_id', 'ambient_temperature'], ['s1', '2'], ['s1', '3']]);
  });

  it('keeps maxVersions versions, or by default the latest and the latest succeeded', async () => {
    await f.engine.createDataset({ datasetName: 'kept', ...query('SELECT count(*) AS n FROM ds'), versioningConfiguration: { maxVersions: 2 } });
    for (let i = 0; i < 3; i += 1) {
      await f.engine.createDatasetContent({ datasetName: 'kept' });
      await f.engine.idle();
      await f.time.advance(1000);
    }
    expect((await f.engine.listDatasetContents({ datasetName: 'kept' })).datasetContentSummaries).toHaveLength(2);
    await f.engine.createDataset({ datasetName: 'plain', ...query('SELECT count(*) AS n FROM ds') });
    for (let i = 0; i < 3; i += 1) {
      await f.engine.createDatasetContent({ datasetName: 'plain' });
      await f.engine.idle();
      await f.time.advance(1000);
    }
    expect((await f.engine.listDatasetContents({ datasetName: 'plain' })).datasetContentSummaries).toHaveLength(1);
    await f.engine.updateDataset({ datasetName: 'plain', ...query('SELECT broken_column FROM ds') });
    await f.engine.createDatasetContent({ datasetName: 'plain' });
    await f.engine.idle();
    const states = (await f.engine.listDatasetContents({ datasetName: 'plain' })).datasetContentSummaries!.map((c) => c.status!.state);
    expect(states).toEqual(['FAILED', 'SUCCEEDED']);
  });

  it('runs on its rate schedule and triggers the datasets that follow it', async () => {
    await f.engine.createDataset({ datasetName: 'first', ...query('SELECT count(*) AS n FROM ds'), triggers: [{ schedule: { expression: 'rate(15 minutes)' } }] });
    await f.engine.createDataset({ datasetName: 'second', ...query('SELECT count(*) AS n FROM ds'), triggers: [{ dataset: { name: 'first' } }] });
    expect(f.engine.nextScheduledRun()).toBe(f.time.now() + 15 * 60_000);
    await put(f.engine, { id: 'a', station: 's', ts: 1, temp: 1 });
    await f.time.advance(15 * 60_000);
    await f.engine.idle();
    await f.engine.idle();
    expect(await csv(f.engine, 'first')).toEqual([['n'], ['1']]);
    expect(await csv(f.engine, 'second')).toEqual([['n'], ['1']]);
    const [summary] = (await f.engine.listDatasetContents({ datasetName: 'first' })).datasetContentSummaries!;
    expect(summary!.scheduleTime).toEqual(new Date(f.time.now()));
    await f.engine.deleteDataset({ datasetName: 'first' });
    expect(f.engine.nextScheduledRun()).toBeUndefined();
  });

  it('fails a query that runs past queryTimeoutMs and stays available', async () => {
    await f.close();
    f = await startEngine({ queryTimeoutMs: 300 });
    await createFlow(f.engine);
    await f.engine.batchPutMessage({ channelName: 'ch', messages: Array.from({ length: 100 }, (_, i) => message(`m${i}`, { v: i })) });
    await f.engine.batchPutMessage({ channelName: 'ch', messages: Array.from({ length: 100 }, (_, i) => message(`n${i}`, { v: i })) });
    await f.engine.createDataset({ datasetName: 'slow', ...query('SELECT count(*) FROM ds a, ds b, ds c, ds d') });
    await f.engine.createDatasetContent({ datasetName: 'slow' });
    await f.engine.idle();
    expect((await f.engine.getDatasetContent({ datasetName: 'slow', versionId: '$LATEST' })).status!.reason).toMatch(/longer than 300 ms/);
    await f.engine.createDataset({ datasetName: 'quick', ...query('SELECT count(*) AS n FROM ds') });
    await f.engine.createDatasetContent({ datasetName: 'quick' });
    await f.engine.idle();
    expect(await csv(f.engine, 'quick')).toEqual([['n'], ['200']]);
  });

  it('fails a running query when the engine stops, instead of waiting for it', async () => {
    await f.engine.batchPutMessage({ channelName: 'ch', messages: Array.from({ length: 100 }, (_, i) => message(`m${i}`, { v: i })) });
    await f.engine.createDataset({ datasetName: 'endless', ...query('SELECT count(*) FROM ds a, ds b, ds c, ds d, ds e') });
    await f.engine.createDatasetContent({ datasetName: 'endless' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await f.engine.stop();
    await f.engine.start();
    const content = await f.engine.getDatasetContent({ datasetName: 'endless', versionId: '$LATEST' });
    expect(content.status).toEqual({ state: 'FAILED', reason: expect.stringMatching(/query process ended/) });
  });

  it('describes, lists, updates and deletes datasets with their content', async () => {
    await f.engine.createDataset({ datasetName: 'd1', ...query('SELECT * FROM ds'), retentionPeriod: { numberOfDays: 3 } });
    const { dataset } = await f.engine.describeDataset({ datasetName: 'd1' });
    expect(dataset).toMatchObject({ name: 'd1', status: 'ACTIVE', retentionPeriod: { numberOfDays: 3 }, actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT * FROM ds' } }] });
    expect((await f.engine.listDatasets({})).datasetSummaries).toEqual([
      expect.objectContaining({ datasetName: 'd1', actions: [{ actionName: 'q', actionType: 'QUERY' }] }),
    ]);
    await f.engine.createDatasetContent({ datasetName: 'd1' });
    await f.engine.idle();
    await f.engine.deleteDataset({ datasetName: 'd1' });
    await expect(f.engine.describeDataset({ datasetName: 'd1' })).rejects.toThrow(ResourceNotFoundException);
    await expect(f.engine.createDatasetContent({ datasetName: 'd1' })).rejects.toThrow(ResourceNotFoundException);
  });
});

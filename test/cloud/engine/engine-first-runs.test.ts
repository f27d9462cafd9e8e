import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AnalyticsEngine, type AnalyticsEngineOptions } from '../../../cloud/engine/analytics-engine.ts';
import { parseCsv } from '../../../cloud/query/csv.ts';
import { cloudSettings } from '../../../cloud/settings.ts';
import { testStorage } from '../helpers/test-storage.ts';
import { createFlow, FakeTime, message } from './engine-fixture.ts';
import { contentText } from '../helpers/content-text.ts';

/** Engines started one after another on one data folder, as restarts of `npm start` are. */
describe('engine start: datasets without content run once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hedgerow-first-runs-'));
  const time = new FakeTime(Date.UTC(2026, 11, 7, 9));
  const running: AnalyticsEngine[] = [];
  afterEach(async () => {
    for (const engine of running.splice(0)) await engine.stop();
  });

  async function start(extra: Partial<AnalyticsEngineOptions> = {}): Promise<AnalyticsEngine> {
    const settings = cloudSettings.parse({ dataDir: dir, resourceFiles: [], mqtt: { enabled: false }, ...await testStorage(dir) });
    const engine = new AnalyticsEngine({ settings, log: pino({ level: 'silent' }), clock: time, ...extra });
    await engine.start();
    running.push(engine);
    return engine;
  }

  async function rows(engine: AnalyticsEngine, datasetName: string): Promise<string[][]> {
    const content = await engine.getDatasetContent({ datasetName });
    const entry = content.entries![0]!;
    const version = decodeURIComponent(entry.dataURI!.split('/')[3]!);
    const file = await engine.openDatasetContent({ datasetName, versionId: version, entryName: entry.entryName! });
    return parseCsv(await contentText(file));
  }

  it('has content for a daily dataset at the first start, with what beforeFirstRuns put in; a restart adds no version', async () => {
    const first = await start();
    await createFlow(first);
    await first.createDataset({
      datasetName: 'daily',
      actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS n FROM ds' } }],
      triggers: [{ schedule: { expression: 'rate(1 day)' } }],
    });
    await first.createDataset({ datasetName: 'manual', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS n FROM ds' } }] });
    // Over attributes no message has had yet (the demo's taps before the first tap): a run could only fail.
    await first.createDataset({
      datasetName: 'no_data_yet',
      actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT object_id, count(*) AS n FROM ds GROUP BY object_id' } }],
      triggers: [{ schedule: { expression: 'rate(1 hour)' } }],
    });
    await first.stop();
    running.length = 0;

    // The next start: the backfill's messages go in before the first runs, so they are counted.
    const second = await start({
      beforeFirstRuns: async (engine) => {
        await engine.batchPutMessage({ channelName: 'ch', messages: Array.from({ length: 30 }, (_, i) => message(`b${i}`, { ts: time.now() - i * 300_000, v: i })) });
      },
    });
    expect(await rows(second, 'daily')).toEqual([['n'], ['30']]);
    expect(await rows(second, 'manual')).toEqual([['n'], ['30']]);
    expect((await second.listDatasetContents({ datasetName: 'daily' })).datasetContentSummaries).toHaveLength(1);
    expect((await second.listDatasetContents({ datasetName: 'no_data_yet' })).datasetContentSummaries).toEqual([]);
    // Not yet due by its schedule: a day from the dataset's creation.
    expect(second.nextScheduledRun()).toBeGreaterThan(time.now());
    await second.stop();
    running.length = 0;

    const third = await start();
    expect((await third.listDatasetContents({ datasetName: 'daily' })).datasetContentSummaries).toHaveLength(1);
    expect((await third.listDatasetContents({ datasetName: 'manual' })).datasetContentSummaries).toHaveLength(1);
    await third.stop();
    running.length = 0;
    rmSync(dir, { recursive: true, force: true });
  });
});

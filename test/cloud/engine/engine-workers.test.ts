import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { SqliteStore } from '../../../cloud/storage/sqlite-store.ts';
import { createFlow, message, startEngine, type EngineFixture } from './engine-fixture.ts';

/** Two engines on one data folder, as two `hedgerow cloud` workers sharing one database. */
describe('two engines on one store', () => {
  let f: EngineFixture;
  let second: AnalyticsEngine;

  beforeEach(async () => {
    f = await startEngine();
    await createFlow(f.engine);
    await f.engine.createDataset({
      datasetName: 'every15',
      actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS n FROM ds' } }],
      triggers: [{ schedule: { expression: 'rate(15 minutes)' } }],
      versioningConfiguration: { maxVersions: 10 },
    });
    let id = 1000;
    second = new AnalyticsEngine({ settings: f.settings, log: pino({ level: 'silent' }), clock: f.time, newId: () => `00000000-0000-4000-8000-${String(++id).padStart(12, '0')}` });
    await second.start();
  });
  afterEach(async () => {
    await second.stop();
    await f.close();
  });

  it('make one content version per schedule trigger, not one per engine', async () => {
    const created = f.time.now();
    await f.time.advance(15 * 60_000);
    await f.time.advance(15 * 60_000);
    await f.engine.idle();
    await second.idle();
    const versions = (await f.engine.listDatasetContents({ datasetName: 'every15' })).datasetContentSummaries!;
    // The first run at creation, then one per trigger: a second engine adds none.
    expect(versions.map((v) => v.scheduleTime!.getTime()).sort()).toEqual([created, created + 15 * 60_000, created + 30 * 60_000]);
  });

  it('store a messageId sent to both once, in the channel and in the datastore', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => message(`m${i}`, { v: i }));
    await Promise.all([f.engine.batchPutMessage({ channelName: 'ch', messages: batch }), second.batchPutMessage({ channelName: 'ch', messages: batch.slice(5) })]);
    await second.batchPutMessage({ channelName: 'ch', messages: batch });
    const store = new SqliteStore(f.dir);
    await store.open();
    try {
      expect(await store.channelStats('ch', true)).toMatchObject({ count: 20 });
      expect(await store.datastoreStats('ds', true)).toMatchObject({ count: 20 });
    } finally {
      await store.close();
    }
  });
});

import pino from 'pino';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnalyticsEngine } from '../../../cloud/engine/analytics-engine.ts';
import { REPROCESS_LEASE_MS } from '../../../cloud/engine/reprocessing.ts';
import { DEFAULT_RUNNER_OPTIONS } from '../../../cloud/storage/sqlite-query-runner.ts';
import { createStore } from '../../../cloud/storage/storage-setting.ts';
import { Postgres, hasPostgres } from '../helpers/postgres.ts';
import { createFlow, message, startEngine, type EngineFixture } from './engine-fixture.ts';

// One PostgreSQL server for the file, started only if its case runs; each test gets a fresh database.
let postgres: Promise<Postgres> | undefined;
afterAll(async () => (await postgres)?.stop(), 60_000);
const backends: { name: string; storage(): Promise<Record<string, unknown>> }[] = [
  { name: 'one data folder (SQLite)', storage: async () => ({}) },
  ...(hasPostgres() ? [{ name: 'one PostgreSQL database', storage: async () => ({ storage: await (await (postgres ??= Postgres.start())).createDatabase('workers') }) }] : []),
];

/** Two engines on one store, as two `hedgerow cloud` workers sharing one database. */
describe.each(backends)('two engines on $name', (backend) => {
  let f: EngineFixture;
  let second: AnalyticsEngine;

  beforeEach(async () => {
    // The second engine has the first's settings, so the same folder or database URL.
    f = await startEngine(await backend.storage());
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
  }, 60_000);
  afterEach(async () => {
    await second.stop();
    await f.close();
  });

  it('make one content version per schedule trigger, not one per engine', async () => {
    const created = f.time.now();
    // Each trigger's claim is a database round trip, after which the next trigger is armed: let both
    // engines finish one before time moves on to the next (a real clock would simply wait).
    for (let trigger = 0; trigger < 2; trigger++) {
      await f.time.advance(15 * 60_000);
      await f.engine.idle();
      await second.idle();
    }
    const versions = (await f.engine.listDatasetContents({ datasetName: 'every15' })).datasetContentSummaries!;
    // The first run at creation, then one per trigger: a second engine adds none.
    expect(versions.map((v) => v.scheduleTime!.getTime()).sort()).toEqual([created, created + 15 * 60_000, created + 30 * 60_000]);
  });

  it('store a messageId sent to both once, in the channel and in the datastore', async () => {
    const batch = Array.from({ length: 20 }, (_, i) => message(`m${i}`, { v: i }));
    await Promise.all([f.engine.batchPutMessage({ channelName: 'ch', messages: batch }), second.batchPutMessage({ channelName: 'ch', messages: batch.slice(5) })]);
    await second.batchPutMessage({ channelName: 'ch', messages: batch });
    // A third store object on the same folder or database: what is there, not what an engine remembers.
    const store = await createStore(f.settings.storage, f.dir, DEFAULT_RUNNER_OPTIONS);
    await store.open();
    try {
      expect(await store.channelStats('ch', true)).toMatchObject({ count: 20 });
      expect(await store.datastoreStats('ds', true)).toMatchObject({ count: 20 });
    } finally {
      await store.close();
    }
  });

  it('sweep retention once per period between them', async () => {
    await f.engine.createChannel({ channelName: 'short', retentionPeriod: { numberOfDays: 1 } });
    const sweeps: string[] = [];
    for (const [name, engine] of [['first', f.engine], ['second', second]] as const) {
      const store = engine.store;
      const expire = store.expireChannelMessages.bind(store);
      store.expireChannelMessages = async (channel, cutoff) => {
        if (channel === 'short') sweeps.push(name);
        return expire(channel, cutoff);
      };
    }
    const periods = 3;
    for (let i = 0; i < periods; i++) {
      await f.time.advance(f.settings.retentionSweepMs);
      await f.engine.idle();
      await second.idle();
    }
    // Both engines' timers fired every period; one of them swept each (without the claim: 6).
    expect(sweeps).toHaveLength(periods);
  });

  it('refuse to create a dataset that exists before checking its SQL, so a worker restarting with its resource file starts', async () => {
    const request = { datasetName: 'peak', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT max(v) AS v FROM ds' } }] };
    await f.engine.createDataset(request);
    // A first value of null: PostgreSQL's view types the attribute jsonb, where max() does not exist, so a
    // check now fails; the dataset exists all the same, and that is what a second worker must be told.
    await f.engine.batchPutMessage({ channelName: 'ch', messages: [message('n1', { v: null })] });
    await expect(second.createDataset(request)).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
  });

  it("refuse a reprocessing while another worker's lease is live, and allow one once a dead holder's lease expired", async () => {
    // A worker that died mid-run: its RUNNING record and its lease, as it left them in the database.
    const store = f.engine.store;
    await store.putReprocessing({ id: 'dead-run', pipelineName: 'pl', status: 'RUNNING', creationTime: f.time.now() });
    expect(await store.claimLease('reprocessing:pl', 'dead-worker', REPROCESS_LEASE_MS, f.time.now())).toBe(true);
    for (const engine of [f.engine, second]) {
      await expect(engine.startPipelineReprocessing({ pipelineName: 'pl' })).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException', message: expect.stringContaining('dead-run') });
    }
    await f.time.advance(REPROCESS_LEASE_MS + 1);
    const { reprocessingId } = await second.startPipelineReprocessing({ pipelineName: 'pl' });
    await second.idle();
    const runs = await store.listReprocessings('pl');
    expect(runs.find((r) => r.id === 'dead-run')?.status).toBe('FAILED');
    expect(runs.find((r) => r.id === reprocessingId)?.status).toBe('SUCCEEDED');
    // The finished run gave its lease back: the other engine may start the next one at once.
    await expect(f.engine.startPipelineReprocessing({ pipelineName: 'pl' })).resolves.toHaveProperty('reprocessingId');
    await f.engine.idle();
  });
});

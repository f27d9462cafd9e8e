import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseCsv } from '../../../cloud/query/csv.ts';
import { storesByBackend } from '../helpers/engine-stores.ts';
import { BACKENDS } from '../query/sql-backends.ts';
import { createFlow, FakeTime, message, startEngine, type EngineFixture } from './engine-fixture.ts';
import { contentText } from '../helpers/content-text.ts';

// deltaTime windows as AWS's user guide words them: with offsetSeconds -180 and a 15-minute schedule,
// the content made at 10:30 holds the data from 10:12 to 10:27, and data that arrives late falls into the
// next window instead of being lost.

const MINUTE = 60_000;
const at = (hhmmss: string) => Date.parse(`2024-01-01T${hhmmss}Z`);

let f: EngineFixture;
const stores = storesByBackend();
afterAll(() => stores.stop());

async function put(...stamps: string[]): Promise<void> {
  await f.engine.batchPutMessage({ channelName: 'ch', messages: stamps.map((s) => message(`m${s}`, { ts: at(s), label: s })) });
}

/** The labels in each content, oldest content first; a failed content shows as ['FAILED']. */
async function windows(datasetName: string): Promise<string[][]> {
  await f.engine.idle();
  const summaries = (await f.engine.listDatasetContents({ datasetName })).datasetContentSummaries!.toReversed();
  const out: string[][] = [];
  for (const summary of summaries) {
    if (summary.status!.state !== 'SUCCEEDED') {
      out.push([summary.status!.state!]);
      continue;
    }
    const file = await f.engine.openDatasetContent({ datasetName, versionId: summary.version!, entryName: `${datasetName}.csv` });
    out.push(parseCsv(await contentText(file)).slice(1).map((row) => row[0]!));
  }
  return out;
}

/** The scheduler re-reads a dataset's triggers in the background after a change: wait for it. */
async function scheduledAt(hhmmss: string): Promise<void> {
  await vi.waitFor(() => expect(f.engine.nextScheduledRun()).toBe(at(hhmmss)));
}

const deltaDataset = (datasetName: string, offsetSeconds: number, triggers: Array<{ schedule: { expression: string } }> = []) => ({
  datasetName,
  actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT label FROM ds ORDER BY ts', filters: [{ deltaTime: { offsetSeconds, timeExpression: 'from_unixtime(ts / 1000)' } }] } }],
  triggers,
  versioningConfiguration: { unlimited: true },
});

const fifteenMinutes = [{ schedule: { expression: 'cron(0/15 * * * ? *)' } }];

describe.each(BACKENDS)('deltaTime windows on %s', (backend) => {
  beforeEach(async () => {
    f = await startEngine({ queryTimeoutMs: 20_000 }, new FakeTime(at('10:00:00')), stores.store(backend));
    await createFlow(f.engine);
  });
  afterEach(async () => f.close());

  it('end at the scheduled time plus offsetSeconds, so late data falls into the next window', async () => {
    await f.engine.createDataset(deltaDataset('delta', -180, fifteenMinutes));
    await scheduledAt('10:15:00');
    await put('10:11:59');
    await f.time.advance(15 * MINUTE); // 10:15, first window: everything before 10:12
    await put('10:12:00', '10:26:59');
    await f.time.advance(14 * MINUTE);
    await put('10:27:00'); // arrives before the 10:30 run but belongs to the next window
    await f.time.advance(MINUTE); // 10:30: [10:12, 10:27)
    await f.time.advance(MINUTE);
    await put('10:28:00'); // late for the 10:30 run: not lost, it is in the 10:45 content
    await f.time.advance(14 * MINUTE); // 10:45: [10:27, 10:42)
    expect(await windows('delta')).toEqual([['10:11:59'], ['10:12:00', '10:26:59'], ['10:27:00', '10:28:00']]);
  });

  it('after missed schedules (engine down) and a failed run, starts where the last succeeded window ended', async () => {
    const { datasetName, ...settings } = deltaDataset('delta', -180, fifteenMinutes);
    await f.engine.createDataset({ datasetName, ...settings });
    await scheduledAt('10:15:00');
    await f.time.advance(15 * MINUTE); // 10:15: [0, 10:12)
    await put('10:12:30', '10:40:00');
    await f.engine.idle();
    await f.engine.stop();
    await f.time.advance(35 * MINUTE); // 10:30 and 10:45 pass while the engine is down
    await f.engine.start();
    await scheduledAt('11:00:00');
    await put('10:50:00', '10:57:00');
    const broken = [{ ...settings.actions[0]!, queryAction: { ...settings.actions[0]!.queryAction, sqlQuery: 'SELECT no_such_column FROM ds' } }];
    await f.engine.updateDataset({ datasetName, ...settings, actions: broken });
    await scheduledAt('11:00:00');
    await f.time.advance(10 * MINUTE); // 11:00 fails
    await f.engine.idle();
    await f.engine.updateDataset({ datasetName, ...settings });
    await scheduledAt('11:15:00');
    await f.time.advance(15 * MINUTE); // 11:15: [10:12, 11:12)
    // The 10:15 run came before any data: SQLite reads the unknown "label" and "ts" as strings and returns no
    // rows; PostgreSQL says "no such column" (a documented difference, README "Dataset SQL on PostgreSQL").
    const beforeData = backend === 'SQLite' ? [] : ['FAILED'];
    expect(await windows('delta')).toEqual([beforeData, ['FAILED'], ['10:12:30', '10:40:00', '10:50:00', '10:57:00']]);
  });

  it('a manual CreateDatasetContent ends its window at the moment it is asked plus the offset; a redo keeps its window', async () => {
    await f.engine.createDataset(deltaDataset('manual', -60));
    await put('10:00:30', '10:04:30');
    await f.time.advance(5 * MINUTE);
    const first = await f.engine.createDatasetContent({ datasetName: 'manual' }); // 10:05: [0, 10:04)
    await f.engine.idle();
    await f.time.advance(1000);
    await put('10:04:40');
    await f.engine.createDatasetContent({ datasetName: 'manual' }); // 10:05:01: [10:04:00, 10:04:01), nothing twice
    await f.engine.idle();
    await f.time.advance(5 * MINUTE);
    await put('10:08:00', '10:09:30');
    await f.engine.createDatasetContent({ datasetName: 'manual' }); // 10:10:01: [10:04:01, 10:09:01)
    await f.engine.idle();
    await f.time.advance(1000);
    await f.engine.createDatasetContent({ datasetName: 'manual', versionId: first.versionId! });
    expect(await windows('manual')).toEqual([[], ['10:04:30', '10:04:40', '10:08:00'], ['10:00:30']]);
    // The redo is now the newest by creation, but the next window starts after the furthest one (10:09:01).
    await f.time.advance(5 * MINUTE);
    await f.engine.createDatasetContent({ datasetName: 'manual' });
    expect((await windows('manual')).at(-1)).toEqual(['10:09:30']);
  });

  it('never ends a window after now, even with a positive offset', async () => {
    await f.engine.createDataset(deltaDataset('ahead', 600));
    await put('10:00:30', '10:03:00');
    await f.time.advance(2 * MINUTE);
    await f.engine.createDatasetContent({ datasetName: 'ahead' }); // 10:02: [0, 10:02), not [0, 10:12)
    await f.engine.idle();
    await f.time.advance(10 * MINUTE);
    await f.engine.createDatasetContent({ datasetName: 'ahead' }); // 10:12: [10:02, 10:12)
    expect(await windows('ahead')).toEqual([['10:00:30'], ['10:03:00']]);
  });
});

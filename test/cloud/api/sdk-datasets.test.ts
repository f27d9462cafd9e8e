import {
  BatchPutMessageCommand,
  CreateChannelCommand,
  CreateDatasetCommand,
  CreateDatasetContentCommand,
  CreateDatastoreCommand,
  CreatePipelineCommand,
  DeleteDatasetContentCommand,
  DescribeDatasetCommand,
  GetDatasetContentCommand,
  InvalidRequestException,
  ListDatasetContentsCommand,
  UpdateDatasetCommand,
  type DatasetAction,
  type IoTAnalyticsClient,
} from '@aws-sdk/client-iotanalytics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudExtension } from '../../../cloud/api/start-cloud.ts';
import { parseCsv } from '../../../cloud/query/csv.ts';
import { FakeTime } from '../engine/engine-fixture.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';

// Dataset content semantics through the real AWS SDK client: deltaTime windows, GetDatasetContent's
// default version, and CloudWatch cron schedules with L, W and #. The engine runs on a fake clock that
// starts at the real time and moves by minutes only, well inside SigV4's 15-minute skew.

const MINUTE = 60_000;
let time: FakeTime;
let cloud: CloudExtension;
let client: IoTAnalyticsClient;
let t: TestCloud;

beforeAll(async () => {
  time = new FakeTime(Math.floor(Date.now() / MINUTE) * MINUTE);
  t = await startTestCloud({ engine: { clock: time } });
  ({ cloud, client } = t);
  await client.send(new CreateChannelCommand({ channelName: 'ch' }));
  await client.send(new CreateDatastoreCommand({ datastoreName: 'ds' }));
  await client.send(
    new CreatePipelineCommand({
      pipelineName: 'pl',
      pipelineActivities: [{ channel: { name: 'in', channelName: 'ch', next: 'out' } }, { datastore: { name: 'out', datastoreName: 'ds' } }],
    }),
  );
});

afterAll(async () => {
  await t.stop();
});

async function put(...rows: { id: string; ts: number }[]): Promise<void> {
  const messages = rows.map((r) => ({ messageId: r.id, payload: Buffer.from(JSON.stringify({ id: r.id, ts: r.ts })) }));
  const result = await client.send(new BatchPutMessageCommand({ channelName: 'ch', messages }));
  expect(result.batchPutMessageErrorEntries).toEqual([]);
}

async function contentRows(datasetName: string, versionId?: string): Promise<string[]> {
  const content = await client.send(new GetDatasetContentCommand({ datasetName, ...(versionId ? { versionId } : {}) }));
  expect(content.status?.state, content.status?.reason).toBe('SUCCEEDED');
  const response = await fetch(content.entries![0]!.dataURI!);
  return parseCsv(await response.text()).slice(1).map((row) => row[0]!);
}

async function createContent(datasetName: string): Promise<string> {
  const { versionId } = await client.send(new CreateDatasetContentCommand({ datasetName }));
  await cloud.engine.idle();
  return versionId!;
}

describe('AWS SDK: dataset content', () => {
  it('deltaTime: a window ends at the run time plus offsetSeconds, and late data is in the next content', async () => {
    const actions: DatasetAction[] = [
      { actionName: 'q', queryAction: { sqlQuery: 'SELECT id FROM ds ORDER BY ts', filters: [{ deltaTime: { offsetSeconds: -60, timeExpression: 'from_unixtime(ts / 1000)' } }] } },
    ];
    await client.send(new CreateDatasetCommand({ datasetName: 'delta', actions, versioningConfiguration: { unlimited: true } }));
    const t1 = time.now();
    await put({ id: 'old', ts: t1 - 90_000 }, { id: 'in_flight', ts: t1 - 30_000 });
    const first = await createContent('delta');
    await put({ id: 'late', ts: t1 - 10_000 }); // arrives after the first run, stamped before it
    await time.advance(2 * MINUTE);
    await put({ id: 'new', ts: time.now() - 61_000 }, { id: 'next', ts: time.now() - 59_000 });
    const second = await createContent('delta');
    expect(await contentRows('delta', first)).toEqual(['old']);
    expect(await contentRows('delta', second)).toEqual(['in_flight', 'late', 'new']);
  });

  it('GetDatasetContent without versionId is $LATEST_SUCCEEDED, even when the newest run FAILED', async () => {
    const good: DatasetAction[] = [{ actionName: 'q', queryAction: { sqlQuery: "SELECT count(*) AS n FROM ds WHERE id = 'old'" } }];
    await client.send(new CreateDatasetCommand({ datasetName: 'counts', actions: good, versioningConfiguration: { unlimited: true } }));
    const succeeded = await createContent('counts');
    await time.advance(MINUTE);
    await client.send(new UpdateDatasetCommand({ datasetName: 'counts', actions: [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT no_such_column FROM ds' } }] }));
    const failed = await createContent('counts');
    const listed = (await client.send(new ListDatasetContentsCommand({ datasetName: 'counts' }))).datasetContentSummaries!;
    expect(listed.map((c) => [c.version, c.status?.state])).toEqual([
      [failed, 'FAILED'],
      [succeeded, 'SUCCEEDED'],
    ]);

    const byDefault = await client.send(new GetDatasetContentCommand({ datasetName: 'counts' }));
    expect(byDefault.status?.state).toBe('SUCCEEDED');
    expect(byDefault.entries![0]!.dataURI).toContain(`/${succeeded}/`);
    expect(await contentRows('counts')).toEqual(['1']);
    const latest = await client.send(new GetDatasetContentCommand({ datasetName: 'counts', versionId: '$LATEST' }));
    expect(latest.status?.state).toBe('FAILED');
    expect(latest.entries).toEqual([]);

    // DeleteDatasetContent's default is $LATEST_SUCCEEDED too: the failed run stays.
    await client.send(new DeleteDatasetContentCommand({ datasetName: 'counts' }));
    const left = (await client.send(new ListDatasetContentsCommand({ datasetName: 'counts' }))).datasetContentSummaries!;
    expect(left.map((c) => c.version)).toEqual([failed]);
  });

  it('accepts CloudWatch cron schedules with L, W and #, and explains a bad one', async () => {
    const actions: DatasetAction[] = [{ actionName: 'q', queryAction: { sqlQuery: 'SELECT count(*) AS n FROM ds' } }];
    const expressions = ['cron(0 0 L * ? *)', 'cron(0 9 ? * 2#1 *)', 'cron(0 9 1W * ? *)', 'cron(0 18 ? * 6L *)', 'cron(0 0 L-2 * ? *)'];
    await client.send(new CreateDatasetCommand({ datasetName: 'monthly', actions, triggers: expressions.map((expression) => ({ schedule: { expression } })) }));
    const described = await client.send(new DescribeDatasetCommand({ datasetName: 'monthly' }));
    expect(described.dataset?.triggers?.map((t) => t.schedule?.expression)).toEqual(expressions);

    const refused = client.send(new CreateDatasetCommand({ datasetName: 'bad', actions, triggers: [{ schedule: { expression: 'cron(0 9 ? * 2#6 *)' } }] }));
    await expect(refused).rejects.toThrow(InvalidRequestException);
    await expect(refused).rejects.toThrow(/2#6.*1-5/);
  });
});

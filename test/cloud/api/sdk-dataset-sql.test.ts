import {
  BatchPutMessageCommand,
  CreateChannelCommand,
  CreateDatasetCommand,
  CreateDatasetContentCommand,
  CreateDatastoreCommand,
  CreatePipelineCommand,
  GetDatasetContentCommand,
  InvalidRequestException,
} from '@aws-sdk/client-iotanalytics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';

// Issue 9 through the real AWS SDK client: dataset SQL the allowlist refuses, and the result cap.

let t: TestCloud;
beforeAll(async () => {
  t = await startTestCloud({ cloud: { queryResultMaxRows: 5 } });
  await t.client.send(new CreateChannelCommand({ channelName: 'readings' }));
  await t.client.send(new CreateDatastoreCommand({ datastoreName: 'readings_store' }));
  await t.client.send(
    new CreatePipelineCommand({
      pipelineName: 'readings_pipeline',
      pipelineActivities: [
        { channel: { name: 'in', channelName: 'readings', next: 'out' } },
        { datastore: { name: 'out', datastoreName: 'readings_store' } },
      ],
    }),
  );
  const messages = Array.from({ length: 8 }, (_, i) => ({ messageId: `m${i}`, payload: Buffer.from(JSON.stringify({ n: i, temp: 10 + i })) }));
  await t.client.send(new BatchPutMessageCommand({ channelName: 'readings', messages }));
  await t.cloud.engine.idle();
});
afterAll(async () => {
  await t.stop();
});

const dataset = (datasetName: string, sqlQuery: string) =>
  new CreateDatasetCommand({ datasetName, actions: [{ actionName: 'query', queryAction: { sqlQuery } }] });

describe('dataset SQL through the AWS SDK', () => {
  it('refuses a double-quoted function name that is not on the allowlist, as it refuses the plain one', async () => {
    for (const sql of [`SELECT "randomblob"(8), "printf"('%s', 'x') FROM readings_store`, `SELECT "load_extension"('/tmp/x') FROM readings_store`]) {
      const error = await t.client.send(dataset('quoted', sql)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidRequestException);
      expect((error as InvalidRequestException).message).toMatch(/function (randomblob|load_extension)\(\) is not supported/);
      expect((error as InvalidRequestException).$metadata.httpStatusCode).toBe(400);
    }
  });

  it('fails content past the row cap with a reason naming the setting, and keeps to the cap', async () => {
    await t.client.send(dataset('all_rows', 'SELECT n, temp FROM readings_store ORDER BY n'));
    await t.client.send(dataset('few_rows', 'SELECT n, approx_percentile(temp, 0.5) AS median FROM readings_store WHERE n IS NOT DISTINCT FROM 3 GROUP BY n'));
    const tooMany = await t.client.send(new CreateDatasetContentCommand({ datasetName: 'all_rows' }));
    const fine = await t.client.send(new CreateDatasetContentCommand({ datasetName: 'few_rows' }));
    await t.cloud.engine.idle();
    const failed = await t.client.send(new GetDatasetContentCommand({ datasetName: 'all_rows', versionId: tooMany.versionId }));
    expect(failed.status?.state).toBe('FAILED');
    expect(failed.status?.reason).toMatch(/more than 5 rows, the cap.*raise cloud\.queryResultMaxRows/);
    const ok = await t.client.send(new GetDatasetContentCommand({ datasetName: 'few_rows', versionId: fine.versionId }));
    expect(ok.status?.state).toBe('SUCCEEDED');
    const csv = await (await fetch(ok.entries![0]!.dataURI!)).text();
    expect(csv).toBe('n,median\r\n3,13\r\n');
  });
});

import {
  BatchPutMessageCommand,
  CreateDatasetCommand,
  CreateDatasetContentCommand,
  GetDatasetContentCommand,
  InvalidRequestException,
} from '@aws-sdk/client-iotanalytics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Postgres } from '../helpers/postgres.ts';
import { freshPostgresStore } from '../helpers/engine-stores.ts';
import { BACKENDS } from '../query/sql-backends.ts';
import { startTestCloud, type TestCloud } from './cloud-fixture.ts';
import { createReadingsFlow } from './readings-flow.ts';

// Issue 9 through the real AWS SDK client: dataset SQL the allowlist refuses, and the result cap; on both
// backends (issue 12), with one expected CSV.

// One PostgreSQL server for the file; each backend's cloud gets its own store.
let server: Postgres | undefined;
afterAll(async () => server?.stop());

async function cloudOn(backend: (typeof BACKENDS)[number]): Promise<TestCloud> {
  const cloud = { queryResultMaxRows: 5 };
  if (backend === 'SQLite') return startTestCloud({ cloud });
  server ??= await Postgres.start();
  const store = await freshPostgresStore(server, { maxRows: 5, maxBytes: 256 * 1024 * 1024 }, 'sdk');
  const t = await startTestCloud({ cloud, engine: { store } });
  return t;
}

async function fill(t: TestCloud): Promise<void> {
  await createReadingsFlow(t.client);
  const messages = Array.from({ length: 8 }, (_, i) => ({ messageId: `m${i}`, payload: Buffer.from(JSON.stringify({ n: i, temp: 10 + i })) }));
  await t.client.send(new BatchPutMessageCommand({ channelName: 'readings', messages }));
  await t.cloud.engine.idle();
}

const dataset = (datasetName: string, sqlQuery: string) =>
  new CreateDatasetCommand({ datasetName, actions: [{ actionName: 'query', queryAction: { sqlQuery } }] });

describe.each(BACKENDS)('dataset SQL through the AWS SDK on %s', (backend) => {
  let t: TestCloud;
  beforeAll(async () => {
    t = await cloudOn(backend);
    await fill(t);
  });
  afterAll(async () => t?.stop());

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

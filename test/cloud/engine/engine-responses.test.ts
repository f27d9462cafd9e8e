import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { operationShapes } from '../../../cloud/model/operations.ts';
import { createFlow, message, startEngine, type EngineFixture } from './engine-fixture.ts';

/**
 * What the engine really returns, operation by operation, parsed with the model's output schemas
 * (strict objects: an extra member fails too). The model test compares those schemas with
 * service-2.json; this keeps the engine inside them.
 */

type Op = keyof typeof operationShapes;

function conforms(op: Op, response: unknown): void {
  const schema: z.ZodType | undefined = operationShapes[op].output;
  if (schema === undefined) {
    expect(response, `${op} has no output shape`).toBeUndefined();
    return;
  }
  // The engine resolves to void where the model's output is an empty structure; the REST layer answers {}.
  const result = schema.safeParse(response ?? {});
  expect(result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`), op).toEqual([]);
}

describe('engine responses fit the API model', () => {
  let f: EngineFixture;
  beforeEach(async () => {
    f = await startEngine();
  });
  afterEach(async () => f.close());

  it('for every IoT Analytics operation along a whole flow', async () => {
    const seen = new Set<Op>();
    const call = async <T>(op: Op, run: () => Promise<T>): Promise<T> => {
      const response = await run();
      conforms(op, response);
      seen.add(op);
      return response;
    };
    const e = f.engine;
    await call('CreateChannel', () => e.createChannel({ channelName: 'other', retentionPeriod: { numberOfDays: 3 }, tags: [{ key: 'site', value: 'farm' }] }));
    await createFlow(e, [{ math: { attribute: 'f', math: 't * 2' } }]);
    await call('CreateDatastore', () => e.createDatastore({ datastoreName: 'parts', datastorePartitions: { partitions: [{ attributePartition: { attributeName: 'device_id' } }] } }));
    await call('CreatePipeline', () =>
      e.createPipeline({
        pipelineName: 'p2',
        pipelineActivities: [{ channel: { name: 'c', channelName: 'other', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'parts' } }],
      }),
    );
    await call('BatchPutMessage', () => e.batchPutMessage({ channelName: 'ch', messages: [message('m1', { t: 1 }), message('m2', { 'bad-name': 1 })] }));
    await call('SampleChannelData', () => e.sampleChannelData({ channelName: 'ch' }));
    await call('SampleChannelData', () => e.sampleChannelData({ channelName: 'other' }));
    await call('DescribeChannel', () => e.describeChannel({ channelName: 'ch', includeStatistics: true }));
    await call('ListChannels', () => e.listChannels({ maxResults: 1 }));
    await call('UpdateChannel', () => e.updateChannel({ channelName: 'ch', retentionPeriod: { unlimited: true } }));
    await call('DescribeDatastore', () => e.describeDatastore({ datastoreName: 'ds', includeStatistics: true }));
    await call('ListDatastores', () => e.listDatastores({}));
    await call('UpdateDatastore', () => e.updateDatastore({ datastoreName: 'ds', retentionPeriod: { numberOfDays: 30 } }));
    await call('DescribePipeline', () => e.describePipeline({ pipelineName: 'pl' }));
    await call('ListPipelines', () => e.listPipelines({}));
    await call('RunPipelineActivity', () => e.runPipelineActivity({ pipelineActivity: { filter: { name: 'f', filter: 't > 5' } }, payloads: [Buffer.from('{"t":1}')] }));
    await call('RunPipelineActivity', () => e.runPipelineActivity({ pipelineActivity: { math: { name: 'm', attribute: 'f', math: 't + 1' } }, payloads: [Buffer.from('{"t":1}')] }));
    const { reprocessingId } = await call('StartPipelineReprocessing', () => e.startPipelineReprocessing({ pipelineName: 'pl' }));
    await call('CancelPipelineReprocessing', () => e.cancelPipelineReprocessing({ pipelineName: 'pl', reprocessingId: reprocessingId! }));
    await e.idle();
    await call('UpdatePipeline', () =>
      e.updatePipeline({ pipelineName: 'p2', pipelineActivities: [{ channel: { name: 'c', channelName: 'ch', next: 'd' } }, { datastore: { name: 'd', datastoreName: 'parts' } }] }),
    );
    const dataset = {
      datasetName: 'daily',
      actions: [{ queryAction: { sqlQuery: 'SELECT * FROM ds' } }],
      triggers: [{ schedule: { expression: 'cron(0 12 * * ? *)' } }],
      versioningConfiguration: { maxVersions: 3 },
    };
    await call('CreateDataset', () => e.createDataset(dataset));
    await call('DescribeDataset', () => e.describeDataset({ datasetName: 'daily' }));
    await call('ListDatasets', () => e.listDatasets({}));
    await call('UpdateDataset', () => e.updateDataset({ ...dataset, retentionPeriod: { numberOfDays: 7 } }));
    await call('CreateDatasetContent', () => e.createDatasetContent({ datasetName: 'daily' }));
    await e.idle();
    await call('GetDatasetContent', () => e.getDatasetContent({ datasetName: 'daily', versionId: '$LATEST' }));
    await call('ListDatasetContents', () => e.listDatasetContents({ datasetName: 'daily' }));
    await call('DeleteDatasetContent', () => e.deleteDatasetContent({ datasetName: 'daily', versionId: '$LATEST' }));
    const arn = (await e.describeChannel({ channelName: 'other' })).channel!.arn!;
    await call('ListTagsForResource', () => e.listTagsForResource({ resourceArn: arn }));
    await call('TagResource', () => e.tagResource({ resourceArn: arn, tags: [{ key: 'k', value: 'v' }] }));
    await call('UntagResource', () => e.untagResource({ resourceArn: arn, tagKeys: ['k', 'site'] }));
    await call('ListTagsForResource', () => e.listTagsForResource({ resourceArn: arn }));
    await call('DescribeLoggingOptions', () => e.describeLoggingOptions());
    await call('PutLoggingOptions', () => e.putLoggingOptions({ loggingOptions: { roleArn: 'arn:aws:iam::000000000000:role/log', level: 'ERROR', enabled: true } }));
    await call('DescribeLoggingOptions', () => e.describeLoggingOptions());
    await call('DeleteDataset', () => e.deleteDataset({ datasetName: 'daily' }));
    await call('DeletePipeline', () => e.deletePipeline({ pipelineName: 'p2' }));
    await call('DeleteDatastore', () => e.deleteDatastore({ datastoreName: 'parts' }));
    await call('DeleteChannel', () => e.deleteChannel({ channelName: 'other' }));
    expect([...seen].sort()).toEqual(Object.keys(operationShapes).sort());
  });
});

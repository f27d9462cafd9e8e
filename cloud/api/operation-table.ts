import { accountOperations } from './routes-account.ts';
import { channelOperations } from './routes-channels.ts';
import { datasetOperations } from './routes-datasets.ts';
import { datastoreOperations } from './routes-datastores.ts';
import type { Operation } from './operations.ts';
import { pipelineOperations } from './routes-pipelines.ts';
import { ruleOperations } from './routes-rules.ts';
import { thingOperations } from './routes-things.ts';

/** Every operation of IoT Analytics 2017-11-27 (service-2.json), so a test can check none is missing from the table. */
export const IOT_ANALYTICS_OPERATIONS = [
  'BatchPutMessage',
  'CancelPipelineReprocessing',
  'CreateChannel',
  'CreateDataset',
  'CreateDatasetContent',
  'CreateDatastore',
  'CreatePipeline',
  'DeleteChannel',
  'DeleteDataset',
  'DeleteDatasetContent',
  'DeleteDatastore',
  'DeletePipeline',
  'DescribeChannel',
  'DescribeDataset',
  'DescribeDatastore',
  'DescribeLoggingOptions',
  'DescribePipeline',
  'GetDatasetContent',
  'ListChannels',
  'ListDatasetContents',
  'ListDatasets',
  'ListDatastores',
  'ListPipelines',
  'ListTagsForResource',
  'PutLoggingOptions',
  'RunPipelineActivity',
  'SampleChannelData',
  'StartPipelineReprocessing',
  'TagResource',
  'UntagResource',
  'UpdateChannel',
  'UpdateDataset',
  'UpdateDatastore',
  'UpdatePipeline',
] as const;

/** IoT Core's topic-rule and thing-registry operations served beside them (ours: rules feed the channels, things enrich messages). */
export const IOT_CORE_OPERATIONS = [
  'CreateTopicRule',
  'GetTopicRule',
  'ReplaceTopicRule',
  'DeleteTopicRule',
  'ListTopicRules',
  'CreateThing',
  'DescribeThing',
  'UpdateThing',
] as const;

/** The operation table: the only way an API call reaches the engine. */
export const operationTable: readonly Operation[] = [
  ...channelOperations,
  ...pipelineOperations,
  ...datastoreOperations,
  ...datasetOperations,
  ...accountOperations,
  ...ruleOperations,
  ...thingOperations,
];

import type { z } from 'zod';
import * as account from './account.ts';
import * as channels from './channels.ts';
import * as datasets from './datasets.ts';
import * as datastores from './datastores.ts';
import * as pipelines from './pipelines.ts';

/**
 * Every IoT Analytics operation's request schema (path, query and body members together, engine form)
 * and the schema of what the engine may return. `output` is undefined where service-2.json has no output
 * shape (the engine resolves to void).
 */
export interface OperationShapes {
  input: z.ZodType;
  output: z.ZodType | undefined;
}

export const operationShapes = {
  BatchPutMessage: { input: channels.batchPutMessageRequest, output: channels.batchPutMessageResponse },
  CancelPipelineReprocessing: { input: pipelines.cancelPipelineReprocessingRequest, output: pipelines.cancelPipelineReprocessingResponse },
  CreateChannel: { input: channels.createChannelRequest, output: channels.createChannelResponse },
  CreateDataset: { input: datasets.createDatasetRequest, output: datasets.createDatasetResponse },
  CreateDatasetContent: { input: datasets.createDatasetContentRequest, output: datasets.createDatasetContentResponse },
  CreateDatastore: { input: datastores.createDatastoreRequest, output: datastores.createDatastoreResponse },
  CreatePipeline: { input: pipelines.createPipelineRequest, output: pipelines.createPipelineResponse },
  DeleteChannel: { input: channels.deleteChannelRequest, output: undefined },
  DeleteDataset: { input: datasets.deleteDatasetRequest, output: undefined },
  DeleteDatasetContent: { input: datasets.deleteDatasetContentRequest, output: undefined },
  DeleteDatastore: { input: datastores.deleteDatastoreRequest, output: undefined },
  DeletePipeline: { input: pipelines.deletePipelineRequest, output: undefined },
  DescribeChannel: { input: channels.describeChannelRequest, output: channels.describeChannelResponse },
  DescribeDataset: { input: datasets.describeDatasetRequest, output: datasets.describeDatasetResponse },
  DescribeDatastore: { input: datastores.describeDatastoreRequest, output: datastores.describeDatastoreResponse },
  DescribeLoggingOptions: { input: account.describeLoggingOptionsRequest, output: account.describeLoggingOptionsResponse },
  DescribePipeline: { input: pipelines.describePipelineRequest, output: pipelines.describePipelineResponse },
  GetDatasetContent: { input: datasets.getDatasetContentRequest, output: datasets.getDatasetContentResponse },
  ListChannels: { input: channels.listChannelsRequest, output: channels.listChannelsResponse },
  ListDatasetContents: { input: datasets.listDatasetContentsRequest, output: datasets.listDatasetContentsResponse },
  ListDatasets: { input: datasets.listDatasetsRequest, output: datasets.listDatasetsResponse },
  ListDatastores: { input: datastores.listDatastoresRequest, output: datastores.listDatastoresResponse },
  ListPipelines: { input: pipelines.listPipelinesRequest, output: pipelines.listPipelinesResponse },
  ListTagsForResource: { input: account.listTagsForResourceRequest, output: account.listTagsForResourceResponse },
  PutLoggingOptions: { input: account.putLoggingOptionsRequest, output: undefined },
  RunPipelineActivity: { input: pipelines.runPipelineActivityRequest, output: pipelines.runPipelineActivityResponse },
  SampleChannelData: { input: channels.sampleChannelDataRequest, output: channels.sampleChannelDataResponse },
  StartPipelineReprocessing: { input: pipelines.startPipelineReprocessingRequest, output: pipelines.startPipelineReprocessingResponse },
  TagResource: { input: account.tagResourceRequest, output: account.emptyResponse },
  UntagResource: { input: account.untagResourceRequest, output: account.emptyResponse },
  UpdateChannel: { input: channels.updateChannelRequest, output: undefined },
  UpdateDataset: { input: datasets.updateDatasetRequest, output: undefined },
  UpdateDatastore: { input: datastores.updateDatastoreRequest, output: undefined },
  UpdatePipeline: { input: pipelines.updatePipelineRequest, output: undefined },
} as const satisfies Record<string, OperationShapes>;

import type { z } from 'zod';
import type * as account from '../model/account.ts';
import type * as channels from '../model/channels.ts';
import type * as common from '../model/common.ts';
import type * as datasets from '../model/datasets.ts';
import type * as datastores from '../model/datastores.ts';
import type * as pipelines from '../model/pipelines.ts';
import type * as rules from '../model/topic-rules.ts';
import type * as things from '../model/things.ts';
import type { EngineMetrics } from './engine-metrics.ts';

/**
 * The engine's public surface: one method per IoT Analytics 2017-11-27 operation. The request and
 * response types are derived from the zod schemas in ../model/ (z.output: the engine form), which
 * test/cloud/model/model-shapes.test.ts compares with botocore's `iotanalytics/2017-11-27/service-2.json`.
 * The REST layer only decodes the wire format and calls these methods.
 *
 * Conventions the REST layer relies on:
 * - Timestamps are JS `Date` objects in both directions (the wire carries epoch seconds; convert at the
 *   edge). Message payloads are bytes (`Uint8Array`, usually a Buffer): base64 on the wire.
 * - Path parameters are merged into the request object (`{ channelName, ...body }`).
 * - The engine validates every input itself, with the same schemas the REST layer decodes with, then
 *   checks meaning (activity graphs, expressions, SQL); it
 *   throws the typed errors of ./errors.ts; any other throw is a bug and maps to InternalFailureException.
 * - Operations returning no body (Update*, Delete*, Tag*, PutLoggingOptions) resolve to `void`.
 * - Listing: `maxResults` 1..250 (default 100), `nextToken` opaque, absent on the last page.
 *
 * Ours beyond IoT Analytics (marked "ours"): serving dataset content files, the IoT Core topic rules
 * that feed channels, and the device registry / shadows that the enrich activities read.
 */


// ---------- shared shapes ----------

export type Tag = z.output<typeof common.tag>;
/** Exactly one of the two. */
export type RetentionPeriod = z.output<typeof common.retentionPeriod>;
export type ResourceStatus = z.output<typeof common.resourceStatus>;
export type EstimatedResourceSize = z.output<typeof common.estimatedResourceSize>;
export type ListRequest = z.output<typeof common.listRequest>;

// ---------- channels ----------

export type ChannelStorage = z.output<typeof channels.channelStorage>;
export type CreateChannelRequest = z.output<typeof channels.createChannelRequest>;
export type CreateChannelResponse = z.output<typeof channels.createChannelResponse>;
export type DescribeChannelRequest = z.output<typeof channels.describeChannelRequest>;
export type Channel = z.output<typeof channels.channel>;
export type DescribeChannelResponse = z.output<typeof channels.describeChannelResponse>;
export type UpdateChannelRequest = z.output<typeof channels.updateChannelRequest>;
export type DeleteChannelRequest = z.output<typeof channels.deleteChannelRequest>;
export type ChannelSummary = z.output<typeof channels.channelSummary>;
export type ListChannelsResponse = z.output<typeof channels.listChannelsResponse>;
export type Message = z.output<typeof channels.message>;
export type BatchPutMessageRequest = z.output<typeof channels.batchPutMessageRequest>;
export type BatchPutMessageErrorEntry = z.output<typeof channels.batchPutMessageErrorEntry>;
export type BatchPutMessageResponse = z.output<typeof channels.batchPutMessageResponse>;
export type SampleChannelDataRequest = z.output<typeof channels.sampleChannelDataRequest>;
export type SampleChannelDataResponse = z.output<typeof channels.sampleChannelDataResponse>;

// ---------- pipelines ----------

/** Exactly one member is set. */
export type PipelineActivity = z.output<typeof pipelines.pipelineActivity>;
export type CreatePipelineRequest = z.output<typeof pipelines.createPipelineRequest>;
export type CreatePipelineResponse = z.output<typeof pipelines.createPipelineResponse>;
export type ReprocessingSummary = z.output<typeof pipelines.reprocessingSummary>;
export type ReprocessingStatus = NonNullable<ReprocessingSummary['status']>;
export type DescribePipelineRequest = z.output<typeof pipelines.describePipelineRequest>;
export type Pipeline = z.output<typeof pipelines.pipeline>;
export type DescribePipelineResponse = z.output<typeof pipelines.describePipelineResponse>;
export type UpdatePipelineRequest = z.output<typeof pipelines.updatePipelineRequest>;
export type DeletePipelineRequest = z.output<typeof pipelines.deletePipelineRequest>;
export type PipelineSummary = z.output<typeof pipelines.pipelineSummary>;
export type ListPipelinesResponse = z.output<typeof pipelines.listPipelinesResponse>;
export type RunPipelineActivityRequest = z.output<typeof pipelines.runPipelineActivityRequest>;
export type RunPipelineActivityResponse = z.output<typeof pipelines.runPipelineActivityResponse>;
/** startTime inclusive, endTime exclusive, by channel arrival time. */
export type StartPipelineReprocessingRequest = z.output<typeof pipelines.startPipelineReprocessingRequest>;
export type StartPipelineReprocessingResponse = z.output<typeof pipelines.startPipelineReprocessingResponse>;
export type CancelPipelineReprocessingRequest = z.output<typeof pipelines.cancelPipelineReprocessingRequest>;

// ---------- datastores ----------

export type DatastoreStorage = z.output<typeof datastores.datastoreStorage>;
export type FileFormatConfiguration = z.output<typeof datastores.fileFormatConfiguration>;
export type DatastorePartition = z.output<typeof datastores.datastorePartition>;
export type DatastorePartitions = z.output<typeof datastores.datastorePartitions>;
export type CreateDatastoreRequest = z.output<typeof datastores.createDatastoreRequest>;
export type CreateDatastoreResponse = z.output<typeof datastores.createDatastoreResponse>;
export type DescribeDatastoreRequest = z.output<typeof datastores.describeDatastoreRequest>;
export type Datastore = z.output<typeof datastores.datastore>;
export type DescribeDatastoreResponse = z.output<typeof datastores.describeDatastoreResponse>;
export type UpdateDatastoreRequest = z.output<typeof datastores.updateDatastoreRequest>;
export type DeleteDatastoreRequest = z.output<typeof datastores.deleteDatastoreRequest>;
export type DatastoreSummary = z.output<typeof datastores.datastoreSummary>;
export type ListDatastoresResponse = z.output<typeof datastores.listDatastoresResponse>;

// ---------- datasets ----------

export type DeltaTime = z.output<typeof datasets.deltaTime>;
export type SqlQueryDatasetAction = z.output<typeof datasets.sqlQueryDatasetAction>;
export type DatasetAction = z.output<typeof datasets.datasetAction>;
/** `cron(min hour day-of-month month day-of-week year)` or `rate(N unit)`, or another dataset. */
export type DatasetTrigger = z.output<typeof datasets.datasetTrigger>;
export type VersioningConfiguration = z.output<typeof datasets.versioningConfiguration>;
/** Accepted and kept, but nothing is delivered to S3 or IoT Events here. */
export type DatasetContentDeliveryRule = z.output<typeof datasets.datasetContentDeliveryRule>;
/** Accepted and kept; no late-data notifications are sent here. */
export type LateDataRule = z.output<typeof datasets.lateDataRule>;
export type CreateDatasetRequest = z.output<typeof datasets.createDatasetRequest>;
export type CreateDatasetResponse = z.output<typeof datasets.createDatasetResponse>;
export type DescribeDatasetRequest = z.output<typeof datasets.describeDatasetRequest>;
export type Dataset = z.output<typeof datasets.dataset>;
export type DescribeDatasetResponse = z.output<typeof datasets.describeDatasetResponse>;
export type UpdateDatasetRequest = z.output<typeof datasets.updateDatasetRequest>;
export type DeleteDatasetRequest = z.output<typeof datasets.deleteDatasetRequest>;
export type DatasetSummary = z.output<typeof datasets.datasetSummary>;
export type ListDatasetsResponse = z.output<typeof datasets.listDatasetsResponse>;
export type DatasetContentStatus = z.output<typeof datasets.datasetContentStatus>;
export type DatasetContentState = NonNullable<DatasetContentStatus['state']>;
/** versionId: re-create this version (datasets with a deltaTime filter only). */
export type CreateDatasetContentRequest = z.output<typeof datasets.createDatasetContentRequest>;
export type CreateDatasetContentResponse = z.output<typeof datasets.createDatasetContentResponse>;
/** versionId: a version id, `$LATEST` or `$LATEST_SUCCEEDED` (the default, as AWS). */
export type GetDatasetContentRequest = z.output<typeof datasets.getDatasetContentRequest>;
/** dataURI is built by the `contentUrl` function given to the engine (the REST layer signs it). */
export type DatasetEntry = z.output<typeof datasets.datasetEntry>;
export type GetDatasetContentResponse = z.output<typeof datasets.getDatasetContentResponse>;
/** versionId: a version id or `$LATEST` / `$LATEST_SUCCEEDED` (default `$LATEST_SUCCEEDED`, as AWS). */
export type DeleteDatasetContentRequest = z.output<typeof datasets.deleteDatasetContentRequest>;
export type ListDatasetContentsRequest = z.output<typeof datasets.listDatasetContentsRequest>;
export type DatasetContentSummary = z.output<typeof datasets.datasetContentSummary>;
export type ListDatasetContentsResponse = z.output<typeof datasets.listDatasetContentsResponse>;

// ---------- ours: dataset content files ----------

/** Ours: names one content file, for signing and serving its URL. */
export interface ContentRef {
  datasetName: string;
  versionId: string;
  entryName: string;
}
/** Ours: a finished content file, for the REST layer to stream. */
export interface DatasetContentFile {
  path: string;
  sizeBytes: number;
  contentType: string;
  fileName: string;
}
/** Ours: turns a content reference into the URL put in `dataURI` (the REST layer signs it, with an expiry). */
export type ContentUrlBuilder = (ref: ContentRef) => string;

// ---------- tags and logging ----------

export type TagResourceRequest = z.output<typeof account.tagResourceRequest>;
export type UntagResourceRequest = z.output<typeof account.untagResourceRequest>;
export type ListTagsForResourceRequest = z.output<typeof account.listTagsForResourceRequest>;
export type ListTagsForResourceResponse = z.output<typeof account.listTagsForResourceResponse>;
export type LoggingOptions = z.output<typeof account.loggingOptions>;
export type DescribeLoggingOptionsResponse = z.output<typeof account.describeLoggingOptionsResponse>;
export type PutLoggingOptionsRequest = z.output<typeof account.putLoggingOptionsRequest>;

// ---------- ours: IoT Core topic rules, registry, shadows ----------

/** IoT Core's `iotAnalytics` rule action. */
export type IotAnalyticsAction = z.output<typeof rules.iotAnalyticsAction>;
/** IoT Core's TopicRulePayload, with only the iotAnalytics action. */
export type TopicRulePayload = z.output<typeof rules.topicRulePayload>;
export type CreateTopicRuleRequest = z.output<typeof rules.createTopicRuleRequest>;
export type ReplaceTopicRuleRequest = z.output<typeof rules.replaceTopicRuleRequest>;
export type TopicRule = z.output<typeof rules.topicRule>;
export type GetTopicRuleResponse = z.output<typeof rules.getTopicRuleResponse>;
export type TopicRuleListItem = z.output<typeof rules.topicRuleListItem>;
export type ListTopicRulesResponse = z.output<typeof rules.listTopicRulesResponse>;
export type TopicRuleByName = z.output<typeof rules.topicRuleByName>;
/** Counters of the MQTT ingestion since start (rejected payloads are counted and logged, never crash). */
export interface IngestStats {
  received: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  /** Ours: envelopes refused because their deviceId is not the topic's thing (a station writing as another); also counted in rejected. */
  impersonations?: number;
  /** Ours: rejected, split by reason (cloud/engine/engine-metrics.ts REFUSAL_REASONS). */
  rejectedBy?: Record<string, number>;
  lastRejection?: { topic: string; reason: string; at: Date };
}

/** IoT Core's registry entry, as deviceRegistryEnrich writes it into a message. */
export type Thing = z.output<typeof things.thing>;
/** The shadow document deviceShadowEnrich writes into a message (state.reported from status messages). */
export type ThingShadow = z.output<typeof things.thingShadow>;
export type ThingByName = z.output<typeof things.thingByName>;

// ---------- the engine ----------

export interface Engine {
  createChannel(input: CreateChannelRequest): Promise<CreateChannelResponse>;
  describeChannel(input: DescribeChannelRequest): Promise<DescribeChannelResponse>;
  updateChannel(input: UpdateChannelRequest): Promise<void>;
  deleteChannel(input: DeleteChannelRequest): Promise<void>;
  listChannels(input: ListRequest): Promise<ListChannelsResponse>;
  batchPutMessage(input: BatchPutMessageRequest): Promise<BatchPutMessageResponse>;
  sampleChannelData(input: SampleChannelDataRequest): Promise<SampleChannelDataResponse>;

  createPipeline(input: CreatePipelineRequest): Promise<CreatePipelineResponse>;
  describePipeline(input: DescribePipelineRequest): Promise<DescribePipelineResponse>;
  updatePipeline(input: UpdatePipelineRequest): Promise<void>;
  deletePipeline(input: DeletePipelineRequest): Promise<void>;
  listPipelines(input: ListRequest): Promise<ListPipelinesResponse>;
  runPipelineActivity(input: RunPipelineActivityRequest): Promise<RunPipelineActivityResponse>;
  startPipelineReprocessing(input: StartPipelineReprocessingRequest): Promise<StartPipelineReprocessingResponse>;
  cancelPipelineReprocessing(input: CancelPipelineReprocessingRequest): Promise<void>;

  createDatastore(input: CreateDatastoreRequest): Promise<CreateDatastoreResponse>;
  describeDatastore(input: DescribeDatastoreRequest): Promise<DescribeDatastoreResponse>;
  updateDatastore(input: UpdateDatastoreRequest): Promise<void>;
  deleteDatastore(input: DeleteDatastoreRequest): Promise<void>;
  listDatastores(input: ListRequest): Promise<ListDatastoresResponse>;

  createDataset(input: CreateDatasetRequest): Promise<CreateDatasetResponse>;
  describeDataset(input: DescribeDatasetRequest): Promise<DescribeDatasetResponse>;
  updateDataset(input: UpdateDatasetRequest): Promise<void>;
  deleteDataset(input: DeleteDatasetRequest): Promise<void>;
  listDatasets(input: ListRequest): Promise<ListDatasetsResponse>;
  /** Resolves once the version is recorded as CREATING; the query runs in the background. */
  createDatasetContent(input: CreateDatasetContentRequest): Promise<CreateDatasetContentResponse>;
  getDatasetContent(input: GetDatasetContentRequest): Promise<GetDatasetContentResponse>;
  deleteDatasetContent(input: DeleteDatasetContentRequest): Promise<void>;
  listDatasetContents(input: ListDatasetContentsRequest): Promise<ListDatasetContentsResponse>;

  tagResource(input: TagResourceRequest): Promise<void>;
  untagResource(input: UntagResourceRequest): Promise<void>;
  listTagsForResource(input: ListTagsForResourceRequest): Promise<ListTagsForResourceResponse>;
  describeLoggingOptions(): Promise<DescribeLoggingOptionsResponse>;
  putLoggingOptions(input: PutLoggingOptionsRequest): Promise<void>;

  /** Ours: the file behind a dataURI. ResourceNotFoundException if the version or entry is gone. */
  openDatasetContent(ref: ContentRef): Promise<DatasetContentFile>;

  /** Ours: IoT Core-shaped topic rules that feed channels from the MQTT broker. */
  createTopicRule(input: CreateTopicRuleRequest): Promise<void>;
  replaceTopicRule(input: ReplaceTopicRuleRequest): Promise<void>;
  getTopicRule(input: TopicRuleByName): Promise<GetTopicRuleResponse>;
  deleteTopicRule(input: TopicRuleByName): Promise<void>;
  listTopicRules(input: ListRequest): Promise<ListTopicRulesResponse>;
  ingestStats(): IngestStats;
  /** Ours: the Prometheus counters that GET /metrics serves. */
  metrics(): EngineMetrics;

  /** Ours: the registry deviceRegistryEnrich reads; things are also registered when they first publish. */
  putThing(thing: Thing): Promise<void>;
  describeThing(input: ThingByName): Promise<Thing>;
  /** Ours: the last-known shadow, fed by `dt/<app>/<thing>/status` messages. */
  getThingShadow(input: ThingByName): Promise<ThingShadow>;
}

/**
 * How the real engine is built (cloud/engine/analytics-engine.ts):
 * `new AnalyticsEngine({ settings, log, store?, clock?, newId?, contentUrl? })`, an Extension
 * (start/stop) that implements Engine. `settings` is the parsed `cloud:` section of cloud/settings.ts.
 */
export type { Extension } from '../../hardware/core/extension.ts';

/**
 * The engine's public surface: one method per IoT Analytics 2017-11-27 operation, with the request and
 * response shapes of botocore's `iotanalytics/2017-11-27/service-2.json` (camelCase field names as on
 * the wire). The REST layer (H6) only decodes the wire format and calls these methods.
 *
 * Conventions the REST layer relies on:
 * - Timestamps are JS `Date` objects in both directions (the wire carries epoch seconds; convert at the
 *   edge). Message payloads are bytes (`Uint8Array`, usually a Buffer): base64 on the wire.
 * - Path parameters are merged into the request object (`{ channelName, ...body }`).
 * - The engine validates every input itself (names, ranges, activity graphs, expressions, SQL) and
 *   throws the typed errors of ./errors.ts; any other throw is a bug and maps to InternalFailureException.
 * - Operations returning no body (Update*, Delete*, Tag*, PutLoggingOptions) resolve to `void`.
 * - Listing: `maxResults` 1..250 (default 100), `nextToken` opaque, absent on the last page.
 *
 * Ours beyond IoT Analytics (marked "ours"): serving dataset content files, the IoT Core topic rules
 * that feed channels, and the device registry / shadows that the enrich activities read.
 */

// ---------- shared shapes ----------

export interface Tag {
  key: string;
  value: string;
}

/** Exactly one of the two. */
export interface RetentionPeriod {
  unlimited?: boolean;
  numberOfDays?: number;
}

export type ResourceStatus = 'CREATING' | 'ACTIVE' | 'DELETING';

export interface EstimatedResourceSize {
  estimatedSizeInBytes?: number;
  estimatedOn?: Date;
}

export interface ListRequest {
  nextToken?: string;
  maxResults?: number;
}

// ---------- channels ----------

/** Only service-managed storage exists here; customerManagedS3 is rejected with a reason. */
export interface ChannelStorage {
  serviceManagedS3?: Record<string, never>;
  customerManagedS3?: { bucket: string; keyPrefix?: string; roleArn: string };
}

export interface CreateChannelRequest {
  channelName: string;
  channelStorage?: ChannelStorage;
  retentionPeriod?: RetentionPeriod;
  tags?: Tag[];
}
export interface CreateChannelResponse {
  channelName?: string;
  channelArn?: string;
  retentionPeriod?: RetentionPeriod;
}
export interface DescribeChannelRequest {
  channelName: string;
  includeStatistics?: boolean;
}
export interface Channel {
  name?: string;
  storage?: ChannelStorage;
  arn?: string;
  status?: ResourceStatus;
  retentionPeriod?: RetentionPeriod;
  creationTime?: Date;
  lastUpdateTime?: Date;
  lastMessageArrivalTime?: Date;
}
export interface DescribeChannelResponse {
  channel?: Channel;
  statistics?: { size?: EstimatedResourceSize };
}
export interface UpdateChannelRequest {
  channelName: string;
  channelStorage?: ChannelStorage;
  retentionPeriod?: RetentionPeriod;
}
export interface DeleteChannelRequest {
  channelName: string;
}
export interface ChannelSummary {
  channelName?: string;
  channelStorage?: ChannelStorage;
  status?: ResourceStatus;
  creationTime?: Date;
  lastUpdateTime?: Date;
  lastMessageArrivalTime?: Date;
}
export interface ListChannelsResponse {
  channelSummaries?: ChannelSummary[];
  nextToken?: string;
}

export interface Message {
  messageId: string;
  /** The JSON message as bytes (base64 on the wire). */
  payload: Uint8Array;
}
export interface BatchPutMessageRequest {
  channelName: string;
  /** 1..100 messages, messageId unique within the batch. */
  messages: Message[];
}
export interface BatchPutMessageErrorEntry {
  messageId?: string;
  errorCode?: string;
  errorMessage?: string;
}
export interface BatchPutMessageResponse {
  batchPutMessageErrorEntries?: BatchPutMessageErrorEntry[];
}
export interface SampleChannelDataRequest {
  channelName: string;
  /** 1..10, default 10. */
  maxMessages?: number;
  startTime?: Date;
  endTime?: Date;
}
export interface SampleChannelDataResponse {
  payloads?: Uint8Array[];
}

// ---------- pipelines ----------

export interface ChannelActivity {
  name: string;
  channelName: string;
  next?: string;
}
export interface LambdaActivity {
  name: string;
  /** Ours: the file name (without extension) of a module in the configured lambda folder. */
  lambdaName: string;
  batchSize: number;
  next?: string;
}
export interface DatastoreActivity {
  name: string;
  datastoreName: string;
}
export interface AddAttributesActivity {
  name: string;
  /** Map of existing attribute name → new attribute name (a copy). */
  attributes: Record<string, string>;
  next?: string;
}
export interface RemoveAttributesActivity {
  name: string;
  attributes: string[];
  next?: string;
}
export interface SelectAttributesActivity {
  name: string;
  attributes: string[];
  next?: string;
}
export interface FilterActivity {
  name: string;
  filter: string;
  next?: string;
}
export interface MathActivity {
  name: string;
  attribute: string;
  math: string;
  next?: string;
}
export interface DeviceRegistryEnrichActivity {
  name: string;
  attribute: string;
  /** An attribute name holding the thing name (AWS also allows an expression; we take an attribute path). */
  thingName: string;
  roleArn: string;
  next?: string;
}
export interface DeviceShadowEnrichActivity {
  name: string;
  attribute: string;
  thingName: string;
  roleArn: string;
  next?: string;
}
/** Exactly one member is set. */
export interface PipelineActivity {
  channel?: ChannelActivity;
  lambda?: LambdaActivity;
  datastore?: DatastoreActivity;
  addAttributes?: AddAttributesActivity;
  removeAttributes?: RemoveAttributesActivity;
  selectAttributes?: SelectAttributesActivity;
  filter?: FilterActivity;
  math?: MathActivity;
  deviceRegistryEnrich?: DeviceRegistryEnrichActivity;
  deviceShadowEnrich?: DeviceShadowEnrichActivity;
}

export interface CreatePipelineRequest {
  pipelineName: string;
  pipelineActivities: PipelineActivity[];
  tags?: Tag[];
}
export interface CreatePipelineResponse {
  pipelineName?: string;
  pipelineArn?: string;
}
export type ReprocessingStatus = 'RUNNING' | 'SUCCEEDED' | 'CANCELLED' | 'FAILED';
export interface ReprocessingSummary {
  id?: string;
  status?: ReprocessingStatus;
  creationTime?: Date;
}
export interface DescribePipelineRequest {
  pipelineName: string;
}
export interface Pipeline {
  name?: string;
  arn?: string;
  activities?: PipelineActivity[];
  reprocessingSummaries?: ReprocessingSummary[];
  creationTime?: Date;
  lastUpdateTime?: Date;
}
export interface DescribePipelineResponse {
  pipeline?: Pipeline;
}
export interface UpdatePipelineRequest {
  pipelineName: string;
  pipelineActivities: PipelineActivity[];
}
export interface DeletePipelineRequest {
  pipelineName: string;
}
export interface PipelineSummary {
  pipelineName?: string;
  reprocessingSummaries?: ReprocessingSummary[];
  creationTime?: Date;
  lastUpdateTime?: Date;
}
export interface ListPipelinesResponse {
  pipelineSummaries?: PipelineSummary[];
  nextToken?: string;
}
export interface RunPipelineActivityRequest {
  /** Any activity but channel and datastore. */
  pipelineActivity: PipelineActivity;
  /** 1..10 JSON payloads. */
  payloads: Uint8Array[];
}
export interface RunPipelineActivityResponse {
  payloads?: Uint8Array[];
  logResult?: string;
}
export interface StartPipelineReprocessingRequest {
  pipelineName: string;
  /** Inclusive, by channel arrival time. */
  startTime?: Date;
  /** Exclusive. */
  endTime?: Date;
  /** Not supported (no S3 here): rejected with a reason. */
  channelMessages?: { s3Paths?: string[] };
}
export interface StartPipelineReprocessingResponse {
  reprocessingId?: string;
}
export interface CancelPipelineReprocessingRequest {
  pipelineName: string;
  reprocessingId: string;
}

// ---------- datastores ----------

export interface DatastoreStorage {
  serviceManagedS3?: Record<string, never>;
  customerManagedS3?: { bucket: string; keyPrefix?: string; roleArn: string };
  iotSiteWiseMultiLayerStorage?: { customerManagedS3Storage: { bucket: string; keyPrefix?: string } };
}
export interface FileFormatConfiguration {
  jsonConfiguration?: Record<string, never>;
  parquetConfiguration?: { schemaDefinition?: { columns?: { name: string; type: string }[] } };
}
/** Ours: partition attributes also get an index, which makes queries on them fast. */
export interface DatastorePartition {
  attributePartition?: { attributeName: string };
  timestampPartition?: { attributeName: string; timestampFormat?: string };
}
export interface DatastorePartitions {
  partitions?: DatastorePartition[];
}
export interface CreateDatastoreRequest {
  datastoreName: string;
  datastoreStorage?: DatastoreStorage;
  retentionPeriod?: RetentionPeriod;
  tags?: Tag[];
  fileFormatConfiguration?: FileFormatConfiguration;
  datastorePartitions?: DatastorePartitions;
}
export interface CreateDatastoreResponse {
  datastoreName?: string;
  datastoreArn?: string;
  retentionPeriod?: RetentionPeriod;
}
export interface DescribeDatastoreRequest {
  datastoreName: string;
  includeStatistics?: boolean;
}
export interface Datastore {
  name?: string;
  storage?: DatastoreStorage;
  arn?: string;
  status?: ResourceStatus;
  retentionPeriod?: RetentionPeriod;
  creationTime?: Date;
  lastUpdateTime?: Date;
  lastMessageArrivalTime?: Date;
  fileFormatConfiguration?: FileFormatConfiguration;
  datastorePartitions?: DatastorePartitions;
}
export interface DescribeDatastoreResponse {
  datastore?: Datastore;
  statistics?: { size?: EstimatedResourceSize };
}
export interface UpdateDatastoreRequest {
  datastoreName: string;
  retentionPeriod?: RetentionPeriod;
  datastoreStorage?: DatastoreStorage;
  fileFormatConfiguration?: FileFormatConfiguration;
}
export interface DeleteDatastoreRequest {
  datastoreName: string;
}
export interface DatastoreSummary {
  datastoreName?: string;
  datastoreStorage?: DatastoreStorage;
  status?: ResourceStatus;
  creationTime?: Date;
  lastUpdateTime?: Date;
  lastMessageArrivalTime?: Date;
  fileFormatType?: 'JSON' | 'PARQUET';
  datastorePartitions?: DatastorePartitions;
}
export interface ListDatastoresResponse {
  datastoreSummaries?: DatastoreSummary[];
  nextToken?: string;
}

// ---------- datasets ----------

export interface DeltaTime {
  offsetSeconds: number;
  /** A column name or expression giving each row's timestamp, e.g. `from_unixtime(ts / 1000)`. */
  timeExpression: string;
}
export interface QueryFilter {
  deltaTime?: DeltaTime;
}
export interface SqlQueryDatasetAction {
  sqlQuery: string;
  filters?: QueryFilter[];
}
export interface DatasetAction {
  actionName?: string;
  queryAction?: SqlQueryDatasetAction;
  /** Not supported (no containers here): rejected with a reason. */
  containerAction?: Record<string, unknown>;
}
export interface DatasetTrigger {
  /** `cron(min hour day-of-month month day-of-week year)` or `rate(N unit)`. */
  schedule?: { expression?: string };
  dataset?: { name: string };
}
export interface VersioningConfiguration {
  unlimited?: boolean;
  maxVersions?: number;
}
/** Accepted and kept, but nothing is delivered to S3 or IoT Events here. */
export interface DatasetContentDeliveryRule {
  entryName?: string;
  destination: Record<string, unknown>;
}
/** Accepted and kept; no late-data notifications are sent here. */
export interface LateDataRule {
  ruleName?: string;
  ruleConfiguration: { deltaTimeSessionWindowConfiguration?: { timeoutInMinutes: number } };
}
export interface CreateDatasetRequest {
  datasetName: string;
  actions: DatasetAction[];
  triggers?: DatasetTrigger[];
  contentDeliveryRules?: DatasetContentDeliveryRule[];
  retentionPeriod?: RetentionPeriod;
  versioningConfiguration?: VersioningConfiguration;
  tags?: Tag[];
  lateDataRules?: LateDataRule[];
}
export interface CreateDatasetResponse {
  datasetName?: string;
  datasetArn?: string;
  retentionPeriod?: RetentionPeriod;
}
export interface DescribeDatasetRequest {
  datasetName: string;
}
export interface Dataset {
  name?: string;
  arn?: string;
  actions?: DatasetAction[];
  triggers?: DatasetTrigger[];
  contentDeliveryRules?: DatasetContentDeliveryRule[];
  status?: ResourceStatus;
  creationTime?: Date;
  lastUpdateTime?: Date;
  retentionPeriod?: RetentionPeriod;
  versioningConfiguration?: VersioningConfiguration;
  lateDataRules?: LateDataRule[];
}
export interface DescribeDatasetResponse {
  dataset?: Dataset;
}
export interface UpdateDatasetRequest {
  datasetName: string;
  actions: DatasetAction[];
  triggers?: DatasetTrigger[];
  contentDeliveryRules?: DatasetContentDeliveryRule[];
  retentionPeriod?: RetentionPeriod;
  versioningConfiguration?: VersioningConfiguration;
  lateDataRules?: LateDataRule[];
}
export interface DeleteDatasetRequest {
  datasetName: string;
}
export interface DatasetSummary {
  datasetName?: string;
  status?: ResourceStatus;
  creationTime?: Date;
  lastUpdateTime?: Date;
  triggers?: DatasetTrigger[];
  actions?: { actionName?: string; actionType?: 'QUERY' | 'CONTAINER' }[];
}
export interface ListDatasetsResponse {
  datasetSummaries?: DatasetSummary[];
  nextToken?: string;
}

export type DatasetContentState = 'CREATING' | 'SUCCEEDED' | 'FAILED';
export interface DatasetContentStatus {
  state?: DatasetContentState;
  reason?: string;
}
export interface CreateDatasetContentRequest {
  datasetName: string;
  /** Re-create this version (datasets with a deltaTime filter only). */
  versionId?: string;
}
export interface CreateDatasetContentResponse {
  versionId?: string;
}
export interface GetDatasetContentRequest {
  datasetName: string;
  /** A version id, `$LATEST` (default) or `$LATEST_SUCCEEDED`. */
  versionId?: string;
}
/** Ours: names one content file, for signing and serving its URL. */
export interface ContentRef {
  datasetName: string;
  versionId: string;
  entryName: string;
}
export interface DatasetEntry {
  entryName?: string;
  /** Built by the `contentUrl` function given to the engine (the REST layer signs it). */
  dataURI?: string;
}
export interface GetDatasetContentResponse {
  entries?: DatasetEntry[];
  timestamp?: Date;
  status?: DatasetContentStatus;
}
export interface DeleteDatasetContentRequest {
  datasetName: string;
  /** A version id or `$LATEST` / `$LATEST_SUCCEEDED` (default `$LATEST_SUCCEEDED`, as AWS). */
  versionId?: string;
}
export interface ListDatasetContentsRequest extends ListRequest {
  datasetName: string;
  scheduledOnOrAfter?: Date;
  scheduledBefore?: Date;
}
export interface DatasetContentSummary {
  version?: string;
  status?: DatasetContentStatus;
  creationTime?: Date;
  scheduleTime?: Date;
  completionTime?: Date;
}
export interface ListDatasetContentsResponse {
  datasetContentSummaries?: DatasetContentSummary[];
  nextToken?: string;
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

export interface TagResourceRequest {
  resourceArn: string;
  tags: Tag[];
}
export interface UntagResourceRequest {
  resourceArn: string;
  tagKeys: string[];
}
export interface ListTagsForResourceRequest {
  resourceArn: string;
}
export interface ListTagsForResourceResponse {
  tags?: Tag[];
}
export interface LoggingOptions {
  roleArn: string;
  level: 'ERROR';
  enabled: boolean;
}
export interface DescribeLoggingOptionsResponse {
  loggingOptions?: LoggingOptions;
}
export interface PutLoggingOptionsRequest {
  loggingOptions: LoggingOptions;
}

// ---------- ours: IoT Core topic rules, registry, shadows ----------

/** IoT Core's `iotAnalytics` rule action. */
export interface IotAnalyticsAction {
  channelName: string;
  /** true: each record of an envelope (or element of an array payload) becomes its own message. */
  batchMode?: boolean;
  roleArn?: string;
}
/** IoT Core's TopicRulePayload, with only the iotAnalytics action. */
export interface TopicRulePayload {
  /** `SELECT * FROM 'dt/weather/+/reading'`, optionally with `WHERE <filter expression>`. */
  sql: string;
  description?: string;
  ruleDisabled?: boolean;
  awsIotSqlVersion?: string;
  actions: { iotAnalytics?: IotAnalyticsAction }[];
}
export interface CreateTopicRuleRequest {
  ruleName: string;
  topicRulePayload: TopicRulePayload;
  tags?: Tag[];
}
export interface ReplaceTopicRuleRequest {
  ruleName: string;
  topicRulePayload: TopicRulePayload;
}
export interface TopicRule {
  ruleName?: string;
  sql?: string;
  description?: string;
  createdAt?: Date;
  actions?: { iotAnalytics?: IotAnalyticsAction }[];
  ruleDisabled?: boolean;
  awsIotSqlVersion?: string;
}
export interface GetTopicRuleResponse {
  ruleArn?: string;
  rule?: TopicRule;
}
export interface TopicRuleListItem {
  ruleArn?: string;
  ruleName?: string;
  topicPattern?: string;
  createdAt?: Date;
  ruleDisabled?: boolean;
}
export interface ListTopicRulesResponse {
  rules?: TopicRuleListItem[];
  nextToken?: string;
}
/** Counters of the MQTT ingestion since start (rejected payloads are counted and logged, never crash). */
export interface IngestStats {
  received: number;
  accepted: number;
  rejected: number;
  duplicates: number;
  /** Ours: envelopes refused because their deviceId is not the topic's thing (a station writing as another); also counted in rejected. */
  impersonations?: number;
  lastRejection?: { topic: string; reason: string; at: Date };
}

/** IoT Core's registry entry, as deviceRegistryEnrich writes it into a message. */
export interface Thing {
  thingName: string;
  thingTypeName?: string;
  attributes?: Record<string, string>;
}
/** The shadow document deviceShadowEnrich writes into a message (state.reported from status messages). */
export interface ThingShadow {
  state: { reported?: Record<string, unknown>; desired?: Record<string, unknown> };
  version: number;
  /** Epoch seconds, as in IoT Core's shadow documents. */
  timestamp: number;
}

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
  getTopicRule(input: { ruleName: string }): Promise<GetTopicRuleResponse>;
  deleteTopicRule(input: { ruleName: string }): Promise<void>;
  listTopicRules(input: ListRequest): Promise<ListTopicRulesResponse>;
  ingestStats(): IngestStats;

  /** Ours: the registry deviceRegistryEnrich reads; things are also registered when they first publish. */
  putThing(thing: Thing): Promise<void>;
  describeThing(input: { thingName: string }): Promise<Thing>;
  /** Ours: the last-known shadow, fed by `dt/<app>/<thing>/status` messages. */
  getThingShadow(input: { thingName: string }): Promise<ThingShadow>;
}

/**
 * How the real engine is built (cloud/analytics-engine.ts):
 * `new AnalyticsEngine({ settings, log, store?, clock?, timers?, newId?, contentUrl? })`, an Extension
 * (start/stop) that implements Engine. `settings` is the parsed `cloud:` section of cloud/settings.ts.
 */
export type { Extension } from '../device/extension.ts';

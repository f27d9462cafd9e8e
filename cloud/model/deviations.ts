/**
 * Where Hedgerow's schemas deliberately differ from botocore's iotanalytics/2017-11-27 service-2.json,
 * one line per difference as test/cloud/model/model-shapes.test.ts reports it (`in` = what a request may
 * carry, `out` = what the engine may return), each with the reason. The test fails on a difference that
 * is not here and on an entry here that is no longer a difference.
 */
export interface ModelDeviation {
  at: string;
  reason: string;
}

const S3 = 'The engine keeps channel and datastore data in its own files (SQLite); there is no S3 bucket to put them in, so only serviceManagedS3 exists.';
const SITEWISE = 'IoT SiteWise multi-layer storage needs SiteWise and a customer S3 bucket; the engine keeps datastores in its own SQLite file.';
const CONTAINERS = 'Container datasets run a Docker image on SageMaker-like compute; there is no container runtime here, datasets take a queryAction (SQL).';
const ATTRIBUTE_NAMES =
  'Attribute names an activity reads or writes must be valid message attribute names (design.md §3), or the datastore could not hold them; the model allows any 1-256 characters.';

export const modelDeviations: readonly ModelDeviation[] = [
  { at: "in AddAttributesActivity.attributes{key}: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "in AddAttributesActivity.attributes{value}: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "in BatchPutMessageRequest.messages: max: the model's none, here 100", reason: 'BatchPutMessage takes at most 100 messages (the service documentation and design.md §6); larger batches are refused whole, with the advice to split them.' },
  { at: "in BatchPutMessageRequest.messages: min: the model's none, here 1", reason: 'An empty batch is refused rather than answered with nothing: it is always a client bug.' },
  { at: 'in ChannelStorage.customerManagedS3: refused', reason: S3 },
  { at: 'in DatasetAction.containerAction: refused', reason: CONTAINERS },
  { at: 'in DatastoreStorage.customerManagedS3: refused', reason: S3 },
  { at: 'in DatastoreStorage.iotSiteWiseMultiLayerStorage: refused', reason: SITEWISE },
  { at: "in DeviceRegistryEnrichActivity.attribute: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "in DeviceShadowEnrichActivity.attribute: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "in MathActivity.attribute: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "in RemoveAttributesActivity.attributes[]: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: 'in Schedule.expression: optional in the model, required here', reason: 'A schedule trigger without an expression could never fire; it is refused with an example (cron(0 12 * * ? *)).' },
  { at: "in SelectAttributesActivity.attributes[]: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: 'in StartPipelineReprocessingRequest.channelMessages: refused', reason: 'Reprocessing by S3 paths needs the channel in S3; reprocessing replays by startTime/endTime from the engine\'s own channel store.' },
  { at: "out AddAttributesActivity.attributes{key}: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "out AddAttributesActivity.attributes{value}: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: 'out ChannelStorage.customerManagedS3: missing', reason: S3 },
  { at: 'out ChannelStorageSummary.customerManagedS3: missing', reason: S3 },
  { at: 'out DatasetAction.containerAction: refused', reason: CONTAINERS },
  { at: 'out DatastoreStorage.customerManagedS3: missing', reason: S3 },
  { at: 'out DatastoreStorage.iotSiteWiseMultiLayerStorage: missing', reason: SITEWISE },
  { at: 'out DatastoreStorageSummary.customerManagedS3: missing', reason: S3 },
  { at: 'out DatastoreStorageSummary.iotSiteWiseMultiLayerStorage: missing', reason: SITEWISE },
  { at: "out DeviceRegistryEnrichActivity.attribute: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "out DeviceShadowEnrichActivity.attribute: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "out ListTagsForResourceResponse.tags: min: the model's 1, here none", reason: 'A resource without tags lists tags: [] (what the SDK gives callers for an absent list too), not a list of at least one.' },
  { at: "out MathActivity.attribute: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "out RemoveAttributesActivity.attributes[]: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
  { at: "out RunPipelineActivityResponse.payloads: min: the model's 1, here none", reason: 'An activity may drop every payload (a filter that matches none), and then there is nothing to return.' },
  { at: "out SampleChannelDataResponse.payloads: min: the model's 1, here none", reason: 'An empty channel, or a time range without messages, samples to no payloads.' },
  { at: "out SelectAttributesActivity.attributes[]: pattern: the model's none, here ^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$", reason: ATTRIBUTE_NAMES },
];

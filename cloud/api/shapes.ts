/**
 * The API's shapes now live in cloud/api/model/ (one schema per shape, compared with service-2.json by
 * test/cloud/api/model-shapes.test.ts). These names stay importable from here for code that used them.
 */
export { blob, channelName, datasetName, datastoreName, pipelineName, resourceArn, resourceName, retentionPeriod, tag, tagList, timestamp as epochSeconds } from '../model/common.ts';
export { MAX_BATCH_MESSAGES, MAX_MESSAGE_PAYLOAD_BYTES, message, messageId, messages, channelStorage } from '../model/channels.ts';
export { pipelineActivities, pipelineActivity } from '../model/pipelines.ts';
export { datastorePartitions, datastoreStorage, fileFormatConfiguration } from '../model/datastores.ts';
export { datasetActions, datasetContentVersion, datasetTriggers, datasetContentDeliveryRules as contentDeliveryRules, lateDataRules, versioningConfiguration } from '../model/datasets.ts';
export { loggingOptions } from '../model/account.ts';

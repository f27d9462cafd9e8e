import { z } from 'zod';
import {
  resourceTimes,
  arn, bucketName, datasetName, listRequest, maxResults, modelPattern, nextToken, refused, resourceStatus, retentionPeriod, roleArn, tagList,
  timestamp,
} from './common.ts';

/** Datasets and their content versions: requests and responses. */

export const MAX_TRIGGERS = 5;
export const MAX_VERSIONS = 1000;

const identifier = (what: string) => z.string().min(1).max(128).regex(modelPattern('^[a-zA-Z0-9_]+$'), `${what} may contain only letters, digits and "_"`);

export const deltaTime = z.strictObject({ offsetSeconds: z.number().int(), timeExpression: z.string() });
export const sqlQueryDatasetAction = z.strictObject({
  sqlQuery: z.string({ error: 'sqlQuery must be a string' }),
  filters: z
    .array(z.strictObject({ deltaTime: deltaTime.optional() }))
    .min(0)
    .max(1, 'give at most one filter (a deltaTime)')
    .optional(),
});
export const datasetAction = z
  .strictObject({
    actionName: identifier('actionName').optional(),
    queryAction: sqlQueryDatasetAction.optional(),
    containerAction: refused<Record<string, unknown>>('containerAction is not available here (no containers); use queryAction'),
  })
  .refine((a) => a.queryAction !== undefined, { message: 'give a queryAction with an sqlQuery' });
export const datasetActions = z.array(datasetAction).min(1, 'a dataset has exactly one action').max(1, 'a dataset has exactly one action');

export const datasetTrigger = z
  .strictObject({
    // The model leaves the expression optional, but a schedule without one cannot run: it is required here.
    schedule: z.strictObject({ expression: z.string({ error: 'give the schedule an expression such as cron(0 12 * * ? *)' }) }).optional(),
    dataset: z.strictObject({ name: datasetName }).optional(),
  })
  .refine((t) => (t.schedule === undefined) !== (t.dataset === undefined), { message: 'give either schedule or dataset' });
export const datasetTriggers = z.array(datasetTrigger).min(0).max(MAX_TRIGGERS);

/** Accepted and kept, but nothing is delivered to S3 or IoT Events here. */
export const datasetContentDeliveryRule = z.strictObject({
  entryName: z.string().optional(),
  destination: z.strictObject({
    iotEventsDestinationConfiguration: z
      .strictObject({ inputName: z.string().min(1).max(128).regex(modelPattern('^[a-zA-Z][a-zA-Z0-9_]*$'), 'not a valid IoT Events input name'), roleArn })
      .optional(),
    s3DestinationConfiguration: z
      .strictObject({
        bucket: bucketName,
        key: z.string().min(1).max(255).regex(modelPattern("^[a-zA-Z0-9!_.*'()/{}:-]*$"), 'not a valid S3 key expression'),
        glueConfiguration: z
          .strictObject({
            tableName: z.string().min(1).max(150).regex(modelPattern('[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*')),
            databaseName: z.string().min(1).max(150).regex(modelPattern('[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\t]*')),
          })
          .optional(),
        roleArn,
      })
      .optional(),
  }),
});
export const datasetContentDeliveryRules = z.array(datasetContentDeliveryRule).min(0).max(20);

export const versioningConfiguration = z
  .strictObject({ unlimited: z.boolean().optional(), maxVersions: z.number().int().min(1).max(MAX_VERSIONS).optional() })
  .refine((v) => (v.unlimited === true) !== (v.maxVersions !== undefined), { message: 'give either unlimited: true or maxVersions' });

/** Accepted and kept; no late-data notifications are sent here. */
export const lateDataRule = z.strictObject({
  ruleName: identifier('ruleName').optional(),
  ruleConfiguration: z.strictObject({
    deltaTimeSessionWindowConfiguration: z.strictObject({ timeoutInMinutes: z.number().int().min(1).max(60) }).optional(),
  }),
});
export const lateDataRules = z.array(lateDataRule).min(1).max(1);

const datasetSettings = {
  actions: datasetActions,
  triggers: datasetTriggers.optional(),
  contentDeliveryRules: datasetContentDeliveryRules.optional(),
  retentionPeriod: retentionPeriod.optional(),
  versioningConfiguration: versioningConfiguration.optional(),
  lateDataRules: lateDataRules.optional(),
};
export const createDatasetRequest = z.strictObject({ datasetName, ...datasetSettings, tags: tagList.optional() });
export const createDatasetResponse = z.strictObject({ datasetName: datasetName.optional(), datasetArn: arn.optional(), retentionPeriod: retentionPeriod.optional() });

export const describeDatasetRequest = z.strictObject({ datasetName });
export const dataset = z.strictObject({
  name: datasetName.optional(),
  arn: arn.optional(),
  actions: datasetActions.optional(),
  triggers: datasetTriggers.optional(),
  contentDeliveryRules: datasetContentDeliveryRules.optional(),
  status: resourceStatus.optional(),
  ...resourceTimes,
  retentionPeriod: retentionPeriod.optional(),
  versioningConfiguration: versioningConfiguration.optional(),
  lateDataRules: lateDataRules.optional(),
});
export const describeDatasetResponse = z.strictObject({ dataset: dataset.optional() });

export const updateDatasetRequest = z.strictObject({ datasetName, ...datasetSettings });
export const deleteDatasetRequest = z.strictObject({ datasetName });

export const listDatasetsRequest = listRequest;
export const datasetSummary = z.strictObject({
  datasetName: datasetName.optional(),
  status: resourceStatus.optional(),
  ...resourceTimes,
  triggers: datasetTriggers.optional(),
  actions: z
    .array(z.strictObject({ actionName: identifier('actionName').optional(), actionType: z.enum(['QUERY', 'CONTAINER']).optional() }))
    .min(1)
    .max(1)
    .optional(),
});
export const listDatasetsResponse = z.strictObject({ datasetSummaries: z.array(datasetSummary).optional(), nextToken: nextToken.optional() });

/** A version id, or `$LATEST` / `$LATEST_SUCCEEDED`. */
export const datasetContentVersion = z.string().min(7, 'versionId must be 7-36 characters').max(36, 'versionId must be 7-36 characters');
export const datasetContentStatus = z.strictObject({ state: z.enum(['CREATING', 'SUCCEEDED', 'FAILED']).optional(), reason: z.string().optional() });

export const createDatasetContentRequest = z.strictObject({ datasetName, versionId: datasetContentVersion.optional() });
export const createDatasetContentResponse = z.strictObject({ versionId: datasetContentVersion.optional() });

export const getDatasetContentRequest = z.strictObject({ datasetName, versionId: datasetContentVersion.optional() });
export const datasetEntry = z.strictObject({ entryName: z.string().optional(), dataURI: z.string().optional() });
export const getDatasetContentResponse = z.strictObject({
  entries: z.array(datasetEntry).optional(),
  timestamp: timestamp.optional(),
  status: datasetContentStatus.optional(),
});
export const deleteDatasetContentRequest = z.strictObject({ datasetName, versionId: datasetContentVersion.optional() });

export const listDatasetContentsRequest = z.strictObject({
  datasetName,
  nextToken: nextToken.optional(),
  maxResults: maxResults.optional(),
  scheduledOnOrAfter: timestamp.optional(),
  scheduledBefore: timestamp.optional(),
});
export const datasetContentSummary = z.strictObject({
  version: datasetContentVersion.optional(),
  status: datasetContentStatus.optional(),
  creationTime: timestamp.optional(),
  scheduleTime: timestamp.optional(),
  completionTime: timestamp.optional(),
});
export const listDatasetContentsResponse = z.strictObject({ datasetContentSummaries: z.array(datasetContentSummary).optional(), nextToken: nextToken.optional() });

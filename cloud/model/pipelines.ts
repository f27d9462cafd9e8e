import { z } from 'zod';
import { ATTRIBUTE_NAME } from '../../hardware/core/contract.ts';
import { resourceTimes, arn, blob, channelName, datastoreName, listRequest, nextToken, pipelineName, refused, roleArn, sizedMap, tagList, timestamp } from './common.ts';

/** Pipelines, their ten activities, RunPipelineActivity and reprocessing: requests and responses. */

export const MAX_RUN_PAYLOADS = 10;
const MAX_ATTRIBUTES = 50;

const activityName = z.string().min(1).max(128);
/** Stricter than the model's AttributeName (any 1-256 characters): the names must be usable in messages (design.md §3). */
const attributeName = z
  .string()
  .min(1)
  .max(256)
  .regex(ATTRIBUTE_NAME, 'not a valid attribute name (letters, digits, underscores; start with a letter or one underscore)');
const next = activityName.optional();

export const activitySchemas = {
  channel: z.strictObject({ name: activityName, channelName, next }),
  datastore: z.strictObject({ name: activityName, datastoreName }),
  lambda: z.strictObject({
    name: activityName,
    lambdaName: z.string().min(1).max(64).regex(/^[a-zA-Z0-9_-]+$/, 'use 1-64 letters, digits, "-" or "_" (the module file name)'),
    batchSize: z.number().int().min(1).max(1000),
    next,
  }),
  addAttributes: z.strictObject({ name: activityName, attributes: sizedMap(attributeName, attributeName, 1, MAX_ATTRIBUTES, 'attributes'), next }),
  removeAttributes: z.strictObject({ name: activityName, attributes: z.array(attributeName).min(1).max(MAX_ATTRIBUTES), next }),
  selectAttributes: z.strictObject({ name: activityName, attributes: z.array(attributeName).min(1).max(MAX_ATTRIBUTES), next }),
  filter: z.strictObject({ name: activityName, filter: z.string().min(1).max(256), next }),
  math: z.strictObject({ name: activityName, attribute: attributeName, math: z.string().min(1).max(256), next }),
  deviceRegistryEnrich: z.strictObject({ name: activityName, attribute: attributeName, thingName: z.string().min(1).max(256), roleArn, next }),
  deviceShadowEnrich: z.strictObject({ name: activityName, attribute: attributeName, thingName: z.string().min(1).max(256), roleArn, next }),
} as const;

export type ActivityKind = keyof typeof activitySchemas;
export const ACTIVITY_KINDS = Object.keys(activitySchemas) as ActivityKind[];

/** Exactly one member is set. */
export const pipelineActivity = z
  .strictObject(Object.fromEntries(ACTIVITY_KINDS.map((k) => [k, activitySchemas[k].optional()])) as {
    [K in ActivityKind]: z.ZodOptional<(typeof activitySchemas)[K]>;
  })
  .superRefine((activity, ctx) => {
    const set = ACTIVITY_KINDS.filter((k) => activity[k] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `set exactly one of ${ACTIVITY_KINDS.join(', ')} (found ${set.length})` });
    }
  });
/** The graph rules (2..25, one channel, one datastore, a chain) are checked by cloud/engine/pipeline-graph.ts with their own messages. */
export const pipelineActivities = z.array(pipelineActivity).min(1, 'a pipeline has 2 to 25 activities').max(25, 'a pipeline has 2 to 25 activities');

export const createPipelineRequest = z.strictObject({ pipelineName, pipelineActivities, tags: tagList.optional() });
export const createPipelineResponse = z.strictObject({ pipelineName: pipelineName.optional(), pipelineArn: arn.optional() });

export const reprocessingSummary = z.strictObject({
  id: z.string().optional(),
  status: z.enum(['RUNNING', 'SUCCEEDED', 'CANCELLED', 'FAILED']).optional(),
  creationTime: timestamp.optional(),
});
export const describePipelineRequest = z.strictObject({ pipelineName });
export const pipeline = z.strictObject({
  name: pipelineName.optional(),
  arn: arn.optional(),
  activities: pipelineActivities.optional(),
  reprocessingSummaries: z.array(reprocessingSummary).optional(),
  ...resourceTimes,
});
export const describePipelineResponse = z.strictObject({ pipeline: pipeline.optional() });

export const updatePipelineRequest = z.strictObject({ pipelineName, pipelineActivities });
export const deletePipelineRequest = z.strictObject({ pipelineName });

export const listPipelinesRequest = listRequest;
export const pipelineSummary = z.strictObject({
  pipelineName: pipelineName.optional(),
  reprocessingSummaries: z.array(reprocessingSummary).optional(),
  ...resourceTimes,
});
export const listPipelinesResponse = z.strictObject({ pipelineSummaries: z.array(pipelineSummary).optional(), nextToken: nextToken.optional() });

const payloads = z.array(blob).min(1, `give 1-${MAX_RUN_PAYLOADS} payloads`).max(MAX_RUN_PAYLOADS, `give 1-${MAX_RUN_PAYLOADS} payloads`);
export const runPipelineActivityRequest = z.strictObject({ pipelineActivity, payloads });
/** An activity may drop every message (a filter), so the engine can return no payloads. */
export const runPipelineActivityResponse = z.strictObject({ payloads: z.array(blob).max(MAX_RUN_PAYLOADS).optional(), logResult: z.string().optional() });

export const startPipelineReprocessingRequest = z.strictObject({
  pipelineName,
  startTime: timestamp.optional(),
  endTime: timestamp.optional(),
  channelMessages: refused<{ s3Paths?: string[] }>('channelMessages (S3 paths) are not available here; give startTime and endTime'),
});
export const startPipelineReprocessingResponse = z.strictObject({ reprocessingId: z.string().optional() });
export const cancelPipelineReprocessingRequest = z.strictObject({ pipelineName, reprocessingId: z.string() });
export const cancelPipelineReprocessingResponse = z.strictObject({});

import { z } from 'zod';

/**
 * The request shapes of IoT Analytics 2017-11-27 as zod schemas, with the lengths, ranges and patterns
 * of botocore's service-2.json. Wire forms become engine forms here: base64 blobs become bytes and
 * epoch-second timestamps become Dates. Objects are strict, so a misspelt key is an error with its name
 * rather than silently ignored. The engine still checks meaning (graphs, expressions, SQL).
 */

/** BatchPutMessage takes at most this many messages (design.md §6). */
export const MAX_BATCH_MESSAGES = 100;
/** IoT Analytics' per-message payload limit. */
export const MAX_MESSAGE_PAYLOAD_BYTES = 128 * 1024;
const NAME = /^[a-zA-Z0-9_]+$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Channel, pipeline, datastore and dataset names: 1-128 of [a-zA-Z0-9_], not starting with "__". */
export const resourceName = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(128, `${what} must be at most 128 characters`)
    .regex(NAME, `${what} may contain only letters, digits and "_"`)
    .refine((s) => !s.startsWith('__'), `${what} must not start with "__"`);

export const channelName = resourceName('channelName');
export const pipelineName = resourceName('pipelineName');
export const datastoreName = resourceName('datastoreName');
export const datasetName = resourceName('datasetName');

const activityName = z.string().min(1).max(128);
const attributeName = z.string().min(1).max(256);
const roleArn = z.string().min(20, 'roleArn must be at least 20 characters').max(2048);
const bucketName = z.string().min(3).max(255).regex(/^[a-zA-Z0-9.\-_]*$/);
const keyPrefix = z.string().min(1).max(255).regex(/^[a-zA-Z0-9!_.*'()/{}:-]*\/$/);
const empty = z.strictObject({});

/** A base64 string on the wire, bytes in the engine. */
export const blob = z
  .string({ error: 'expected a base64 string' })
  .regex(BASE64, 'expected base64 (A-Z, a-z, 0-9, +, / with = padding)')
  .transform((s) => Buffer.from(s, 'base64'));

/** Epoch seconds (what the SDK sends in bodies), fractional allowed. */
export const epochSeconds = z
  .number({ error: 'expected a timestamp in epoch seconds' })
  .finite()
  .min(0)
  .max(253402300799, 'timestamps end at 9999-12-31')
  .transform((s) => new Date(Math.round(s * 1000)));

export const tag = z.strictObject({ key: z.string().min(1).max(256), value: z.string().min(1).max(256) });
export const tagList = z.array(tag).min(1).max(50);

export const retentionPeriod = z
  .strictObject({ unlimited: z.boolean().optional(), numberOfDays: z.number().int().min(1).optional() })
  .refine((r) => !(r.unlimited === true && r.numberOfDays !== undefined), 'set either unlimited or numberOfDays, not both');

export const channelStorage = z.strictObject({
  serviceManagedS3: empty.optional(),
  customerManagedS3: z.strictObject({ bucket: bucketName, keyPrefix: keyPrefix.optional(), roleArn }).optional(),
});

const next = activityName.optional();
export const pipelineActivity = z.strictObject({
  channel: z.strictObject({ name: activityName, channelName, next }).optional(),
  lambda: z
    .strictObject({
      name: activityName,
      lambdaName: z.string().min(1).max(64).regex(/^[a-zA-Z0-9_-]+$/),
      batchSize: z.number().int().min(1).max(1000),
      next,
    })
    .optional(),
  datastore: z.strictObject({ name: activityName, datastoreName }).optional(),
  addAttributes: z
    .strictObject({
      name: activityName,
      attributes: z.record(attributeName, attributeName).refine((m) => {
        const n = Object.keys(m).length;
        return n >= 1 && n <= 50;
      }, 'attributes must map 1-50 names'),
      next,
    })
    .optional(),
  removeAttributes: z.strictObject({ name: activityName, attributes: z.array(attributeName).min(1).max(50), next }).optional(),
  selectAttributes: z.strictObject({ name: activityName, attributes: z.array(attributeName).min(1).max(50), next }).optional(),
  filter: z.strictObject({ name: activityName, filter: z.string().min(1).max(256), next }).optional(),
  math: z.strictObject({ name: activityName, attribute: attributeName, math: z.string().min(1).max(256), next }).optional(),
  deviceRegistryEnrich: z.strictObject({ name: activityName, attribute: attributeName, thingName: attributeName, roleArn, next }).optional(),
  deviceShadowEnrich: z.strictObject({ name: activityName, attribute: attributeName, thingName: attributeName, roleArn, next }).optional(),
});
export const pipelineActivities = z.array(pipelineActivity).min(1).max(25);

export const datastoreStorage = z.strictObject({
  serviceManagedS3: empty.optional(),
  customerManagedS3: z.strictObject({ bucket: bucketName, keyPrefix: keyPrefix.optional(), roleArn }).optional(),
  iotSiteWiseMultiLayerStorage: z
    .strictObject({ customerManagedS3Storage: z.strictObject({ bucket: bucketName, keyPrefix: keyPrefix.optional() }) })
    .optional(),
});
export const fileFormatConfiguration = z.strictObject({
  jsonConfiguration: empty.optional(),
  parquetConfiguration: z
    .strictObject({
      schemaDefinition: z
        .strictObject({
          columns: z
            .array(
              z.strictObject({
                name: z.string().min(1).max(255).regex(/^[A-Za-z_]([A-Za-z0-9]*|[A-Za-z0-9][A-Za-z0-9_]*)$/),
                type: z.string().min(1).max(131072),
              }),
            )
            .optional(),
        })
        .optional(),
    })
    .optional(),
});
const partitionAttribute = z.string().min(1).max(128).regex(NAME);
export const datastorePartitions = z.strictObject({
  partitions: z
    .array(
      z.strictObject({
        attributePartition: z.strictObject({ attributeName: partitionAttribute }).optional(),
        timestampPartition: z
          .strictObject({
            attributeName: partitionAttribute,
            timestampFormat: z.string().min(1).max(50).regex(/^[a-zA-Z0-9\s[\]_,.'/:-]*$/).optional(),
          })
          .optional(),
      }),
    )
    .max(25)
    .optional(),
});

export const datasetAction = z.strictObject({
  actionName: z.string().min(1).max(128).regex(NAME).optional(),
  queryAction: z
    .strictObject({
      sqlQuery: z.string({ error: 'sqlQuery must be a string' }),
      filters: z
        .array(
          z.strictObject({
            deltaTime: z.strictObject({ offsetSeconds: z.number().int(), timeExpression: z.string() }).optional(),
          }),
        )
        .max(1)
        .optional(),
    })
    .optional(),
  containerAction: z.record(z.string(), z.unknown()).optional(),
});
export const datasetActions = z.array(datasetAction).min(1).max(1);
export const datasetTriggers = z
  .array(z.strictObject({ schedule: z.strictObject({ expression: z.string().optional() }).optional(), dataset: z.strictObject({ name: datasetName }).optional() }))
  .max(5);
export const contentDeliveryRules = z
  .array(z.strictObject({ entryName: z.string().optional(), destination: z.record(z.string(), z.unknown()) }))
  .max(20);
export const versioningConfiguration = z.strictObject({
  unlimited: z.boolean().optional(),
  maxVersions: z.number().int().min(1).max(1000).optional(),
});
export const lateDataRules = z
  .array(
    z.strictObject({
      ruleName: z.string().min(1).max(128).regex(NAME).optional(),
      ruleConfiguration: z.strictObject({
        deltaTimeSessionWindowConfiguration: z.strictObject({ timeoutInMinutes: z.number().int().min(1).max(60) }).optional(),
      }),
    }),
  )
  .min(1)
  .max(1);

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** ASCII only, as the model's \p{ASCII} message id pattern. */
export const messageId = z
  .string({ error: 'messageId must be a string' })
  .min(1, 'messageId must not be empty')
  .max(128, 'messageId must be at most 128 characters')
  .refine(isAscii, 'messageId must be ASCII');

export const message = z.strictObject({
  messageId,
  payload: blob.refine((b) => b.length <= MAX_MESSAGE_PAYLOAD_BYTES, `a message payload may be at most ${MAX_MESSAGE_PAYLOAD_BYTES / 1024} KB`),
});

export const messages = z
  .array(message)
  .min(1, 'send at least one message')
  .max(MAX_BATCH_MESSAGES, `BatchPutMessage takes at most ${MAX_BATCH_MESSAGES} messages; split the batch`)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [index, m] of list.entries()) {
      if (seen.has(m.messageId)) {
        ctx.addIssue({ code: 'custom', path: [index, 'messageId'], message: `messageId "${m.messageId}" appears twice; ids must be unique within a batch` });
      }
      seen.add(m.messageId);
    }
  });

export const loggingOptions = z.strictObject({ roleArn, level: z.literal('ERROR'), enabled: z.boolean() });

export const resourceArn = z.string().min(20, 'resourceArn must be at least 20 characters').max(2048);
export const datasetContentVersion = z.string().min(7, 'versionId must be 7-36 characters').max(36, 'versionId must be 7-36 characters');

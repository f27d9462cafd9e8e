import { z } from 'zod';

/**
 * The leaves and shared shapes of IoT Analytics 2017-11-27 (botocore's service-2.json), one definition
 * each. Every request and response schema under cloud/model/ is built from these, the REST layer
 * decodes the wire with them and the engine checks direct calls with them, so a limit lives in one place.
 * test/cloud/model/model-shapes.test.ts compares all of it with service-2.json.
 */

/** What the model-vs-schema test cannot read from a zod schema itself: the model type of a leaf, a map's size limits. */
export interface ModelFacts {
  type?: 'timestamp' | 'blob';
  /** A member of the model that Hedgerow takes no value for. */
  refused?: true;
  min?: number;
  max?: number;
}
export const modelFacts = z.registry<ModelFacts>();

/**
 * service-2.json patterns are matched whole (the service is Java: String.matches), so they are anchored
 * here. Unicode mode where the pattern allows it, since some use \p{...}.
 */
export function modelPattern(pattern: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return new RegExp(`^(?:${pattern})$`);
  }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const LAST_TIMESTAMP_SECONDS = 253402300799;

/** A blob: bytes in the engine, a base64 string on the wire; either is accepted, bytes come out. Any bytes (the model's MessagePayload is any blob). */
export const blob = z
  .union([z.string(), z.instanceof(Uint8Array)], { error: 'expected a base64 string' })
  .transform((value, ctx): Uint8Array => {
    if (value instanceof Uint8Array) return value;
    if (!BASE64.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'expected base64 (A-Z, a-z, 0-9, +, / with = padding)' });
      return z.NEVER;
    }
    return Buffer.from(value, 'base64');
  })
  .register(modelFacts, { type: 'blob' });

/** A timestamp: a Date in the engine, epoch seconds (fractional allowed) on the wire; a Date comes out. */
export const timestamp = z
  .union([z.date(), z.number()], { error: 'expected a timestamp in epoch seconds' })
  .transform((value, ctx): Date => {
    const date = value instanceof Date ? value : new Date(Math.round(value * 1000));
    const ms = date.getTime();
    if (!Number.isFinite(ms) || ms < 0 || ms > LAST_TIMESTAMP_SECONDS * 1000) {
      ctx.addIssue({ code: 'custom', message: 'expected a timestamp from 1970 to 9999-12-31' });
      return z.NEVER;
    }
    return date;
  })
  .register(modelFacts, { type: 'timestamp' });

/** A JSON object with 1..max string-to-string entries (the model's map shapes with limits). */
export function sizedMap<K extends z.ZodType<string>, V extends z.ZodType>(key: K, value: V, min: number, max: number, what: string) {
  return z
    .record(key, value)
    .refine((m) => {
      const n = Object.keys(m).length;
      return n >= min && n <= max;
    }, `${what} must map ${min}-${max} names`)
    .register(modelFacts, { min, max });
}

const RESOURCE_NAME = modelPattern('(^(?!_{2}))(^[a-zA-Z0-9_]+$)');

/** Channel, pipeline, datastore and dataset names: 1-128 of [a-zA-Z0-9_], not starting with "__". */
export const resourceName = (what: string) =>
  z
    .string({ error: `${what} must be a string` })
    .min(1, `${what} must not be empty`)
    .max(128, `${what} must be at most 128 characters`)
    .regex(RESOURCE_NAME, {
      error: (issue) =>
        typeof issue.input === 'string' && issue.input.startsWith('__') ? `${what} must not start with "__"` : `${what} may contain only letters, digits and "_"`,
    });

export const channelName = resourceName('channelName');
export const pipelineName = resourceName('pipelineName');
export const datastoreName = resourceName('datastoreName');
export const datasetName = resourceName('datasetName');

export const roleArn = z.string().min(20, 'roleArn must be at least 20 characters').max(2048);
export const resourceArn = z.string().min(20, 'resourceArn must be at least 20 characters').max(2048);
export const bucketName = z.string().min(3).max(255).regex(modelPattern('^[a-zA-Z0-9.\\-_]*$'), 'bucket may contain only letters, digits, ".", "-" and "_"');
export const keyPrefix = z.string().min(1).max(255).regex(modelPattern("^[a-zA-Z0-9!_.*'()/{}:-]*/$"), 'keyPrefix must end with "/"');
export const empty = z.strictObject({});
export const nextToken = z.string();
export const maxResults = z.number().int().min(1, 'must be 1-250').max(250, 'must be 1-250');
export const arn = z.string();

/** The times every stored resource reports. */
export const resourceTimes = { creationTime: timestamp.optional(), lastUpdateTime: timestamp.optional() };
/** Channels and datastores also report when data last arrived. */
export const dataTimes = { ...resourceTimes, lastMessageArrivalTime: timestamp.optional() };

/** Resource status of channels, datastores and datasets. */
export const resourceStatus = z.enum(['CREATING', 'ACTIVE', 'DELETING']);

/** TagValue is 1-256 characters in the model: an empty value is refused everywhere. */
export const tag = z.strictObject({
  key: z.string().min(1, 'a tag key must not be empty').max(256),
  value: z.string().min(1, 'a tag value must not be empty (service-2.json TagValue is 1-256 characters)').max(256),
});
export const tagList = z.array(tag).min(1).max(50);

/**
 * The model makes both members optional and says numberOfDays needs unlimited false; the service refuses
 * a period that says neither, so exactly one of `unlimited: true` and `numberOfDays` is required.
 */
export const retentionPeriod = z
  .strictObject({ unlimited: z.boolean().optional(), numberOfDays: z.number().int().min(1, 'numberOfDays must be at least 1').optional() })
  .refine((r) => (r.unlimited === true) !== (r.numberOfDays !== undefined), {
    message: 'give either unlimited: true or numberOfDays, not both and not neither',
  });

export const estimatedResourceSize = z.strictObject({ estimatedSizeInBytes: z.number().optional(), estimatedOn: timestamp.optional() });
export const statistics = z.strictObject({ size: estimatedResourceSize.optional() });

/** nextToken / maxResults of the List* operations (maxResults default 100 in the engine). */
export const listRequest = z.strictObject({ nextToken: nextToken.optional(), maxResults: maxResults.optional() });

/**
 * A member of the model that Hedgerow refuses, with the reason as the error whatever the value (each is
 * listed in model/deviations.ts). T is the model's type for it, so typed callers can still spell it.
 */
export const refused = <T>(reason: string) =>
  z
    .custom<T>(() => false, reason)
    .register(modelFacts, { refused: true })
    .optional();

/** The model's customer-managed S3 location (refused here: no S3). */
export interface CustomerManagedS3 {
  bucket: string;
  keyPrefix?: string;
  roleArn: string;
}

import { z } from 'zod';
import type { PipelineActivity } from '../engine.ts';
import { isAttributeName } from '../names.ts';
import { resourceNameSchema } from '../request-parse.ts';

/** The shapes of the ten pipeline activities, with the limits of service-2.json. */

const MAX_ATTRIBUTES = 50;

const activityName = z.string().min(1).max(128);
const resourceName = resourceNameSchema;
const attributeName = z.string().refine(isAttributeName, {
  message: 'not a valid attribute name (letters, digits, underscores; start with a letter or one underscore)',
});
const next = activityName.optional();

export const activitySchemas = {
  channel: z.object({ name: activityName, channelName: resourceName, next }),
  datastore: z.object({ name: activityName, datastoreName: resourceName }),
  lambda: z.object({
    name: activityName,
    lambdaName: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'use 1-64 letters, digits, "-" or "_" (the module file name)'),
    batchSize: z.number().int().min(1).max(1000),
    next,
  }),
  addAttributes: z.object({
    name: activityName,
    attributes: z
      .record(attributeName, attributeName)
      .refine((m) => Object.keys(m).length >= 1 && Object.keys(m).length <= MAX_ATTRIBUTES, `give 1-${MAX_ATTRIBUTES} attributes`),
    next,
  }),
  removeAttributes: z.object({ name: activityName, attributes: z.array(attributeName).min(1).max(MAX_ATTRIBUTES), next }),
  selectAttributes: z.object({ name: activityName, attributes: z.array(attributeName).min(1).max(MAX_ATTRIBUTES), next }),
  filter: z.object({ name: activityName, filter: z.string().min(1).max(256), next }),
  math: z.object({ name: activityName, attribute: attributeName, math: z.string().min(1).max(256), next }),
  deviceRegistryEnrich: z.object({
    name: activityName,
    attribute: attributeName,
    thingName: z.string().min(1).max(256),
    roleArn: z.string().max(2048).default(''),
    next,
  }),
  deviceShadowEnrich: z.object({
    name: activityName,
    attribute: attributeName,
    thingName: z.string().min(1).max(256),
    roleArn: z.string().max(2048).default(''),
    next,
  }),
} as const;

export type ActivityKind = keyof typeof activitySchemas;
export const ACTIVITY_KINDS = Object.keys(activitySchemas) as ActivityKind[];

/** One activity with its kind made explicit, which the rest of the engine switches on. */
export type ParsedActivity = {
  [K in ActivityKind]: { kind: K; name: string; next: string | undefined; spec: z.output<(typeof activitySchemas)[K]> };
}[ActivityKind];

export const pipelineActivitySchema = z
  .object(Object.fromEntries(ACTIVITY_KINDS.map((k) => [k, activitySchemas[k].optional()])) as {
    [K in ActivityKind]: z.ZodOptional<(typeof activitySchemas)[K]>;
  })
  .superRefine((activity, ctx) => {
    const set = ACTIVITY_KINDS.filter((k) => activity[k] !== undefined);
    if (set.length !== 1) {
      ctx.addIssue({ code: 'custom', message: `set exactly one of ${ACTIVITY_KINDS.join(', ')} (found ${set.length})` });
    }
  })
  .transform((activity): ParsedActivity => {
    const kind = ACTIVITY_KINDS.find((k) => activity[k] !== undefined)!;
    const spec = activity[kind]!;
    return { kind, name: spec.name, next: 'next' in spec ? spec.next : undefined, spec } as ParsedActivity;
  });

/** Back to the wire shape, as DescribePipeline returns it. */
export function toPipelineActivity(activity: ParsedActivity): PipelineActivity {
  return { [activity.kind]: activity.spec } as PipelineActivity;
}

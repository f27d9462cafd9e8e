import type { z } from 'zod';
import type { PipelineActivity } from '../engine.ts';
import { ACTIVITY_KINDS, activitySchemas, pipelineActivity, type ActivityKind } from '../../model/pipelines.ts';

/** The ten pipeline activities' shapes are the API model's (cloud/model/pipelines.ts); here they get their kind made explicit. */

export { ACTIVITY_KINDS, activitySchemas, type ActivityKind };

/** One activity with its kind made explicit, which the rest of the engine switches on. */
export type ParsedActivity = {
  [K in ActivityKind]: { kind: K; name: string; next: string | undefined; spec: z.output<(typeof activitySchemas)[K]> };
}[ActivityKind];

export const pipelineActivitySchema = pipelineActivity.transform((activity): ParsedActivity => {
  const kind = ACTIVITY_KINDS.find((k) => activity[k] !== undefined)!;
  const spec = activity[kind]!;
  return { kind, name: spec.name, next: 'next' in spec ? spec.next : undefined, spec } as ParsedActivity;
});

/** Back to the wire shape, as DescribePipeline returns it. */
export function toPipelineActivity(activity: ParsedActivity): PipelineActivity {
  return { [activity.kind]: activity.spec } as PipelineActivity;
}

import type { Logger } from 'pino';
import { isBinaryMessage, type RefusalSink } from '../binary-messages.ts';
import type { ParsedActivity } from './activity-schema.ts';
import { addAttributesStep, removeAttributesStep, selectAttributesStep } from './attribute-activities.ts';
import { enrichStep, type ThingDirectory } from './enrich-activities.ts';
import { filterStep, mathStep } from './expression-activities.ts';
import { lambdaStep } from './lambda-activity.ts';
import type { LambdaHost } from './lambda-host.ts';
import type { ActivityStep } from './step.ts';

export interface ActivityContext {
  lambdas: LambdaHost;
  things: ThingDirectory;
  log: Logger;
  /** Throw activity failures instead of logging them (RunPipelineActivity). */
  strict?: boolean;
  /** Told when an activity drops messages it failed on (counted in /metrics). */
  onFailure?: (activity: string) => void;
}

/**
 * Compiles one activity into a step; throws InvalidRequestException for a bad expression or a missing
 * lambda module. Channel and datastore activities are the pipeline's ends, not steps: they give null.
 */
export function compileActivity(activity: ParsedActivity, context: ActivityContext): ActivityStep | null {
  switch (activity.kind) {
    case 'channel':
    case 'datastore':
      return null;
    case 'addAttributes':
      return addAttributesStep(activity.name, activity.spec.attributes);
    case 'removeAttributes':
      return removeAttributesStep(activity.name, activity.spec.attributes);
    case 'selectAttributes':
      return selectAttributesStep(activity.name, activity.spec.attributes);
    case 'filter':
      return filterStep(activity.name, activity.spec.filter);
    case 'math':
      return mathStep(activity.name, activity.spec.attribute, activity.spec.math);
    case 'lambda':
      return lambdaStep(activity.name, activity.spec, context.lambdas, context.log, context.strict, context.onFailure);
    case 'deviceRegistryEnrich':
      return enrichStep(activity.name, 'registry', activity.spec, context.things);
    case 'deviceShadowEnrich':
      return enrichStep(activity.name, 'shadow', activity.spec, context.things);
  }
}

/**
 * Runs a batch through the steps in order, awaiting only the steps that return a promise. Binary
 * messages reach only lambda steps: before any other step, and at the datastore, they are taken out
 * and reported to `refused`.
 */
export async function runSteps(steps: readonly ActivityStep[], batch: Record<string, unknown>[], refused: RefusalSink = () => {}): Promise<Record<string, unknown>[]> {
  let current = batch;
  for (const step of steps) {
    if (!step.takesBinary) current = withoutBinary(current, step.name, refused);
    if (current.length === 0) break;
    const result = step.run(current);
    current = result instanceof Promise ? await result : result;
  }
  return withoutBinary(current, 'datastore', refused);
}

function withoutBinary(batch: Record<string, unknown>[], activity: string, refused: RefusalSink): Record<string, unknown>[] {
  // Most batches hold none: scan once and copy only when there is something to take out.
  if (!batch.some(isBinaryMessage)) return batch;
  const kept = batch.filter((message) => !isBinaryMessage(message));
  refused(activity, batch.length - kept.length);
  return kept;
}

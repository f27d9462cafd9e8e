import { compileFilter, compileMath } from '../expression/evaluate.ts';
import type { ActivityStep, PipelineMessage } from './step.ts';

/** filter and math: the expression is compiled once, when the pipeline is created or updated. */

export function filterStep(name: string, filter: string): ActivityStep {
  const keep = compileFilter(filter, `filter activity "${name}"`);
  return { name, run: (batch) => batch.filter(keep) };
}

export function mathStep(name: string, attribute: string, math: string): ActivityStep {
  const compute = compileMath(math, `math activity "${name}"`);
  return {
    name,
    run(batch: PipelineMessage[]) {
      for (const message of batch) message[attribute] = compute(message);
      return batch;
    },
  };
}

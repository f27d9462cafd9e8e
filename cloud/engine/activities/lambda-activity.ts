import type { Logger } from 'pino';
import { isBinaryMessage } from '../binary-messages.ts';
import { messageProblem } from '../names.ts';
import { LambdaError, type LambdaHost } from './lambda-host.ts';
import type { ActivityStep, PipelineMessage } from './step.ts';

/**
 * The lambda activity: hands the batch to the module in chunks of `batchSize` and passes on what it
 * returns. A chunk whose lambda fails or times out is dropped and logged, as IoT Analytics did; when
 * `strict` (RunPipelineActivity) the failure is thrown so the caller sees the reason.
 */
export function lambdaStep(
  name: string,
  spec: { lambdaName: string; batchSize: number },
  host: LambdaHost,
  log: Logger,
  strict = false,
  onFailure: (activity: string) => void = () => {},
): ActivityStep {
  host.resolve(spec.lambdaName);
  return {
    name,
    takesBinary: true,
    async run(batch) {
      const out: PipelineMessage[] = [];
      for (let i = 0; i < batch.length; i += spec.batchSize) {
        const chunk = batch.slice(i, i + spec.batchSize);
        try {
          const result = await host.invoke(spec.lambdaName, chunk);
          out.push(...checkResult(result, name));
        } catch (error) {
          if (strict || !(error instanceof LambdaError)) throw error;
          onFailure(name);
          log.warn({ activity: name, lambda: spec.lambdaName, dropped: chunk.length, reason: error.message }, 'lambda activity failed; its messages were dropped');
        }
      }
      return out;
    },
  };
}

function checkResult(result: unknown, name: string): PipelineMessage[] {
  if (!Array.isArray(result)) throw new LambdaError(`lambda activity "${name}" must return an array of messages`);
  const messages: PipelineMessage[] = [];
  for (const item of result) {
    // Handing bytes back undecoded is allowed; the next activity refuses them as it would have.
    if (item !== null && typeof item === 'object' && isBinaryMessage(item as PipelineMessage)) {
      messages.push(item as PipelineMessage);
      continue;
    }
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new LambdaError(`lambda activity "${name}" returned something that is not a message object`);
    }
    const problem = messageProblem(item as PipelineMessage);
    if (problem) throw new LambdaError(`lambda activity "${name}" returned a message whose ${problem}`);
    messages.push(item as PipelineMessage);
  }
  return messages;
}

/** A message as it moves through a pipeline: a JSON object the activities may change in place. */
export type PipelineMessage = Record<string, unknown>;

/**
 * One compiled activity. Most steps are synchronous; only lambda returns a promise, and the runner
 * awaits only when it gets one, so a pipeline without lambda costs no promise per activity.
 */
export interface ActivityStep {
  readonly name: string;
  /** True for lambda only: it takes binary messages (`{ payload: <bytes> }`); the runner keeps them from every other step. */
  readonly takesBinary?: boolean;
  run(batch: PipelineMessage[]): PipelineMessage[] | Promise<PipelineMessage[]>;
}

import type { EdgeInput, EdgeListener } from '../../hardware/edge-input.ts';

/** An edge input the test fires by hand: `emit(at)` delivers one edge stamped `at`. */
export class FakeEdgeInput implements EdgeInput {
  readonly name = 'fake input';
  private listener: EdgeListener | undefined;

  async start(onEdge: EdgeListener): Promise<void> {
    this.listener = onEdge;
  }

  async stop(): Promise<void> {
    this.listener = undefined;
  }

  get started(): boolean {
    return this.listener !== undefined;
  }

  emit(...times: number[]): void {
    for (const at of times) this.listener?.(at);
  }
}

import { Debouncer } from './debouncer.ts';
import type { EdgeInput } from './edge-input.ts';

export interface EdgeCount {
  /** Debounced edges since the last take. */
  edges: number;
  /** Edges dropped as contact bounce since the last take. */
  bounces: number;
}

/**
 * Counts the debounced edges of one input between takes: the part the anemometer and the rain gauge
 * share. `onCounted` sees each edge that counts, for the anemometer's gust windows.
 */
export class EdgeCounter {
  private readonly debouncer: Debouncer;
  private edges = 0;
  private bounces = 0;

  constructor(
    private readonly input: EdgeInput,
    debounceMs: number,
    private readonly onCounted?: (atMs: number) => void,
  ) {
    this.debouncer = new Debouncer(debounceMs);
  }

  async start(): Promise<void> {
    this.debouncer.reset();
    this.take();
    await this.input.start((atMs) => {
      if (!this.debouncer.accept(atMs)) {
        this.bounces++;
        return;
      }
      this.edges++;
      this.onCounted?.(atMs);
    });
  }

  stop(): Promise<void> {
    return this.input.stop();
  }

  /** The count since the last take; starts a new count. */
  take(): EdgeCount {
    const count = { edges: this.edges, bounces: this.bounces };
    this.edges = 0;
    this.bounces = 0;
    return count;
  }
}

/**
 * A GPIO input that reports falling edges (a reed switch closing against its pull-up). Two
 * implementations: `OnoffEdgeInput` (sysfs GPIO through onoff) and `VirtualEdgeInput` (edges generated
 * from a rate). Edges arrive raw, bounces included; the counters debounce them in software.
 */
export type EdgeListener = (atMs: number) => void;

export interface EdgeInput {
  /** Human name used in messages, e.g. "anemometer (BCM 5)". */
  readonly name: string;
  /** Starts reporting edges to `onEdge`, each with its time in epoch ms, in time order. */
  start(onEdge: EdgeListener): Promise<void>;
  /** Stops reporting and releases the pin. Safe to call when not started. */
  stop(): Promise<void>;
}

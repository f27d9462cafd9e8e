/**
 * Software debounce for reed switches. The first edge is taken and every edge within `windowMs` after
 * it is dropped as contact bounce. The window runs from the last *accepted* edge, not the last seen
 * one, so a steady stream of edges faster than the window (a fast anemometer) still counts at the
 * window's rate instead of being swallowed whole.
 */

/** A rain gauge bucket bounces for tens of ms and tips at most a few times a second in a cloudburst. */
export const RAIN_DEBOUNCE_MS = 300;
/** The anemometer closes twice per turn: at 1 ms it still counts up to 500 edges/s (~600 km/h). */
export const WIND_DEBOUNCE_MS = 1;

export class Debouncer {
  private lastAccepted: number | undefined;

  constructor(readonly windowMs: number) {
    if (!(windowMs >= 0)) throw new RangeError(`debounce window must be 0 ms or more, got ${windowMs}`);
  }

  /** True when the edge at `atMs` counts; false when it is bounce. */
  accept(atMs: number): boolean {
    if (this.lastAccepted !== undefined && atMs - this.lastAccepted < this.windowMs) return false;
    this.lastAccepted = atMs;
    return true;
  }

  reset(): void {
    this.lastAccepted = undefined;
  }
}

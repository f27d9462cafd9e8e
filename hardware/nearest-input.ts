/**
 * Virtual sensors run a driver's compensation backwards: the raw ADC count that the datasheet maths
 * turns into a wanted physical value. The maths is integer and monotonic, so a bisection finds it.
 */

/** The integer in lo..hi whose f (non-decreasing over lo..hi) is nearest `target`. */
export function nearestInput(lo: number, hi: number, f: (x: number) => number, target: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = Math.floor((a + b) / 2);
    if (f(mid) < target) a = mid + 1;
    else b = mid;
  }
  return a > lo && Math.abs(f(a - 1) - target) <= Math.abs(f(a) - target) ? a - 1 : a;
}

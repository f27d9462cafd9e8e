import { describe, expect, it } from 'vitest';
import { Debouncer, RAIN_DEBOUNCE_MS, WIND_DEBOUNCE_MS } from '../../hardware/debouncer.ts';

describe('Debouncer', () => {
  it('uses 300 ms for rain and 1 ms for wind by default', () => {
    expect(RAIN_DEBOUNCE_MS).toBe(300);
    expect(WIND_DEBOUNCE_MS).toBe(1);
  });

  it('takes the first edge and drops bounces inside the window', () => {
    const debouncer = new Debouncer(300);
    const taken = [1000, 1002, 1010, 1299, 1300, 1450, 1700].filter((t) => debouncer.accept(t));
    expect(taken).toEqual([1000, 1300, 1700]);
  });

  it('measures the window from the last accepted edge, so a fast steady stream still counts', () => {
    const debouncer = new Debouncer(1);
    const edges = Array.from({ length: 100 }, (_, i) => i * 0.5);
    expect(edges.filter((t) => debouncer.accept(t))).toHaveLength(50);
  });

  it('forgets the last edge on reset', () => {
    const debouncer = new Debouncer(300);
    expect(debouncer.accept(0)).toBe(true);
    expect(debouncer.accept(100)).toBe(false);
    debouncer.reset();
    expect(debouncer.accept(100)).toBe(true);
  });

  it('with a 0 ms window takes every edge', () => {
    const debouncer = new Debouncer(0);
    expect([5, 5, 5].map((t) => debouncer.accept(t))).toEqual([true, true, true]);
  });

  it('rejects a negative window', () => {
    expect(() => new Debouncer(-1)).toThrow(RangeError);
  });
});

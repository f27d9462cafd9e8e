import { describe, expect, it } from 'vitest';
import { VirtualEdgeInput } from '../../hardware/virtual-edge-input.ts';
import type { VirtualEdgeInputOptions } from '../../hardware/virtual-edge-input.ts';
import { ManualClock } from './manual-clock.ts';

/** Starts a virtual input at `startMs`, runs it for `runMs` and returns the edges it gave. */
async function edgesOf(
  options: Omit<VirtualEdgeInputOptions, 'name' | 'clock'>,
  runMs: number,
  startMs = 0,
): Promise<{ edges: number[]; input: VirtualEdgeInput; clock: ManualClock }> {
  const clock = new ManualClock(startMs);
  const input = new VirtualEdgeInput({ name: 'test', clock, ...options });
  const edges: number[] = [];
  await input.start((at) => edges.push(at));
  clock.advance(runMs);
  return { edges, input, clock };
}

describe('VirtualEdgeInput', () => {
  it('spaces edges evenly at a constant rate, each timestamped no later than its tick', async () => {
    const { edges } = await edgesOf({ rate: () => 2 }, 10_000, 1_000_000);
    expect(edges).toHaveLength(20);
    expect(edges[0]).toBeCloseTo(1_000_500, 6);
    expect(edges.at(-1)).toBeCloseTo(1_010_000, 6);
    const gaps = edges.slice(1).map((t, i) => t - edges[i]!);
    for (const gap of gaps) expect(gap).toBeCloseTo(500, 6);
  });

  it('accumulates slow rates across ticks: 0.01 edges/s gives one edge per 100 s', async () => {
    const { edges } = await edgesOf({ rate: () => 0.01 }, 350_000);
    expect(edges.map(Math.round)).toEqual([100_000, 200_000, 300_000]);
  });

  it('follows a changing rate and ignores negative or NaN rates', async () => {
    const rate = (at: number): number => (at < 5_000 ? 10 : at < 10_000 ? -3 : Number.NaN);
    const { edges } = await edgesOf({ rate }, 20_000);
    expect(edges).toHaveLength(50);
    expect(Math.max(...edges)).toBeLessThanOrEqual(5_000);
  });

  it('injects contact bounce after each edge, carrying bounces across a tick boundary', async () => {
    const { edges } = await edgesOf({ rate: () => 1, bounce: { count: 2, spacingMs: 60 } }, 2_200);
    expect(edges.map(Math.round)).toEqual([1_000, 1_060, 1_120, 2_000, 2_060, 2_120]);
  });

  it('honours a longer tick, still stamping each edge at its own time', async () => {
    const { edges } = await edgesOf({ rate: () => 4, tickMs: 1000 }, 2_000);
    expect(edges).toEqual([250, 500, 750, 1000, 1250, 1500, 1750, 2000]);
  });

  it('stops producing edges after stop() and releases its timer', async () => {
    const { edges, input, clock } = await edgesOf({ rate: () => 5 }, 1_000);
    await input.stop();
    clock.advance(5_000);
    expect(edges).toHaveLength(5);
    expect(clock.pending).toBe(0);
  });
});

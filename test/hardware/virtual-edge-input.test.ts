import { describe, expect, it } from 'vitest';
import { VirtualEdgeInput } from '../../hardware/virtual-edge-input.ts';
import { ManualClock } from './manual-clock.ts';

function recorder(): { edges: number[]; onEdge: (at: number) => void } {
  const edges: number[] = [];
  return { edges, onEdge: (at) => edges.push(at) };
}

describe('VirtualEdgeInput', () => {
  it('spaces edges evenly at a constant rate, each timestamped no later than its tick', async () => {
    const clock = new ManualClock(1_000_000);
    const input = new VirtualEdgeInput({ name: 'test', rate: () => 2, clock });
    const { edges, onEdge } = recorder();
    await input.start(onEdge);
    clock.advance(10_000);
    expect(edges).toHaveLength(20);
    expect(edges[0]).toBeCloseTo(1_000_500, 6);
    expect(edges.at(-1)).toBeCloseTo(1_010_000, 6);
    const gaps = edges.slice(1).map((t, i) => t - edges[i]!);
    for (const gap of gaps) expect(gap).toBeCloseTo(500, 6);
  });

  it('accumulates slow rates across ticks: 0.01 edges/s gives one edge per 100 s', async () => {
    const clock = new ManualClock(0);
    const input = new VirtualEdgeInput({ name: 'rain', rate: () => 0.01, clock });
    const { edges, onEdge } = recorder();
    await input.start(onEdge);
    clock.advance(350_000);
    expect(edges.map(Math.round)).toEqual([100_000, 200_000, 300_000]);
  });

  it('follows a changing rate and ignores negative or NaN rates', async () => {
    const clock = new ManualClock(0);
    const rate = (at: number): number => (at < 5_000 ? 10 : at < 10_000 ? -3 : Number.NaN);
    const input = new VirtualEdgeInput({ name: 'test', rate, clock });
    const { edges, onEdge } = recorder();
    await input.start(onEdge);
    clock.advance(20_000);
    expect(edges).toHaveLength(50);
    expect(Math.max(...edges)).toBeLessThanOrEqual(5_000);
  });

  it('injects contact bounce after each edge, carrying bounces across a tick boundary', async () => {
    const clock = new ManualClock(0);
    const input = new VirtualEdgeInput({ name: 'rain', rate: () => 1, clock, bounce: { count: 2, spacingMs: 60 } });
    const { edges, onEdge } = recorder();
    await input.start(onEdge);
    clock.advance(2_200);
    expect(edges.map(Math.round)).toEqual([1_000, 1_060, 1_120, 2_000, 2_060, 2_120]);
  });

  it('stops producing edges after stop() and releases its timer', async () => {
    const clock = new ManualClock(0);
    const input = new VirtualEdgeInput({ name: 'test', rate: () => 5, clock });
    const { edges, onEdge } = recorder();
    await input.start(onEdge);
    clock.advance(1_000);
    await input.stop();
    clock.advance(5_000);
    expect(edges).toHaveLength(5);
    expect(clock.pending).toBe(0);
  });
});

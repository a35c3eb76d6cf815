import { describe, expect, it } from 'vitest';
import { alignGpus, cheapestAssignment } from '../../src/placement/gpu-alignment.js';
import { movesBetween, type AdapterSets } from '../../src/placement/moves.js';
import { Rng } from '../../src/shared/rng.js';

const gpus = (...sets: string[][]): AdapterSets => ({
  gpus: sets.map((ids) => ({ adapters: ids.map((id) => ({ id })) })),
});

describe('moves', () => {
  it('counts adapter-GPU additions per continued or new GPU, and removals per current GPU', () => {
    const current = gpus(['a', 'b'], ['c', 'x'], ['d'], ['x']);
    // GPU 0 continues 0 (gains e), GPU 1 continues 3 (x stays, gains d), GPU 2 is new (c); current 1 and 2 retire
    const next = gpus(['a', 'b', 'e'], ['x', 'd'], ['c']);
    const moves = movesBetween(current, next, [0, 3, null]);
    expect(moves.added).toEqual([
      { gpu: 0, adapters: ['e'] },
      { gpu: 1, adapters: ['d'] },
      { gpu: 2, adapters: ['c'] },
    ]);
    expect(moves.removed).toEqual([
      { gpu: 1, adapters: ['c', 'x'] },
      { gpu: 2, adapters: ['d'] },
    ]);
    expect(moves.count).toBe(3);
    expect(moves.gpuMap).toEqual([
      { gpu: 0, previous: 0 },
      { gpu: 1, previous: 3 },
      { gpu: 2, previous: null },
    ]);
  });

  it("does not count a split adapter's share on a GPU that already held it", () => {
    const current = gpus(['hot', 'a'], ['hot'], ['b']);
    const next = gpus(['hot', 'a'], ['hot', 'b'], ['hot']);
    expect(movesBetween(current, next, [0, 1, 2]).added).toEqual([
      { gpu: 1, adapters: ['b'] },
      { gpu: 2, adapters: ['hot'] },
    ]);
  });

  it('aligns a renumbered placement with its predecessor so that nothing moves', () => {
    const current = gpus(['a', 'b'], ['c'], ['d', 'e', 'f']);
    const shuffled = gpus(['d', 'e', 'f'], ['a', 'b'], ['c'], ['g']);
    const previous = alignGpus(current, shuffled);
    expect(previous).toEqual([2, 0, 1, null]);
    expect(movesBetween(current, shuffled, previous).count).toBe(1);
  });

  it('finds a minimum-cost assignment (checked against every permutation)', () => {
    const rng = new Rng(11, 4);
    const permutations = (n: number): number[][] =>
      n === 0
        ? [[]]
        : permutations(n - 1).flatMap((p) =>
            Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]),
          );
    for (let trial = 0; trial < 20; trial++) {
      const n = 1 + rng.int(5);
      const cost = Array.from({ length: n }, () => Array.from({ length: n }, () => rng.int(7) - 3));
      const total = (columns: number[]): number => columns.reduce((s, c, row) => s + cost[row]![c]!, 0);
      const columns = cheapestAssignment(cost);
      expect([...columns].sort()).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(total(columns)).toBe(Math.min(...permutations(n).map(total)));
    }
  });
});

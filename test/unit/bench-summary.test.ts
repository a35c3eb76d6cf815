import { describe, expect, it } from 'vitest';
import { bestKnownGpus, suiteSummary, type SuiteRow } from '../../src/bench/place.js';

/** A suite row with everything verified at `gpus` unless overridden. */
function row(
  lowerBound: number,
  over: {
    tight?: number;
    nextFit?: [number, number];
    rateBalancing?: number | null;
    dlora?: number | null;
    roundRobin?: number | null;
  } = {},
): SuiteRow {
  const base = (gpus: number | null | undefined) => ({
    gpus: gpus === undefined ? 99 : gpus,
    tried: [],
    simulated: 0,
    limit: 40,
  });
  const [nfGpus, nfStarved] = over.nextFit ?? [99, 0];
  return {
    name: 'w',
    model: 'm',
    adapters: 10,
    demand: 1,
    lowerBound,
    ours: { gpus: 99, starved: 0, memoryErrors: 0, starvedAdapters: 0, rounds: 1, unplaced: 0, shareError: 0 },
    oursPackedGpus: 99,
    oursTight: { gpus: over.tight ?? 99, headroom: 0, minServedFraction: 0.9, starvedAdapters: 0 },
    placeMs: 1,
    nextFit: { gpus: nfGpus, starved: nfStarved, memoryErrors: 0 },
    rateBalancing: base(over.rateBalancing),
    dlora: base(over.dlora),
    roundRobin: base(over.roundRobin),
  };
}

describe('bench place summary: fewest GPUs any method verified', () => {
  it(
    'takes the smallest verified count and skips a next-fit ' + 'with a starved GPU and baselines that never verified',
    () => {
      expect(bestKnownGpus(row(2, { tight: 5, rateBalancing: 4, dlora: null, roundRobin: 6 }))).toBe(4);
      expect(
        bestKnownGpus(row(2, { tight: 5, nextFit: [3, 1], rateBalancing: null, dlora: null, roundRobin: null })),
      ).toBe(5);
      expect(bestKnownGpus(row(2, { tight: 5, nextFit: [3, 0] }))).toBe(3);
    },
  );

  it('reports the median ratio to the bound and how many workloads some method placed within 1.1 x of it', () => {
    const s = suiteSummary([row(10, { tight: 11 }), row(10, { roundRobin: 12 }), row(4, { dlora: 6 })]);
    expect(s.medianBestKnownBoundRatio).toBeCloseTo(1.2, 9);
    expect(s.bestKnownWithinBar).toBe(1);
  });
});

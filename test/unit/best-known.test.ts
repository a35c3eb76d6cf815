import { describe, expect, it } from 'vitest';
import { bestKnownSearch } from '../../src/bench/best-known.js';
import {
  benchSlos,
  bestKnownAtSlo,
  formatSloSuite,
  sloSummaries,
  type BenchSlo,
  type SloSuiteRow,
} from '../../src/bench/place-slo.js';
import type { BaselineOutcome } from '../../src/bench/place.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { parseWorkload, place, type GpuSimulator } from '../../src/placement/index.js';
import { Rng } from '../../src/shared/rng.js';
import { simulateParsed, type ParsedScenario } from '../../src/twin/index.js';

const llama = PredictorRegistry.fromDirectory(embeddedProfiles()).get('llama-3.1-8b-instruct', 'h100-64gb');

function workload(): ReturnType<typeof parseWorkload> {
  const rng = new Rng(4, 9);
  const weights = Array.from({ length: 80 }, () => rng.gamma(0.5) + 1e-9);
  const sum = weights.reduce((s, x) => s + x, 0);
  return parseWorkload({
    model: 'llama-3.1-8b-instruct',
    gpu: 'h100-64gb',
    adapters: weights.map((x, i) => ({
      id: `a${i}`,
      rank: [8, 16][i % 2]!,
      rate: Math.round((1e6 * 100 * x) / sum) / 1e6,
    })),
    engine: { maxNumSeqs: 2048, maxNumBatchedTokens: 2048 },
    verify: true,
    // the research rule: the stand-in Twin below decides by its starvation verdicts alone
    criterion: 'throughput',
    options: { verifyDurationS: 30, descend: false },
  });
}

const rateOf = (s: ParsedScenario): number => s.adapters.reduce((sum, a) => sum + a.rate, 0);

/** Short Twin runs whose starvation verdict is "more than `limit` req/s on the GPU". */
function standIn(limit: () => number, seen: ParsedScenario[][]): GpuSimulator {
  return async (scenarios) => {
    seen.push(scenarios);
    return scenarios.map((s) => ({ ...simulateParsed(s, llama.profile), starved: rateOf(s) > limit() + 1e-9 }));
  };
}

describe('best-known search (benchmark)', () => {
  it('finds fewer GPUs than ours when the Twin accepts them, every share still adding up to its rate', async () => {
    const w = workload();
    let limit = Infinity;
    const seen: ParsedScenario[][] = [];
    const simulate = standIn(() => limit, seen);
    const ours = await place(w, llama, { simulate });
    const total = w.adapters.reduce((s, a) => s + a.rate, 0);
    expect(ours.gpuCount).toBeGreaterThan(ours.lowerBound);
    // the stand-in now accepts up to 5 % over an even share of two GPUs fewer (at least the lower bound)
    const target = Math.max(ours.lowerBound, ours.gpuCount - 2);
    limit = (1.05 * total) / target;
    seen.length = 0;
    const found = await bestKnownSearch(w, llama, ours, simulate, 60_000, 1);
    expect(found.gpus).not.toBeNull();
    expect(found.gpus!).toBeLessThanOrEqual(target);
    expect(found.gpus!).toBeGreaterThanOrEqual(Math.ceil(total / limit));
    expect(found.tried[0]).toEqual({ gpus: ours.gpuCount - 1, ok: true });
    expect(found.simulated).toBe(seen.reduce((n, batch) => n + batch.length, 0));
    // every batch the search judged routes each adapter's whole rate, no GPU holds two shares of one adapter
    for (const batch of seen.filter((b) => b.length > 2)) {
      const routed = new Map<string, number>();
      for (const s of batch) {
        expect(new Set(s.adapters.map((a) => a.id)).size).toBe(s.adapters.length);
        for (const a of s.adapters) routed.set(a.id, (routed.get(a.id) ?? 0) + a.rate);
      }
      for (const a of w.adapters) expect(routed.get(a.id)).toBeCloseTo(a.rate, 9);
    }
  });

  it('keeps our count when one fewer cannot be reached, within its time budget', async () => {
    const w = workload();
    let limit = Infinity;
    const simulate = standIn(() => limit, []);
    const ours = await place(w, llama, { simulate });
    const total = w.adapters.reduce((s, a) => s + a.rate, 0);
    limit = (0.98 * total) / (ours.gpuCount - 1);
    const started = Date.now();
    const found = await bestKnownSearch(w, llama, ours, simulate, 3000, 1);
    expect(found.gpus).toBe(ours.gpuCount);
    expect(found.tried).toEqual([{ gpus: ours.gpuCount - 1, ok: false }]);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('equal-SLO summary (benchmark)', () => {
  const outcome = (gpus: number | null, limit = 8): BaselineOutcome => ({ gpus, tried: [], simulated: 0, limit });
  const row = (
    ours: number,
    rateBal: number | null,
    searched: number | null,
    slo: BenchSlo = benchSlos[0],
    grid: number | null = rateBal,
  ): SloSuiteRow => ({
    name: 'w',
    model: 'm',
    adapters: 10,
    slo,
    lowerBound: 1,
    ours: { gpus: ours, met: true, gpusMissing: 0, unplaced: 0, placeS: 1, shareError: 0 },
    fresh: { seeds: 1, gpusOver: 0, starvedAdapters: 0 },
    rateBalancing: outcome(rateBal),
    balancedGrid: { ...outcome(grid), maxLoras: grid === rateBal ? null : 16 },
    dynamo: outcome(null),
    dlora: outcome(ours + 1),
    roundRobin: outcome(ours + 2),
    nextFit: { gpus: 1, failing: 1 },
    bestKnown: searched === null ? null : { gpus: searched, tried: [], simulated: 0, searchS: 1 },
  });

  it(
    'counts a baseline that never met the SLO as its limit + 1 ' +
      'and the best known as the fewest any method reached',
    () => {
      const rows = [row(4, 4, 3), row(4, null, 4), row(10, 8, null), row(2, 2, 2, benchSlos[1])];
      const [first, second] = sloSummaries(rows);
      expect(first!.workloads).toBe(3);
      // savings vs rate balancing: 0, 1 - 4/9, 1 - 10/8: the median is 0
      expect(first!.medianSavingVsRateBalancing).toBeCloseTo(0, 9);
      // the best known: 3 (search), 4 (ours), 8 (rate balancing beats ours): savings 0.25, 1 - 4/9, 0
      expect(first!.medianBestKnownSavingVsRateBalancing).toBeCloseTo(0.25, 9);
      expect(first!.searched).toBe(2);
      expect(first!.equalToBestKnown).toBe(1);
      expect(first!.maxAboveBestKnown).toBe(1);
      expect(bestKnownAtSlo(rows[2]!)).toBe(8);
      expect(second!.workloads).toBe(1);
      expect(second!.equalToBestKnown).toBe(1);
      // ours 10 against rate balancing's 8 (a slot per adapter, so also the best spread)
      expect(first!.aboveBalancedGrid).toBe(1);
    },
  );

  it('counts the workloads where ours needs more GPUs than the best load-balanced spread', () => {
    const rows = [row(4, 4, null, benchSlos[0], 3), row(5, 6, null, benchSlos[0], 5), row(3, null, null)];
    const [first] = sloSummaries(rows);
    expect(first!.aboveBalancedGrid).toBe(1);
    expect(bestKnownAtSlo(rows[0]!)).toBe(3);
    expect(formatSloSuite(rows)).toMatch(/\b3@16\b/);
  });
});

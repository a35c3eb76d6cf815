import { describe, expect, it } from 'vitest';
import { computeFeatures, type WorkloadShape } from '../../src/ml/features.js';
import { TwinEstimator } from '../../src/ml/twin-estimator.js';
import { embeddedProfiles, kvCapacityTokens } from '../../src/profiles/index.js';
import { AppError } from '../../src/shared/errors.js';
import { defaultWorkLimits } from '../../src/shared/work-limits.js';
import { parseScenario, simulateParsed } from '../../src/twin/index.js';

const profile = embeddedProfiles().get('llama-3.1-8b-instruct', 'h100-64gb');

/** One GPU's shape as placement asks about it: `n` adapters of rank 8 sharing `rate` req/s, 8 slots. */
function shape(n: number, rate: number): WorkloadShape {
  return {
    rates: Array.from({ length: n }, (_, i) => (rate * (n - i)) / ((n * (n + 1)) / 2)),
    ratesDescending: true,
    ranks: Array.from({ length: n }, () => 8),
    slots: 8,
    servedAdapters: n,
    maxLoraRank: 8,
    inputMean: 223,
    outputMean: 196,
    kvCacheTokens: kvCapacityTokens(profile, 8, 8),
    maxNumBatchedTokens: 2048,
    maxNumSeqs: 256,
  };
}

const estimate = (e: TwinEstimator, s: WorkloadShape) => e.estimate(s, computeFeatures(profile, s));

/** The one-hour Twin run the estimate stands for: the shape's scenario, 3,600 s. */
function hourOf(s: WorkloadShape, seed: number) {
  const scenario = parseScenario({
    model: profile.model,
    gpu: profile.gpu,
    engine: { maxLoras: s.slots, maxLoraRank: s.maxLoraRank, maxNumBatchedTokens: 2048, maxNumSeqs: 256 },
    adapters: Array.from(s.rates, (rate, i) => ({ id: `a${i}`, rank: s.ranks[i]!, rate })),
    inputTokens: { mean: s.inputMean },
    outputTokens: { mean: s.outputMean },
    durationS: 3600,
    seed,
  });
  return simulateParsed(scenario, profile);
}

describe('the Twin estimator (a profile without predictors)', () => {
  it('reads a short run as the one-hour run would: served fraction, starvation and latencies', () => {
    const e = new TwinEstimator(profile, { seed: 0, limits: defaultWorkLimits });
    const servedFraction = (s: WorkloadShape, throughput: number) => throughput / computeFeatures(profile, s)[9]!;
    // 12 adapters on 8 slots: keeps up, cold adapters waiting seconds for a slot
    const light = shape(12, 12);
    const f = estimate(e, light);
    const hour = hourOf(light, 11);
    expect(Math.abs(servedFraction(light, f.throughput) - hour.throughput.total / hour.idealThroughput)).toBeLessThan(
      0.03,
    );
    expect(f.starved).toBe(false);
    expect(f.starvationProbability).toBeLessThan(0.05);
    expect(f.ttftMs / hour.ttftMs!.mean).toBeGreaterThan(0.6);
    expect(f.ttftMs / hour.ttftMs!.mean).toBeLessThan(1.4);
    expect(Math.abs(f.itlMs / hour.itlMs!.mean - 1)).toBeLessThan(0.1);
    // 2.5 times that traffic: completes about 80 % of it
    const heavy = shape(12, 30);
    const g = estimate(e, heavy);
    const heavyHour = hourOf(heavy, 12);
    expect(heavyHour.starved).toBe(true);
    expect(g.starved).toBe(true);
    expect(g.starvationProbability).toBeGreaterThan(0.95);
    const hourFraction = heavyHour.throughput.total / heavyHour.idealThroughput;
    expect(Math.abs(servedFraction(heavy, g.throughput) - hourFraction)).toBeLessThan(0.05);
  });

  it('is deterministic for a seed, remembers a shape it has run, and says what it cost', () => {
    const s = shape(6, 8);
    const a = new TwinEstimator(profile, { seed: 3, limits: defaultWorkLimits });
    const b = new TwinEstimator(profile, { seed: 3, limits: defaultWorkLimits });
    const first = estimate(a, s);
    expect(estimate(b, s)).toEqual(first);
    expect(estimate(a, { ...s, rates: Array.from(s.rates) })).toEqual(first);
    const other = estimate(new TwinEstimator(profile, { seed: 4, limits: defaultWorkLimits }), s);
    expect(other.ttftP99Ms).not.toBe(first.ttftP99Ms);
    const cost = a.cost();
    expect(cost).toMatchObject({ runs: 1, reused: 1 });
    expect(cost.simulatedRequests).toBeGreaterThan(500);
    expect(cost.note).toContain('llama-3.1-8b-instruct@h100-64gb');
    expect(a.version).toMatch(/^twin-v1-[0-9a-f]{16}$/);
  });

  it('answers /v1/predict questions, a memory error without a run', () => {
    const e = new TwinEstimator(profile, { seed: 0, limits: defaultWorkLimits });
    const p = e.predict(
      parseScenario({
        model: profile.model,
        gpu: profile.gpu,
        engine: { maxLoras: 4 },
        adapters: [{ id: 'x', rank: 8, rate: 2 }],
      }),
    );
    expect(p).toMatchObject({ estimator: 'twin', memoryError: false, starved: false, modelVersion: e.version });
    expect(p.throughput! / p.idealThroughput).toBeGreaterThan(0.95);
    expect(p.twinEstimate?.runs).toBe(1);
    const tooMany = e.predict(
      parseScenario({
        model: profile.model,
        gpu: profile.gpu,
        engine: { maxLoras: 4096, maxLoraRank: 512 },
        adapters: [{ id: 'x', rank: 8, rate: 2 }],
      }),
    );
    expect(tooMany.memoryError).toBe(true);
    expect(e.cost().runs).toBe(1);
  });

  it('stops with 413 naming MAX_VERIFIED_REQUESTS when its runs would exceed the limit', () => {
    const e = new TwinEstimator(profile, { seed: 0, limits: { ...defaultWorkLimits, maxVerifiedRequests: 5000 } });
    estimate(e, shape(4, 10));
    try {
      estimate(e, shape(5, 10));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('LP_ERR_TOO_MUCH_WORK');
      expect((err as AppError).details).toMatchObject({ limit: 'MAX_VERIFIED_REQUESTS', allowed: 5000 });
    }
  });
});

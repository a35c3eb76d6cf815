import { describe, expect, it } from 'vitest';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { Rng } from '../../src/shared/rng.js';
import {
  loadRegimeOf,
  parseScenario,
  queuedTtftMs,
  regimeFactorsOf,
  saturatedTtftMs,
  simulateParsed,
  upperBoundsOf,
  type LatencyBoundFactors,
  type RegimeFactors,
} from '../../src/twin/index.js';
import {
  fitFactors,
  fitRegimeFactors,
  leaveOneWorkloadOut,
  type BoundCase,
} from '../../src/validation/bound-calibration.js';
import { conformalQuantile, minConformalScores } from '../../src/validation/conformal.js';

describe('split-conformal quantile', () => {
  it('takes the ceil((n + 1) x coverage)-th smallest score, and none below the finite-sample minimum', () => {
    // 19..1, in any order: (19 + 1) x 0.9 = 18, the 18th smallest
    expect(
      conformalQuantile(
        Array.from({ length: 19 }, (_, i) => 19 - i),
        0.9,
      ),
    ).toBe(18);
    // n = 20: ceil(21 x 0.9) = 19, where the uncorrected ceil(20 x 0.9) would be 18
    expect(
      conformalQuantile(
        Array.from({ length: 20 }, (_, i) => i + 1),
        0.9,
      ),
    ).toBe(19);
    expect(minConformalScores(0.9)).toBe(9);
    expect(conformalQuantile([1, 2, 3, 4, 5, 6, 7, 8, 9], 0.9)).toBe(9);
    expect(conformalQuantile([1, 2, 3, 4, 5, 6, 7, 8], 0.9)).toBe(Infinity);
  });

  it('covers about 90 % of fresh scores drawn like the calibration ones', () => {
    const rng = new Rng(7, 1);
    let covered = 0;
    let trials = 0;
    for (let t = 0; t < 400; t++) {
      // log-normal ratios real / estimate: scores are normal with a bias and a spread
      const draw = () => 0.3 + 0.5 * rng.normal();
      const q = conformalQuantile(
        Array.from({ length: 30 }, () => draw()),
        0.9,
      );
      for (let k = 0; k < 25; k++) {
        trials++;
        if (draw() <= q) covered++;
      }
    }
    // the guarantee is >= 90 % on average, and at most 90 % + 1 / (n + 1) = 93.2 % for continuous scores
    expect(covered / trials).toBeGreaterThan(0.89);
    expect(covered / trials).toBeLessThan(0.94);
  });
});

describe('load regime', () => {
  it('is read from the estimated mean TTFT and starvation', () => {
    expect(loadRegimeOf(queuedTtftMs - 1, false)).toBe('light');
    expect(loadRegimeOf(queuedTtftMs, false)).toBe('queued');
    expect(loadRegimeOf(saturatedTtftMs - 1, false)).toBe('queued');
    expect(loadRegimeOf(saturatedTtftMs, false)).toBe('saturated');
    expect(loadRegimeOf(50, true)).toBe('saturated');
    expect(loadRegimeOf(Number.NaN, false)).toBe('saturated');
  });
});

/** Cases whose real / estimate ratio is exp(score) for all three figures. */
function cases(scores: number[], over: Partial<BoundCase> = {}): BoundCase[] {
  return scores.map((s) => ({
    model: 'm',
    workload: 'w',
    regime: 'light',
    estimate: { ttftP99: 100, itlP99: 10, ttftMean: 50 },
    real: { ttftP99: 100 * Math.exp(s), itlP99: 10 * Math.exp(s), ttftMean: 50 * Math.exp(s) },
    ...over,
  }));
}
const spread = (n: number, from: number, to: number) =>
  Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));

describe('fitting the factors', () => {
  it('fits each regime on its own runs, pools a regime with too few, and never goes below 1', () => {
    const light = cases(spread(19, -0.5, 0.5));
    const queued = cases(spread(19, 0, 1), { regime: 'queued' });
    const few = cases([2, 2, 2], { regime: 'saturated' });
    const f = fitRegimeFactors([...light, ...queued, ...few], 0.9);
    // the 18th of 19 evenly spread scores: 0.5 - 1/18 and 1 - 1/18
    expect(f.light.ttftP99.factor).toBeCloseTo(Math.exp(0.5 - 1 / 18), 2);
    expect(f.queued.itlP99.factor).toBeCloseTo(Math.exp(1 - 1 / 18), 2);
    expect(f.queued.ttftP99.runs).toBe(19);
    expect(f.saturated.ttftMean).toMatchObject({ runs: 41, pooled: true });
    const over = fitRegimeFactors(cases(spread(20, -2, -1)), 0.9);
    expect(over.light.ttftP99.factor).toBe(1);
  });

  it('scores each workload with factors fitted without it (leave-one-workload-out)', () => {
    const calm = ['a', 'b', 'c'].flatMap((w) => cases(spread(12, -0.2, 0.2), { workload: w }));
    const wild = cases(spread(12, 1, 2), { workload: 'd' });
    const lowo = leaveOneWorkloadOut([...calm, ...wild], 0.9);
    const inSample = fitFactors([...calm, ...wild], 0.9);
    const p99 = lowo.find((s) => s.figure === 'ttftP99')!;
    expect(p99.runs).toBe(48);
    // d's ratios (e^1..e^2) exceed every factor fitted on a, b and c; fitted with d included they are covered
    expect(p99.coverage).toBeCloseTo(36 / 48, 5);
    expect(Math.log(inSample.m!.light.ttftP99.factor)).toBeGreaterThan(1.5);
  });
});

const one = (factor: number) => ({ factor, runs: 10 });
const factors = (light: number, queued: number): RegimeFactors => ({
  light: { ttftP99: one(light), itlP99: one(light), ttftMean: one(light) },
  queued: { ttftP99: one(queued), itlP99: one(queued), ttftMean: one(queued) },
  saturated: { ttftP99: one(1), itlP99: one(1), ttftMean: one(1) },
});

describe('upper bounds', () => {
  it('multiply each estimate by the factor of its regime; the worst adapter takes the mean-TTFT factor', () => {
    const f = factors(2, 3);
    expect(
      upperBoundsOf({ ttftMeanMs: 100, ttftP99Ms: 400, itlP99Ms: 30, worstAdapterTtftMs: 120, starved: false }, f),
    ).toEqual({ ttftMeanUpperMs: 200, ttftP99UpperMs: 800, itlP99UpperMs: 60, worstAdapterTtftUpperMs: 240 });
    expect(upperBoundsOf({ ttftMeanMs: 500, ttftP99Ms: null, itlP99Ms: 30, starved: false }, f)).toEqual({
      ttftMeanUpperMs: 1500,
      ttftP99UpperMs: null,
      itlP99UpperMs: 90,
      worstAdapterTtftUpperMs: null,
    });
  });

  it('use the pooled factors for a model the runs do not cover', () => {
    const set = { twin: { pooled: factors(5, 5), m: factors(2, 2) }, students: {} } as unknown as LatencyBoundFactors;
    expect(regimeFactorsOf('twin', 'm', set).light.ttftP99.factor).toBe(2);
    expect(regimeFactorsOf('twin', 'other', set).light.ttftP99.factor).toBe(5);
  });

  it('come with every Twin result and every prediction, at or above their estimates', () => {
    const profiles = embeddedProfiles();
    const profile = profiles.get('llama-3.1-8b-instruct', 'h100-64gb');
    const scenario = parseScenario({
      model: profile.model,
      gpu: profile.gpu,
      engine: { maxLoras: 8, maxLoraRank: 8 },
      adapters: Array.from({ length: 8 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0.5 })),
      durationS: 300,
      report: { perAdapter: true },
    });
    const r = simulateParsed(scenario, profile);
    expect(r.ttftP99UpperMs).toBeGreaterThanOrEqual(r.ttftMs!.p99);
    expect(r.itlP99UpperMs).toBeGreaterThanOrEqual(r.itlMs!.p99);
    expect(r.ttftMeanUpperMs).toBeGreaterThanOrEqual(r.ttftMs!.mean);
    const worst = Math.max(...r.adapters!.map((a) => a.ttftMs!.mean));
    expect(r.worstAdapterTtftUpperMs).toBeGreaterThanOrEqual(worst);
    const { report: _report, ...plain } = scenario;
    const withoutAdapters = simulateParsed(plain, profile);
    expect(withoutAdapters.worstAdapterTtftUpperMs).toBeUndefined();
    expect(withoutAdapters.ttftP99UpperMs).toBeGreaterThanOrEqual(withoutAdapters.ttftMs!.p99);

    const p = PredictorRegistry.fromDirectory(profiles).get(profile.model, profile.gpu).predict(scenario);
    expect(p.ttftP99UpperMs).toBeGreaterThanOrEqual(p.ttftP99Ms!);
    expect(p.itlP99UpperMs).toBeGreaterThanOrEqual(p.itlP99Ms!);
    expect(p.ttftMeanUpperMs).toBeGreaterThanOrEqual(p.ttftMs!);
    expect(p.worstAdapterTtftUpperMs).toBeGreaterThanOrEqual(p.worstAdapterTtftMs!);
    // the committed factors exceed 1 somewhere for this model: the bounds are not the estimates
    expect(p.ttftP99UpperMs).toBeGreaterThan(p.ttftP99Ms!);
    expect(r.ttftP99UpperMs).toBeGreaterThan(r.ttftMs!.p99);
  });
});

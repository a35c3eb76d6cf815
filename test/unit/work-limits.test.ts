import { describe, expect, it } from 'vitest';
import { loadConfig, loadWorkLimits } from '../../src/config.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { checkPlacementWork, parseWorkload, place, SimulationBudget } from '../../src/placement/index.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { AppError } from '../../src/shared/errors.js';
import { jsonWeightExceeds, parseJsonBody } from '../../src/shared/json-body.js';
import { Rng } from '../../src/shared/rng.js';
import { defaultWorkLimits } from '../../src/shared/work-limits.js';
import {
  checkSimulationWork,
  expectedEvents,
  parseScenario,
  resolveLength,
  simulateParsed,
} from '../../src/twin/index.js';
import { testProfile } from '../helpers/profile.js';

const scenario = (over: Record<string, unknown> = {}) =>
  parseScenario({
    model: 'test-model',
    gpu: 'test-gpu',
    engine: { maxLoras: 2 },
    adapters: [
      { id: 'a', rank: 8, rate: 2 },
      { id: 'b', rank: 8, rate: 0 },
    ],
    durationS: 100,
    ...over,
  });

const errorOf = (fn: () => unknown): AppError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected an AppError');
};

describe('work a simulation may ask for', () => {
  it('counts expected requests, trace events and one regime switch per active adapter and period', () => {
    expect(expectedEvents(scenario())).toBe(200);
    expect(expectedEvents(scenario({ arrivals: { process: 'regime', periodS: 10 } }))).toBe(200 + 10);
    expect(
      expectedEvents(
        scenario({ arrivals: { process: 'trace', events: [{ t: 1, adapter: 'a', inputTokens: 5, outputTokens: 5 }] } }),
      ),
    ).toBe(1);
  });

  it('refuses too many simulated seconds or requests with 413 naming the field and the setting', () => {
    const limits = { ...defaultWorkLimits, maxSimulatedRequests: 150, maxSimulatedSeconds: 50 };
    expect(errorOf(() => checkSimulationWork(scenario(), limits)).details).toMatchObject({
      path: 'durationS',
      limit: 'MAX_SIMULATED_SECONDS',
      requested: 100,
    });
    const e = errorOf(() => checkSimulationWork(scenario(), { ...limits, maxSimulatedSeconds: 100 }));
    expect(e.status).toBe(413);
    expect(e.details).toMatchObject({ path: 'adapters', limit: 'MAX_SIMULATED_REQUESTS', requested: 200 });
    expect(() => checkSimulationWork(scenario(), defaultWorkLimits)).not.toThrow();
  });

  it('ends a regime clock at the horizon even for an adapter too slow to ever arrive', () => {
    const slow = scenario({
      adapters: [{ id: 'a', rank: 8, rate: 1e-300 }],
      arrivals: { process: 'regime', periodS: 1 },
      durationS: 1000,
    });
    const r = simulateParsed(slow, testProfile());
    expect(r.arrivedRequests).toBe(0);
  });

  it('stops a simulation whose draws run far past the expected count', () => {
    const bursty = scenario({ adapters: [{ id: 'a', rank: 8, rate: 50 }], durationS: 100 });
    expect(errorOf(() => simulateParsed(bursty, testProfile(), { maxArrivals: 1000 })).code).toBe(
      'LP_ERR_TOO_MUCH_WORK',
    );
  });

  it('refuses adapters whose mean request exceeds max_model_len, naming the length field', () => {
    const profile = testProfile();
    const long = scenario({ adapters: [{ id: 'a', rank: 8, rate: 1, outputTokens: { mean: 5000, std: 0 } }] });
    const e = errorOf(() => simulateParsed(long, profile));
    expect(e.status).toBe(400);
    expect(e.message).toMatch(/adapters\.0\.outputTokens: .*max_model_len 4096/);
  });

  it('draws finite token counts from degenerate length specs', () => {
    const rng = new Rng(1, 1);
    const lognormal = resolveLength({ distribution: 'lognormal', mean: 1e-300, std: 1e6 }, 'input');
    const draws = Array.from({ length: 1000 }, () => lognormal.sampler(rng));
    expect(draws.every((d) => Number.isInteger(d) && d >= 1 && d <= 1e7)).toBe(true);
  });
});

describe('work a placement may ask for', async () => {
  const predictor = PredictorRegistry.fromDirectory(embeddedProfiles()).get('llama-3.1-8b-instruct', 'h100-64gb');
  const workload = (over: Record<string, unknown> = {}) =>
    parseWorkload({
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      adapters: Array.from({ length: 30 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0.5 })),
      ...over,
    });

  it('refuses maxGpus or gpuCount above MAX_GPUS and a first verification pass beyond MAX_VERIFIED_REQUESTS', () => {
    expect(errorOf(() => checkPlacementWork(workload({ maxGpus: 2000 }), defaultWorkLimits)).details).toMatchObject({
      path: 'maxGpus',
      allowed: 1024,
    });
    expect(
      errorOf(() => checkPlacementWork(workload({ objective: 'min-latency', gpuCount: 2000 }), defaultWorkLimits))
        .details,
    ).toMatchObject({ path: 'gpuCount' });
    const verified = workload({ verify: true });
    expect(
      errorOf(() => checkPlacementWork(verified, { ...defaultWorkLimits, maxVerifiedRequests: 50_000 })).details,
    ).toMatchObject({ limit: 'MAX_VERIFIED_REQUESTS', requested: 54_000 });
    expect(() => checkPlacementWork(verified, defaultWorkLimits)).not.toThrow();
  });

  it('spends a simulation budget batch by batch and refuses a batch that does not fit', () => {
    const budget = new SimulationBudget(250);
    expect(budget.spend([scenario()])).toBe(true);
    expect(budget.spend([scenario()])).toBe(false);
    expect(budget.exhausted).toBe(true);
    expect(budget.spend([scenario({ durationS: 25 })])).toBe(true);
  });

  it('stops repairing and descending when the budget runs out, deterministically, and says so', async () => {
    const adapters = Array.from({ length: 60 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 1 }));
    const w = workload({ adapters, verify: true, options: { verifyDurationS: 300 } });
    const firstPass = 60 * 300;
    const limits = { ...defaultWorkLimits, maxVerifiedRequests: firstPass };
    const [a, b] = [await place(w, predictor, { limits }), await place(w, predictor, { limits })];
    expect(a.verification!.budgetExhausted).toBe(true);
    expect(a.gpuCount).toBeGreaterThan(a.lowerBound);
    expect(a.verification!.simulatedGpus).toBe(a.gpuCount);
    const timeless = (p: unknown): string => JSON.stringify(p, (k, v) => (k === 'elapsedMs' || k === 'wallMs' ? 0 : v));
    expect(timeless(a)).toBe(timeless(b));
    expect((await place(w, predictor)).verification!.budgetExhausted).toBe(false);
  });
});

describe('request bodies parsed off the HTTP thread', () => {
  it('weighs documents: values count 1, objects 4', () => {
    expect(jsonWeightExceeds([1, 2, 3], 4)).toBe(false);
    expect(jsonWeightExceeds([1, 2, 3], 3)).toBe(true);
    expect(jsonWeightExceeds({ a: {} }, 9)).toBe(false);
    expect(jsonWeightExceeds({ a: {} }, 8)).toBe(true);
  });

  it('answers empty, malformed and over-heavy bodies with clear 4xx errors', () => {
    expect(errorOf(() => parseJsonBody('  ', 100)).message).toMatch(/empty/);
    expect(errorOf(() => parseJsonBody('{"a":', 100)).message).toMatch(/not valid JSON/);
    expect(errorOf(() => parseJsonBody('{\n  "a": 1,\n}', 100)).message).toContain(
      "not valid JSON (line 2, column 9: trailing comma before '}')",
    );
    expect(errorOf(() => parseJsonBody(JSON.stringify(Array(200).fill(0)), 100)).code).toBe('LP_ERR_BODY_TOO_LARGE');
    expect(parseJsonBody('{"a":1}', 100)).toEqual({ a: 1 });
  });
});

describe('configuration', () => {
  it('takes decimal ports and periods only, and names the bad variable', () => {
    for (const env of [
      { PORT: '' },
      { PORT: '0' },
      { PORT: '0x50' },
      { PORT: '65536' },
      { PORT: ' 80' },
      { MODELS_RELOAD_S: '0.1' },
      { TASK_TIMEOUT_MS: '1e3' },
    ]) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(
        new RegExp(`invalid configuration: ${Object.keys(env)[0]}`),
      );
    }
    const c = loadConfig({ PORT: '8081', POOL_STALE_S: '0', MAX_GPUS: '64' });
    expect([c.PORT, c.POOL_STALE_S, c.MAX_GPUS, c.AUTH_SCOPE]).toEqual([8081, 0, 64, 'expensive']);
  });

  it('gives the CLI the same work limits, ignoring the service-only variables', () => {
    expect(loadWorkLimits({ PORT: 'not a port', MAX_GPUS: '8' })).toEqual({ ...defaultWorkLimits, maxGpus: 8 });
    expect(() => loadWorkLimits({ MAX_GPUS: 'many' })).toThrow(/MAX_GPUS/);
  });
});

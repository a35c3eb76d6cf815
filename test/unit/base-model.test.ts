import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/shared/errors.js';
import { defaultWorkLimits } from '../../src/shared/work-limits.js';
import { embeddedProfiles, kvCapacityWithoutLora } from '../../src/profiles/index.js';
import {
  baseForwardMs,
  checkSimulationWork,
  forwardMs,
  parseScenario,
  resolveScenario,
  simulate,
  type StepShape,
} from '../../src/twin/index.js';
import { loraProfile, testProfile } from '../helpers/profile.js';
import { ev, observe, withoutWall } from '../helpers/twin.js';

/** A request to the base model in a trace (it names no adapter). */
const baseEv = (t: number, inputTokens: number, outputTokens: number) => ({ t, inputTokens, outputTokens });

function pathsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const e = err as AppError;
    expect(e.code).toBe('LP_ERR_INVALID_INPUT');
    return ((e.details as { issues: { path: string }[] }).issues ?? []).map((i) => i.path);
  }
  throw new Error('expected an AppError');
}

describe('base-model traffic', () => {
  it('takes no adapter slot and loads nothing, and counts in every GPU figure', () => {
    const { result, steps } = observe(loraProfile(), {
      engine: { maxLoras: 1 },
      baseModel: { rate: 20, inputTokens: { distribution: 'fixed', mean: 64 } },
      outputTokens: { distribution: 'fixed', mean: 32 },
      durationS: 30,
    });
    expect(result.arrivedRequests).toBeGreaterThan(500);
    expect(result.adapterLoads).toBe(0);
    expect(result.diskLoads).toBe(0);
    expect(result.meanAdaptersInBatch).toBe(0);
    expect(steps.every((s) => s.adapters === 0 && s.loadMs === 0)).toBe(true);
    // one slot, yet base requests share the batch
    expect(Math.max(...steps.map((s) => s.running))).toBeGreaterThan(1);
    expect(result.baseModel!.arrivedRequests).toBe(result.arrivedRequests);
    expect(result.baseModel!.completedRequests).toBe(result.completedRequests);
    expect(result.throughput.total).toBeCloseTo((result.completedRequests * 96) / 30, 9);
    expect(result.ttftMs).not.toBeNull();
    expect(result.starvedAdapters).toEqual([]);
    expect(result.baseModel!.starved).toBe(false);
  });

  it('is admitted while adapters hold every slot, where a cold adapter waits', () => {
    const { requests, steps } = observe(testProfile(), {
      engine: { maxLoras: 1, maxCpuLoras: 2 },
      adapters: [
        { id: 'a', rank: 8, rate: 0 },
        { id: 'b', rank: 8, rate: 0 },
      ],
      baseModel: { rate: 0 },
      arrivals: { process: 'trace', events: [ev(0, 'a', 16, 50), ev(0.001, 'b', 16, 5), baseEv(0.002, 16, 5)] },
      durationS: 5,
    });
    const a = requests.find((r) => r.adapter === 0)!;
    const b = requests.find((r) => r.adapter === 1)!;
    const base = requests.find((r) => r.adapter === 2)!;
    // b is skipped for the slot a holds; the base request behind it is admitted in the same step
    expect(base.firstTokenS).toBeCloseTo(0.02, 9);
    expect(b.firstTokenS).toBeGreaterThanOrEqual(a.endS);
    expect(steps.some((s) => s.skipped === 1 && s.admitted === 1)).toBe(true);
  });

  it('starves as the per-adapter rule says, reported apart from the adapters', () => {
    const { result } = observe(testProfile(undefined, 20), {
      engine: { maxLoras: 1, maxNumSeqs: 4 },
      adapters: [{ id: 'a', rank: 8, rate: 0.5 }],
      baseModel: { rate: 50 },
      inputTokens: { distribution: 'fixed', mean: 32 },
      outputTokens: { distribution: 'fixed', mean: 64 },
      report: { perAdapter: true },
      durationS: 60,
    });
    expect(result.starved).toBe(true);
    expect(result.baseModel!.starved).toBe(true);
    expect(result.baseModel!.servedFraction).toBeLessThan(0.9);
    expect(result.starvedAdapters).not.toContain('');
    expect(result.adapters!.map((x) => x.id)).toEqual(['a']);
    const perStream = result.adapters![0]!.completedRequests + result.baseModel!.completedRequests;
    expect(perStream).toBe(result.completedRequests);
    expect(result.baseModel!.ttftMs!.mean).toBeGreaterThan(1000);
  });

  it('leaves the adapters requests as they were: its draws are a stream of its own', () => {
    const scenario = {
      engine: { maxLoras: 2 },
      adapters: [
        { id: 'a', rank: 8, rate: 0.5 },
        { id: 'b', rank: 16, rate: 0.2 },
      ],
      durationS: 120,
      seed: 4,
    };
    const alone = observe(testProfile(), scenario).result;
    const withIdleBase = observe(testProfile(), { ...scenario, baseModel: { rate: 0 } }).result;
    const { baseModel, ...rest } = withoutWall(withIdleBase);
    expect(rest).toEqual(withoutWall(alone));
    expect(baseModel).toEqual({ arrivedRequests: 0, completedRequests: 0, servedFraction: 1, starved: false });
    // and the base model's arrivals do not move when adapters join (base: index 0 alone, 2 beside a and b)
    const baseOnly = observe(testProfile(), {
      engine: { maxLoras: 2 },
      baseModel: { rate: 1 },
      durationS: 120,
      seed: 4,
    });
    const mixed = observe(testProfile(), { ...scenario, baseModel: { rate: 1 } });
    const early = (rs: { arrivalS: number }[]) => rs.map((q) => q.arrivalS).filter((t) => t < 110);
    expect(baseOnly.requests.length).toBeGreaterThan(90);
    expect(early(mixed.requests.filter((q) => q.adapter === 2))).toEqual(early(baseOnly.requests));
  });
});

describe('a server without --enable-lora', () => {
  const off = { engine: { enableLora: false }, baseModel: { rate: 30 }, durationS: 20 };

  it('has no LoRA term: every step costs exactly the base terms', () => {
    const profile = loraProfile();
    const { steps, result } = observe(profile, off);
    expect(result.completedRequests).toBeGreaterThan(150);
    const b = profile.forward.base;
    for (const s of steps) {
      const stepMs = b.constantMs + b.perDecodeMs * s.decodes + b.perPrefillTokenMs * s.prefillTokens;
      expect((s.endS - s.startS) * 1000).toBeCloseTo(stepMs * s.steps, 6);
    }
    // the same traffic on a LoRA-enabled server pays enabledMs + the slot terms in every step
    const on = observe(profile, { ...off, engine: { maxLoras: 4 } });
    const first = on.steps[0]!;
    const l = profile.forward.lora;
    const loraMs =
      l.enabledMs +
      4 * (l.perSlotMs + l.perSlotDecodeMs * first.decodes + l.perSlotPrefillTokenMs * first.prefillTokens);
    const baseMs = b.constantMs + b.perDecodeMs * first.decodes + b.perPrefillTokenMs * first.prefillTokens;
    expect((first.endS - first.startS) * 1000).toBeCloseTo(baseMs + loraMs, 6);
    expect(on.result.tpotMs!.mean).toBeGreaterThan(result.tpotMs!.mean);
  });

  it('forwardMs drops the whole LoRA part, and only that', () => {
    const profile = loraProfile();
    const shape: StepShape = {
      decodes: 40,
      prefillTokens: 300,
      contextTokens: 9000,
      adapters: 3,
      slots: 8,
      maxLoraRank: 32,
    };
    expect(forwardMs(profile.forward, { ...shape, enableLora: false })).toBe(baseForwardMs(profile.forward, shape));
    expect(forwardMs(profile.forward, shape)).toBeGreaterThan(baseForwardMs(profile.forward, shape) + 2);
  });

  it("reserves no slot memory: KV capacity is the profile's value without LoRA", () => {
    const profile = testProfile();
    // the rank-8 curve (100,000 tokens at 8 slots, 500 per slot) extrapolated to 0 slots
    expect(kvCapacityWithoutLora(profile)).toBe(104_000);
    const resolved = resolveScenario(parseScenario({ model: 'test-model', gpu: 'test-gpu', ...off }), profile);
    expect(resolved.engine).toEqual({
      enableLora: false,
      maxLoras: 0,
      maxCpuLoras: 0,
      maxLoraRank: 0,
      maxNumBatchedTokens: 2048,
      maxNumSeqs: 256,
      kvCacheTokens: 104_000,
    });
    const measured = testProfile({
      kvCapacity: { ...profile.kvCapacity, withoutLora: { tokens: 105_500, source: 'test' } },
    });
    expect(observe(measured, off).result.engine.kvCacheTokens).toBe(105_500);
    // too small a KV cache for max_model_len is a memory error, said without LoRA flags
    const small = observe(profile, { ...off, engine: { enableLora: false, kvCacheTokens: 1000 } }).result;
    expect(small.memoryError).toMatch(/no LoRA on test-model@test-gpu/);
    expect(small.completedRequests).toBe(0);
  });

  it('refuses every request naming an adapter, and the LoRA flags, naming the field', () => {
    const scenario = { model: 'test-model', gpu: 'test-gpu', ...off };
    expect(pathsOf(() => parseScenario({ ...scenario, adapters: [{ id: 'a', rank: 8, rate: 1 }] }))).toEqual([
      'adapters',
    ]);
    const trace = { process: 'trace', events: [baseEv(0, 5, 5), ev(1, 'a', 5, 5)] };
    expect(pathsOf(() => parseScenario({ ...scenario, arrivals: trace }))).toEqual(['arrivals.events.1.adapter']);
    expect(pathsOf(() => parseScenario({ ...scenario, engine: { enableLora: false, maxLoras: 4 } }))).toEqual([
      'engine.maxLoras',
    ]);
    expect(pathsOf(() => parseScenario({ ...scenario, engine: { enableLora: false, maxLoraRank: 8 } }))).toEqual([
      'engine.maxLoraRank',
    ]);
  });

  it('keeps fast-forward exact and runs deterministic per seed, without LoRA and with adapters beside', () => {
    const profile = loraProfile({ base: { perContextKiloTokenMs: 0.07 } });
    const plain = { ...off, engine: { enableLora: false, kvCacheTokens: 30_000 }, durationS: 120, seed: 3 };
    const mixed = {
      ...plain,
      engine: { maxLoras: 2, kvCacheTokens: 30_000 },
      adapters: Array.from({ length: 5 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 1 + i })),
      baseModel: { rate: 10 },
    };
    for (const scenario of [plain, mixed]) {
      const fast = observe(profile, scenario);
      const slow = observe(profile, scenario, { fastForward: false });
      expect(fast.steps.length).toBeLessThan(slow.steps.length);
      expect(fast.result.steps).toBe(slow.result.steps);
      expect(fast.result.completedRequests).toBe(slow.result.completedRequests);
      expect(fast.result.preemptions).toBe(slow.result.preemptions);
      expect(fast.result.adapterLoads).toBe(slow.result.adapterLoads);
      expect(fast.result.throughput.total).toBeCloseTo(slow.result.throughput.total, 9);
      expect(fast.result.ttftMs!.mean).toBeCloseTo(slow.result.ttftMs!.mean, 6);
      expect(fast.result.tpotMs!.p99).toBeCloseTo(slow.result.tpotMs!.p99, 6);
      expect(withoutWall(observe(profile, scenario).result)).toEqual(withoutWall(fast.result));
      expect(observe(profile, { ...scenario, seed: 4 }).result.arrivedRequests).not.toBe(fast.result.arrivedRequests);
    }
  });

  it('charges nothing for a pause that falls while the server holds no adapter', () => {
    // every other step is due a pause; with no adapter held each lasts 0 ms: the run of a profile without pauses
    const often = { perStepProbability: 0.5, perHeldAdapterMs: 5, maxMs: 1000, source: 'test' };
    // a tight KV cache: a step scheduled twice would allocate its blocks twice and preempt for nothing
    const tight = { ...off, engine: { enableLora: false, kvCacheTokens: 8192 } };
    const run = observe(testProfile({ pauses: often }), tight);
    expect(run.steps.every((s) => s.steps >= 1)).toBe(true);
    const paused = run.result;
    const plain = observe(testProfile(), tight).result;
    expect(paused.preemptions).toBe(plain.preemptions);
    // the same steps (time sums in another order: equal to rounding)
    expect(paused.steps).toBe(plain.steps);
    expect(paused.completedRequests).toBe(plain.completedRequests);
    expect(paused.throughput).toEqual(plain.throughput);
    expect(paused.busyFraction).toBeCloseTo(plain.busyFraction, 9);
    expect(paused.ttftMs!.p99).toBeCloseTo(plain.ttftMs!.p99, 6);
    expect(paused.itlMs!.mean).toBeCloseTo(plain.itlMs!.mean, 9);
    expect(paused.completedRequests).toBeGreaterThan(200);
  });
});

describe('scenarios with base-model traffic', () => {
  const scenario = { model: 'test-model', gpu: 'test-gpu', engine: { maxLoras: 2 } };

  it('need adapters or baseModel, and baseModel for trace events naming no adapter', () => {
    expect(pathsOf(() => parseScenario(scenario))).toEqual(['adapters']);
    const events = { process: 'trace', events: [baseEv(0, 5, 5)] };
    expect(
      pathsOf(() => parseScenario({ ...scenario, adapters: [{ id: 'a', rank: 8, rate: 0 }], arrivals: events })),
    ).toEqual(['arrivals.events.0.adapter']);
    expect(parseScenario({ ...scenario, baseModel: { rate: 0 }, arrivals: events }).adapters).toEqual([]);
  });

  it('count the base model in the work a simulation may take', () => {
    const limits = { ...defaultWorkLimits, maxSimulatedRequests: 1000 };
    const heavy = parseScenario({ ...scenario, baseModel: { rate: 1 }, durationS: 3600 });
    let caught: unknown;
    try {
      checkSimulationWork(heavy, limits);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).details).toMatchObject({ path: 'baseModel.rate', requested: 3600 });
  });

  it('refuse a mean base-model request longer than max_model_len, naming its field', () => {
    const long = parseScenario({
      ...scenario,
      baseModel: { rate: 1, outputTokens: { distribution: 'fixed', mean: 5000 } },
    });
    expect(pathsOf(() => resolveScenario(long, testProfile()))).toEqual(['baseModel.outputTokens']);
  });
});

describe('examples/vllm-bench-serve.json', () => {
  it('simulates a `vllm bench serve` run on a server without LoRA: about rate x durationS requests', () => {
    const example = JSON.parse(readFileSync(new URL('../../examples/vllm-bench-serve.json', import.meta.url), 'utf8'));
    const r = simulate(example, embeddedProfiles());
    expect(r.memoryError).toBeNull();
    expect(r.engine.enableLora).toBe(false);
    expect(r.arrivedRequests).toBeGreaterThan(900);
    expect(r.arrivedRequests).toBeLessThan(1100);
    // every request is 1024 + 128 tokens
    expect(r.throughput.total).toBeCloseTo(r.throughput.requests * 1152, 6);
  });
});

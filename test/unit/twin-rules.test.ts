import { describe, expect, it } from 'vitest';
import { testProfile } from '../helpers/profile.js';
import { ev, observe, withoutWall } from '../helpers/twin.js';

const adapters2 = [
  { id: 'a', rank: 8, rate: 0 },
  { id: 'b', rank: 8, rate: 0 },
];

describe('vLLM V1 scheduling rules', () => {
  it('skips a waiting request whose adapter would exceed --max-loras and keeps scanning', () => {
    const { requests, steps } = observe(testProfile(), {
      engine: { maxLoras: 1, maxCpuLoras: 2 },
      adapters: adapters2,
      arrivals: { process: 'trace', events: [ev(0, 'a', 16, 50), ev(0.001, 'b', 16, 5), ev(0.002, 'a', 16, 5)] },
      durationS: 5,
    });
    const [a1, b1, a2] = requests.sort((x, y) => x.arrivalS - y.arrivalS);
    // a2 arrived after b1 but overtakes it: b1 is skipped, the scan reaches a2 in the same step
    expect(a2!.firstTokenS).toBeCloseTo(0.02, 9);
    expect(b1!.firstTokenS).toBeGreaterThanOrEqual(a1!.endS);
    expect(steps.some((s) => s.skipped > 0 && s.admitted === 1)).toBe(true);
    // with two slots nobody waits
    const free = observe(testProfile(), {
      engine: { maxLoras: 2 },
      adapters: adapters2,
      arrivals: { process: 'trace', events: [ev(0, 'a', 16, 50), ev(0.001, 'b', 16, 5), ev(0.002, 'a', 16, 5)] },
      durationS: 5,
    });
    expect(free.requests.find((r) => r.adapter === 1)!.firstTokenS).toBeCloseTo(0.02, 9);
  });

  it('preempts the most recently admitted request when KV blocks run out, and recomputes it from zero', () => {
    const profile = testProfile({ maxModelLen: 160 });
    const { requests, preempted, steps, result } = observe(profile, {
      engine: { maxLoras: 1, kvCacheTokens: 192 },
      adapters: [{ id: 'a', rank: 8, rate: 0 }],
      arrivals: { process: 'trace', events: [ev(0, 'a', 32, 100), ev(0.001, 'a', 32, 100)] },
      durationS: 10,
    });
    expect(preempted.length).toBeGreaterThan(0);
    expect(preempted.every((p) => p.id === 1)).toBe(true);
    expect(result.preemptions).toBe(preempted.length);
    const [older, newer] = requests;
    // the older request runs undisturbed: first token after one step, then one token per 10 ms step
    expect(older!.firstTokenS).toBeCloseTo(0.01, 9);
    expect(older!.endS).toBeCloseTo(0.01 + 99 * 0.01, 6);
    expect(newer!.endS).toBeGreaterThan(older!.endS);
    // recompute: the resumed request prefills its prompt plus the tokens it had already produced
    const prefilled = steps.reduce((s, st) => s + st.prefillTokens, 0);
    expect(prefilled).toBeGreaterThan(64);
    expect(steps.some((s) => s.prefillTokens > 32)).toBe(true);
  });

  it('never exceeds the token budget, max_num_seqs, the adapter slots or the KV blocks', () => {
    const { steps, result } = observe(testProfile(undefined, 5), {
      engine: { maxLoras: 4, maxCpuLoras: 12, maxNumBatchedTokens: 256, maxNumSeqs: 64, kvCacheTokens: 8192 },
      adapters: Array.from({ length: 12 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 2 + i })),
      inputTokens: { mean: 180 },
      outputTokens: { mean: 120 },
      durationS: 60,
      seed: 3,
    });
    expect(steps.length).toBeGreaterThan(100);
    expect(result.preemptions).toBeGreaterThan(0);
    for (const s of steps) {
      expect(s.decodes + s.prefillTokens).toBeLessThanOrEqual(256);
      expect(s.running).toBeLessThanOrEqual(64);
      expect(s.adapters).toBeLessThanOrEqual(4);
      expect(s.usedBlocks).toBeGreaterThanOrEqual(0);
      expect(s.usedBlocks).toBeLessThanOrEqual(8192 / 16);
    }
  });

  it('answers a memory error for (slots, rank) pairs that leave too little KV cache, without simulating', () => {
    const profile = testProfile({ maxModelLen: 90_000 });
    const ok = observe(profile, { engine: { maxLoras: 8 }, adapters: [{ id: 'a', rank: 16, rate: 1 }], durationS: 10 });
    expect(ok.result.memoryError).toBeNull();
    const bad = observe(profile, {
      engine: { maxLoras: 16 },
      adapters: [{ id: 'a', rank: 16, rate: 1 }],
      durationS: 10,
    });
    expect(bad.result.memoryError).toMatch(/KV cache of 88000 tokens .* smaller than max_model_len 90000/);
    expect(bad.steps).toHaveLength(0);
    expect(bad.result.completedRequests).toBe(0);
  });

  it('counts GPU slot loads with LRU eviction and charges them to the step', () => {
    const alternating = [ev(0, 'a', 16, 2), ev(1, 'b', 16, 2), ev(2, 'a', 16, 2), ev(3, 'b', 16, 2)];
    const slow = testProfile({
      adapterLoad: { ...testProfile().adapterLoad, gpuFromCpu: [{ maxRank: 8, rank: 8, ms: 100 }] },
    });
    const one = observe(slow, {
      engine: { maxLoras: 1, maxCpuLoras: 2 },
      adapters: adapters2,
      arrivals: { process: 'trace', events: alternating },
      durationS: 10,
    });
    expect(one.result.adapterLoads).toBe(4);
    // every request waits for its adapter's 100 ms activation inside its first step
    for (const r of one.requests) expect(r.firstTokenS - r.arrivalS).toBeCloseTo(0.11, 9);
    const two = observe(slow, {
      engine: { maxLoras: 2 },
      adapters: adapters2,
      arrivals: { process: 'trace', events: alternating },
      durationS: 10,
    });
    expect(two.result.adapterLoads).toBe(2);
    expect(two.result.ttftMs!.mean).toBeCloseTo((2 * 110 + 2 * 10) / 4, 6);
  });

  it('loads from disk again when --max-cpu-loras is smaller than the number of adapters', () => {
    const alternating = [ev(0, 'a', 16, 2), ev(1, 'b', 16, 2), ev(2, 'a', 16, 2), ev(3, 'b', 16, 2)];
    const small = observe(testProfile(), {
      engine: { maxLoras: 1, maxCpuLoras: 1 },
      adapters: adapters2,
      arrivals: { process: 'trace', events: alternating },
      durationS: 10,
    });
    expect(small.result.diskLoads).toBe(4);
    const big = observe(testProfile(), {
      engine: { maxLoras: 1, maxCpuLoras: 2 },
      adapters: adapters2,
      arrivals: { process: 'trace', events: alternating },
      durationS: 10,
    });
    expect(big.result.diskLoads).toBe(2);
  });

  it('conserves requests and tokens', () => {
    const { result } = observe(testProfile(undefined, 20), {
      engine: { maxLoras: 2, kvCacheTokens: 20_000 },
      adapters: Array.from({ length: 6 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 3 })),
      arrivals: { process: 'poisson', maxInFlight: 150 },
      durationS: 120,
      seed: 11,
    });
    expect(result.arrivedRequests).toBe(
      result.completedRequests + result.runningAtEnd + result.waitingAtEnd + result.rejectedRequests,
    );
    expect(result.rejectedRequests).toBeGreaterThan(0);
    expect(result.throughput.total).toBeLessThanOrEqual(result.idealThroughput);
    expect(result.starved).toBe(true);
    expect(result.starvedAdapters.length).toBeGreaterThan(0);
  });

  it('adds the frontend overhead to TTFT', () => {
    const profile = testProfile({ frontend: { ...testProfile().frontend, ttftOverheadMs: 7 } });
    const { requests } = observe(profile, {
      engine: { maxLoras: 1 },
      adapters: [{ id: 'a', rank: 8, rate: 0 }],
      arrivals: { process: 'trace', events: [ev(1, 'a', 100, 3)] },
      durationS: 5,
    });
    expect(requests[0]!.firstTokenS - requests[0]!.arrivalS).toBeCloseTo(0.017, 9);
  });
});

describe('determinism and fast-forward', () => {
  const scenario = {
    engine: { maxLoras: 4, maxCpuLoras: 10, kvCacheTokens: 30_000 },
    adapters: Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, rank: i % 2 ? 16 : 8, rate: 0.5 + (i % 3) })),
    durationS: 300,
  };
  const profile = testProfile({
    forward: {
      base: {
        ...testProfile().forward.base,
        constantMs: 8,
        perDecodeMs: 0.03,
        perContextKiloTokenMs: 0.07,
        perPrefillTokenMs: 0.02,
      },
      lora: {
        ...testProfile().forward.lora,
        enabledMs: 2,
        perSlotMs: 0.02,
        perAdapterMs: 0.3,
        perSlotPrefillTokenMs: 0.0005,
      },
    },
  });

  it('gives the same result for the same scenario and seed, and a different one for another seed', () => {
    const a = observe(profile, { ...scenario, seed: 5 }).result;
    const b = observe(profile, { ...scenario, seed: 5 }).result;
    const c = observe(profile, { ...scenario, seed: 6 }).result;
    expect(withoutWall(a)).toEqual(withoutWall(b));
    expect(c.arrivedRequests).not.toBe(a.arrivedRequests);
  });

  it('advances identical decode steps in closed form with the same outcome as stepping one by one', () => {
    const fast = observe(profile, { ...scenario, seed: 9 });
    const slow = observe(profile, { ...scenario, seed: 9 }, { fastForward: false });
    expect(fast.steps.length).toBeLessThan(slow.steps.length);
    const f = fast.result;
    const s = slow.result;
    expect(f.completedRequests).toBe(s.completedRequests);
    expect(f.steps).toBe(s.steps);
    expect(f.preemptions).toBe(s.preemptions);
    expect(f.throughput.total).toBeCloseTo(s.throughput.total, 9);
    expect(f.ttftMs!.mean).toBeCloseTo(s.ttftMs!.mean, 6);
    expect(f.tpotMs!.p99).toBeCloseTo(s.tpotMs!.p99, 6);
    expect(f.itlMs!.mean).toBeCloseTo(s.itlMs!.mean, 6);
    expect(Math.abs(f.itlMs!.p90 - s.itlMs!.p90) / s.itlMs!.p90).toBeLessThan(0.01);
  });
});

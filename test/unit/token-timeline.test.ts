import { describe, expect, it } from 'vitest';
import { parseScenario, simulateParsed, type Scenario } from '../../src/twin/index.js';
import { TokenTimeline } from '../../src/twin/token-timeline.js';
import { testProfile } from '../helpers/profile.js';
import { ev } from '../helpers/twin.js';
import type { Profile } from '../../src/profiles/index.js';

function timeline(profile: Profile, scenario: Omit<Scenario, 'model' | 'gpu'>, fastForward = true) {
  const recorder = new TokenTimeline();
  const parsed = parseScenario({ model: profile.model, gpu: profile.gpu, ...scenario });
  const result = simulateParsed(parsed, profile, { observer: recorder, fastForward });
  return { result, requests: recorder.requests().sort((a, b) => a.id - b.id) };
}

const gapsOf = (times: Float64Array): number[] => [...times].slice(1).map((t, i) => t - times[i]!);

describe('TokenTimeline: every token of every request, as a streaming client sees it', () => {
  it('streams the first token at the end of the prefill step and one token per step after it', () => {
    const { requests } = timeline(testProfile(), {
      engine: { maxLoras: 1 },
      adapters: [{ id: 'a', rank: 8, rate: 0 }],
      arrivals: { process: 'trace', events: [ev(0, 'a', 16, 5), ev(0.015, 'a', 16, 3)] },
      durationS: 5,
    });
    const [first, second] = requests;
    expect([...first!.tokenTimes].map((t) => Math.round(t * 1e6) / 1e6)).toEqual([0.01, 0.02, 0.03, 0.04, 0.05]);
    // the second arrives mid-step: admitted at 0.02, first token with the step that ends at 0.03
    expect([...second!.tokenTimes].map((t) => Math.round(t * 1e6) / 1e6)).toEqual([0.03, 0.04, 0.05]);
  });

  it('leaves a gap while a request is preempted and streams again from the end of its recompute', () => {
    const { requests, result } = timeline(testProfile({ maxModelLen: 160 }), {
      engine: { maxLoras: 1, kvCacheTokens: 192 },
      adapters: [{ id: 'a', rank: 8, rate: 0 }],
      arrivals: { process: 'trace', events: [ev(0, 'a', 32, 100), ev(0.001, 'a', 32, 100)] },
      durationS: 10,
    });
    expect(result.preemptions).toBeGreaterThan(0);
    const [older, newer] = requests;
    expect(older!.tokenTimes.length).toBe(100);
    expect(newer!.tokenTimes.length).toBe(100);
    expect(Math.max(...gapsOf(older!.tokenTimes))).toBeCloseTo(0.01, 9);
    // the newer one waits for the older to finish (at 1.0 s), then recomputes in one 10 ms step and streams
    // again: one long gap, every other one step
    const gaps = gapsOf(newer!.tokenTimes);
    const long = gaps.findIndex((g) => g > 0.0101);
    expect(gaps.filter((g) => g > 0.0101)).toHaveLength(1);
    expect(newer!.tokenTimes[long + 1]).toBeCloseTo(1.01, 9);
    expect(gaps[long]).toBeGreaterThan(0.2);
  });

  it('agrees with the Twin: token counts, TTFT and ITL means, also under preemption', () => {
    const base: Omit<Scenario, 'model' | 'gpu'> = {
      engine: { maxLoras: 4, maxNumBatchedTokens: 512, kvCacheTokens: 6000 },
      adapters: Array.from({ length: 6 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 2 })),
      inputTokens: { mean: 300 },
      outputTokens: { mean: 150 },
      durationS: 60,
      seed: 4,
    };
    const profile = testProfile({
      maxModelLen: 2048,
      forward: {
        ...testProfile().forward,
        base: { ...testProfile().forward.base, perDecodeMs: 0.2, perContextKiloTokenMs: 0.5, perPrefillTokenMs: 0.02 },
      },
    });
    const { requests, result } = timeline(profile, base);
    expect(result.preemptions).toBeGreaterThan(10);
    expect(requests.length).toBe(result.completedRequests);
    let gapSum = 0;
    let gapCount = 0;
    let ttftSum = 0;
    for (const r of requests) {
      expect(r.tokenTimes.length).toBe(r.output);
      expect(gapsOf(r.tokenTimes).every((g) => g > 0)).toBe(true);
      ttftSum += r.tokenTimes[0]! - r.arrivalS;
      gapSum += r.tokenTimes[r.tokenTimes.length - 1]! - r.tokenTimes[0]!;
      gapCount += r.output - 1;
    }
    expect((ttftSum / requests.length) * 1000).toBeCloseTo(result.ttftMs!.mean, 6);
    expect((gapSum / gapCount) * 1000).toBeCloseTo(result.itlMs!.mean, 6);
    // the runs of identical steps it expands are the steps the step-by-step reference takes
    const reference = timeline(profile, base, false).requests;
    expect(reference.length).toBe(requests.length);
    reference.forEach((r, i) => {
      const times = requests[i]!.tokenTimes;
      expect(times.length).toBe(r.tokenTimes.length);
      expect(Math.max(...r.tokenTimes.map((t, k) => Math.abs(t - times[k]!)))).toBeLessThan(1e-6);
    });
  });

  it('reports requests to the base model too, beside adapters and on a server without LoRA', () => {
    const profile = testProfile({ maxModelLen: 2048 });
    const lengths = { inputTokens: { mean: 300 }, outputTokens: { mean: 100 } };
    const mixed = timeline(profile, {
      engine: { maxLoras: 2, kvCacheTokens: 6000 },
      adapters: [
        { id: 'a0', rank: 8, rate: 2 },
        { id: 'a1', rank: 8, rate: 2 },
      ],
      baseModel: { rate: 3, ...lengths },
      ...lengths,
      durationS: 60,
      seed: 2,
    });
    expect(mixed.result.preemptions).toBeGreaterThan(0);
    expect(mixed.requests.length).toBe(mixed.result.completedRequests);
    // the base model's requests carry the index after the adapters'
    expect(mixed.requests.filter((r) => r.adapter === 2).length).toBe(mixed.result.baseModel!.completedRequests);
    const plain = timeline(profile, {
      engine: { enableLora: false, kvCacheTokens: 6000 },
      baseModel: { rate: 6, ...lengths },
      durationS: 60,
      seed: 2,
    });
    expect(plain.result.completedRequests).toBeGreaterThan(100);
    expect(plain.requests.length).toBe(plain.result.completedRequests);
    expect(plain.requests.every((r) => r.adapter === 0 && r.tokenTimes.length === r.output)).toBe(true);
    const ttft = plain.requests.reduce((s, r) => s + r.tokenTimes[0]! - r.arrivalS, 0) / plain.requests.length;
    expect(ttft * 1000).toBeCloseTo(plain.result.ttftMs!.mean, 6);
  });
});

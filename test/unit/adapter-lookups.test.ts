import { describe, expect, it } from 'vitest';
import { AdapterLookups } from '../../src/twin/adapter-lookups.js';
import { testProfile } from '../helpers/profile.js';
import { observe } from '../helpers/twin.js';

const arrival = (adapter: number, time: number) => ({ adapter, time, inputTokens: 10, outputTokens: 10 });

describe('adapter tokenizer lookups at the API server', () => {
  it("hold an adapter's first request for the lookup; later requests pass; one sent mid-lookup waits too", () => {
    const lookups = new AdapterLookups(0.3, 8);
    expect(lookups.route(arrival(0, 1), 1.01)).toBeCloseTo(1.31, 9);
    expect(lookups.peekS()).toBeCloseTo(1.31, 9);
    // sent before the first lookup ended: vLLM had nothing cached yet, so it looks up again
    expect(lookups.route(arrival(0, 1.1), 1.11)).toBeCloseTo(1.41, 9);
    expect(lookups.route(arrival(0, 2), 2.01)).toBeNull();
    expect(lookups.lookups).toBe(2);
    expect(lookups.take().time).toBe(1);
    expect(lookups.take().time).toBe(1.1);
    expect(lookups.peekS()).toBe(Infinity);
  });

  it('keep the capacity most recently used adapters: an evicted one is looked up again', () => {
    const lookups = new AdapterLookups(0.1, 2);
    lookups.route(arrival(0, 0), 0);
    lookups.route(arrival(1, 1), 1);
    expect(lookups.route(arrival(0, 2), 2)).toBeNull(); // 0 used again: 1 is now the least recent
    lookups.route(arrival(2, 3), 3); // evicts 1
    expect(lookups.route(arrival(0, 4), 4)).toBeNull();
    expect(lookups.route(arrival(1, 5), 5)).toBeCloseTo(5.1, 9);
    expect(lookups.lookups).toBe(4);
  });

  it('release held requests in the order they reach the engine', () => {
    const lookups = new AdapterLookups(0.5, 8);
    lookups.route(arrival(0, 0), 0.4);
    lookups.route(arrival(1, 0.1), 0.1);
    expect([lookups.take().adapter, lookups.take().adapter]).toEqual([1, 0]);
  });
});

describe('the Twin with first-request lookups', () => {
  const lookupMs = 300;
  const profile = testProfile({
    frontend: { ...testProfile().frontend, firstRequestOfAdapter: { ms: lookupMs, source: 'test' } },
  });
  const scenario = {
    engine: { maxLoras: 16, maxCpuLoras: 16 },
    adapters: Array.from({ length: 16 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0.05 })),
    durationS: 600,
    seed: 3,
  };

  it("delay exactly each adapter's first request by the lookup, and nothing else", () => {
    const plain = observe(testProfile(), scenario);
    const looked = observe(profile, scenario);
    expect(looked.result.completedRequests).toBe(plain.result.completedRequests);
    const ttft = (r: { firstTokenS: number; arrivalS: number }) => r.firstTokenS - r.arrivalS;
    const firstOf = new Map<number, number>();
    for (const r of [...looked.requests].sort((a, b) => a.arrivalS - b.arrivalS))
      if (!firstOf.has(r.adapter)) firstOf.set(r.adapter, r.id);
    expect(firstOf.size).toBe(16);
    const slow = looked.requests.filter((r) => ttft(r) >= lookupMs / 1000);
    expect(slow.map((r) => r.id).sort()).toEqual([...firstOf.values()].sort());
    expect(looked.result.ttftMs!.p50).toBeCloseTo(plain.result.ttftMs!.p50, 0);
  });

  it('charge nothing without LoRA, nor to requests for the base model', () => {
    const base = { ...scenario, adapters: scenario.adapters.slice(0, 2), baseModel: { rate: 1 } };
    const looked = observe(profile, base);
    const baseIndex = 2;
    const ttfts = looked.requests.filter((r) => r.adapter === baseIndex).map((r) => r.firstTokenS - r.arrivalS);
    expect(ttfts.length).toBeGreaterThan(300);
    expect(Math.max(...ttfts)).toBeLessThan(lookupMs / 1000);
    const off = observe(profile, { engine: { enableLora: false }, baseModel: { rate: 1 }, durationS: 60 });
    expect(off.result.completedRequests).toBeGreaterThan(30);
    expect(off.result.ttftMs!.p99).toBeLessThan(lookupMs);
  });
});

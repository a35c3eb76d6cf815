import { describe, expect, it } from 'vitest';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { parseScenario, simulateParsed } from '../../src/twin/index.js';
import { testProfile } from '../helpers/profile.js';
import { ev } from '../helpers/twin.js';

const profile = embeddedProfiles().get('llama-3.1-8b-instruct', 'h100-64gb');
const scenario = (report?: object) =>
  parseScenario({
    model: profile.model,
    gpu: profile.gpu,
    // 4 slots for 12 adapters: cold adapters wait, so their TTFT differs from the hot ones'
    engine: { maxLoras: 4, maxNumSeqs: 512 },
    adapters: Array.from({ length: 12 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: i < 3 ? 2 : 0.1 })),
    durationS: 300,
    seed: 3,
    ...(report ? { report } : {}),
  });

describe('per-adapter results (report.perAdapter)', () => {
  const plain = simulateParsed(scenario(), profile);
  const detailed = simulateParsed(scenario({ perAdapter: true }), profile);
  const adapters = detailed.adapters!;

  it('changes nothing else in the result', () => {
    const { adapters: _a, wallMs: _w, worstAdapterTtftUpperMs: _u, ...rest } = detailed;
    const { wallMs: _pw, ...plainRest } = plain;
    expect(rest).toEqual(plainRest);
    expect(plain.adapters).toBeUndefined();
  });

  it('adds up to the GPU-wide counts and means', () => {
    expect(adapters.map((a) => a.id)).toEqual(Array.from({ length: 12 }, (_, i) => `a${i}`));
    expect(adapters.reduce((s, a) => s + a.arrivedRequests, 0)).toBe(detailed.arrivedRequests);
    expect(adapters.reduce((s, a) => s + a.completedRequests, 0)).toBe(detailed.completedRequests);
    const ttftWeighted =
      adapters.reduce((s, a) => s + (a.ttftMs?.mean ?? 0) * a.completedRequests, 0) / detailed.completedRequests;
    expect(ttftWeighted).toBeCloseTo(detailed.ttftMs!.mean, 6);
    for (const a of adapters) {
      expect(a.servedFraction).toBeGreaterThan(0);
      expect(a.servedFraction).toBeLessThanOrEqual(1);
      expect(a.ttftMs!.p50).toBeLessThanOrEqual(a.ttftMs!.p99);
      expect(a.itlMs!.p50).toBeLessThanOrEqual(a.itlMs!.p99 * 1.0001);
    }
  });

  it('names the adapters that starve and shows the cold ones wait longer', () => {
    const starved = new Set(detailed.starvedAdapters);
    for (const a of adapters) expect(starved.has(a.id)).toBe(a.servedFraction < 0.9);
    const hot = adapters.slice(0, 3).map((a) => a.ttftMs!.mean);
    const cold = adapters.slice(3).map((a) => a.ttftMs!.mean);
    expect(Math.min(...cold)).toBeGreaterThan(Math.max(...hot));
  });

  it("attributes every gap to its adapter: with 10 ms steps each adapter's gaps are 10 ms", () => {
    const fixed = testProfile();
    const r = simulateParsed(
      parseScenario({
        model: fixed.model,
        gpu: fixed.gpu,
        engine: { maxLoras: 2 },
        adapters: [
          { id: 'x', rank: 8, rate: 0 },
          { id: 'y', rank: 8, rate: 0 },
        ],
        arrivals: { process: 'trace', events: [ev(0, 'x', 16, 30), ev(0.001, 'y', 16, 20), ev(0.002, 'x', 16, 10)] },
        durationS: 5,
        report: { perAdapter: true },
      }),
      fixed,
    );
    const [x, y] = r.adapters!;
    for (const a of [x!, y!]) {
      expect(a.itlMs!.mean).toBeCloseTo(10, 9);
      expect(a.itlMs!.p50).toBeCloseTo(10, 0);
      expect(a.itlMs!.p99).toBeCloseTo(10, 0);
    }
    expect([x!.completedRequests, y!.completedRequests]).toEqual([2, 1]);
  });
});

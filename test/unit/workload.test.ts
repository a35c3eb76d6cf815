import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/shared/rng.js';
import { resolveLength } from '../../src/twin/lengths.js';
import {
  benchmarkFilter,
  knotQuantile,
  sharegptOutputKnots,
  sharegptPromptKnots,
  sharegptTables,
} from '../../src/twin/sharegpt-shape.js';
import { ArrivalSource } from '../../src/twin/arrivals.js';

const sampleMean = (sampler: (r: Rng) => number, n = 40_000, seed = 1): number => {
  const r = new Rng(seed);
  let s = 0;
  for (let i = 0; i < n; i++) s += sampler(r);
  return s / n;
};

describe('ShareGPT default length shape', () => {
  it('matches the published unfiltered quartiles and means', () => {
    expect(knotQuantile(sharegptPromptKnots, 0.25)).toBeCloseTo(23, 6);
    expect(knotQuantile(sharegptPromptKnots, 0.75)).toBeCloseTo(423, 6);
    expect(knotQuantile(sharegptOutputKnots, 0.25)).toBeCloseTo(27, 6);
    expect(knotQuantile(sharegptOutputKnots, 0.75)).toBeCloseTo(359, 6);
    const t = sharegptTables();
    expect(t.promptRaw.mean).toBeCloseTo(250.9, 0);
    expect(t.outputRaw.mean).toBeCloseTo(231.5, 0);
  });

  it('gives the real runs prompt-pool means after the benchmark filter', () => {
    const t = sharegptTables();
    expect(Math.abs(t.prompt.mean - 223) / 223).toBeLessThan(0.01);
    expect(Math.abs(t.output.mean - 196) / 196).toBeLessThan(0.01);
    expect(t.prompt.values[t.prompt.values.length - 1]).toBeLessThanOrEqual(benchmarkFilter.maxPrompt);
    expect(t.output.values[0]).toBeGreaterThanOrEqual(benchmarkFilter.minTokens);
  });
});

describe('length distributions', () => {
  it('scales the ShareGPT shape to a requested mean', () => {
    const l = resolveLength({ mean: 500 }, 'input');
    expect(l.mean).toBe(500);
    expect(Math.abs(sampleMean(l.sampler) - 500) / 500).toBeLessThan(0.02);
  });

  it('draws normal (truncated at 1), lognormal, fixed and empirical lengths', () => {
    const normal = resolveLength({ mean: 200, std: 50 }, 'output');
    expect(sampleMean(normal.sampler)).toBeCloseTo(200, -1);
    const wide = resolveLength({ mean: 50, std: 200 }, 'output');
    expect(sampleMean(wide.sampler)).toBeCloseTo(wide.mean, -1);
    expect(wide.mean).toBeGreaterThan(50);
    const logn = resolveLength({ distribution: 'lognormal', mean: 300, std: 400 }, 'input');
    expect(Math.abs(sampleMean(logn.sampler, 100_000) - 300) / 300).toBeLessThan(0.05);
    expect(resolveLength({ distribution: 'fixed', mean: 128 }, 'input').sampler(new Rng(1))).toBe(128);
    const emp = resolveLength({ values: [10, 20, 30] }, 'input');
    const r = new Rng(3);
    const seen = new Set(Array.from({ length: 100 }, () => emp.sampler(r)));
    expect([...seen].sort()).toEqual([10, 20, 30]);
    expect(emp.mean).toBe(20);
  });
});

describe('arrival processes', () => {
  const lengths = { input: () => 10, output: () => 5 };
  const drain = (src: ArrivalSource): { time: number; adapter: number }[] => {
    const out = [];
    while (Number.isFinite(src.peekTime())) out.push(src.pop());
    return out;
  };

  it('produces Poisson arrivals at each adapter rate, in time order', () => {
    const src = new ArrivalSource(
      [
        { rate: 2, ...lengths },
        { rate: 0.5, ...lengths },
      ],
      { process: 'poisson' },
      1,
      new Map(),
      2000,
    );
    const all = drain(src);
    expect(all.every((a, i) => i === 0 || a.time >= all[i - 1]!.time)).toBe(true);
    expect(all.filter((a) => a.adapter === 0).length / 2000).toBeCloseTo(2, 1);
    expect(all.filter((a) => a.adapter === 1).length / 2000).toBeCloseTo(0.5, 1);
  });

  it('gives Gamma inter-arrival times the requested coefficient of variation', () => {
    const src = new ArrivalSource([{ rate: 1, ...lengths }], { process: 'gamma', cv: 3 }, 2, new Map(), 50_000);
    const times = drain(src).map((a) => a.time);
    const gaps = times.map((t, i) => t - (times[i - 1] ?? 0));
    const m = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((s, g) => s + (g - m) ** 2, 0) / gaps.length);
    expect(m).toBeCloseTo(1, 1);
    expect(sd / m).toBeCloseTo(3, 0);
  });

  it('keeps the long-run rate of regime-switching arrivals while making them burstier', () => {
    const src = new ArrivalSource([{ rate: 1, ...lengths }], { process: 'regime' }, 3, new Map(), 400_000);
    const times = drain(src).map((a) => a.time);
    expect(times.length / 400_000).toBeGreaterThan(0.9);
    expect(times.length / 400_000).toBeLessThan(1.1);
    const perPeriod = new Map<number, number>();
    for (const t of times) perPeriod.set(Math.floor(t / 300), (perPeriod.get(Math.floor(t / 300)) ?? 0) + 1);
    const counts = [...perPeriod.values()];
    expect(Math.max(...counts) / Math.min(...counts)).toBeGreaterThan(5);
  });

  it('replays a trace in time order and leaves other adapters untouched when one is added', () => {
    const trace = new ArrivalSource(
      [
        { rate: 0, ...lengths },
        { rate: 0, ...lengths },
      ],
      {
        process: 'trace',
        events: [
          { t: 2, adapter: 'b', inputTokens: 7, outputTokens: 3 },
          { t: 1, adapter: 'a', inputTokens: 5, outputTokens: 2 },
        ],
      },
      0,
      new Map([
        ['a', 0],
        ['b', 1],
      ]),
      10,
    );
    expect(drain(trace).map((a) => [a.time, a.adapter])).toEqual([
      [1, 0],
      [2, 1],
    ]);
    const one = drain(new ArrivalSource([{ rate: 1, ...lengths }], { process: 'poisson' }, 9, new Map(), 100));
    const two = drain(
      new ArrivalSource(
        [
          { rate: 1, ...lengths },
          { rate: 3, ...lengths },
        ],
        { process: 'poisson' },
        9,
        new Map(),
        100,
      ),
    );
    expect(two.filter((a) => a.adapter === 0).map((a) => a.time)).toEqual(one.map((a) => a.time));
  });
});

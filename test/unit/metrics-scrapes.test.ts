import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/twin/index.js';
import { MetricsScrapes, adapterKey, labelSetKey } from '../../src/twin/metrics-scrapes.js';
import { testProfile } from '../helpers/profile.js';
import { observe, withoutWall } from '../helpers/twin.js';

const render = { baseMs: 10, perLabelSetMs: 1, perListedAdapterMs: 0.5, maxMs: 5000 };

describe('metrics scrapes', () => {
  it('hold what is emitted during a render until it ends; a render grows with the distinct label sets', () => {
    const scrapes = new MetricsScrapes(render, 2, 1);
    expect(scrapes.deliveredAt(0.5)).toBe(0.5);
    // first scrape at 1 s renders no label set: 10 ms
    expect(scrapes.deliveredAt(1.005)).toBeCloseTo(1.01, 9);
    scrapes.advanceTo(1.02);
    expect(scrapes.deliveredAt(1.005)).toBeCloseTo(1.01, 9);
    expect(scrapes.deliveredAt(1.02)).toBe(1.02);
    expect(scrapes.nextBoundaryAfter(1.02)).toBeCloseTo(3.01, 9);
    for (let i = 0; i < 40; i++) scrapes.recordLabelSet(labelSetKey(adapterKey(i, 1), 0), 2);
    // the same sets again add nothing
    for (let i = 0; i < 40; i++) scrapes.recordLabelSet(labelSetKey(adapterKey(i, 1), 0), 2);
    expect(scrapes.distinctLabelSets).toBe(40);
    // second scrape at 3.01 s: 10 + 40 x 1 + 80 x 0.5 = 90 ms, foreseen and then started
    expect(scrapes.deliveredAt(3.05)).toBeCloseTo(3.1, 9);
    scrapes.advanceTo(3.05);
    expect(scrapes.nextBoundaryAfter(3.05)).toBeCloseTo(3.1, 9);
    expect(scrapes.history.map((s) => s.labelSets)).toEqual([0, 40]);
    expect(scrapes.history[1]!.changes).toBe(80);
  });

  it('keep a bounded history, and a scenario cannot ask for a scrape every few nanoseconds', () => {
    const scrapes = new MetricsScrapes(render, 0.05, 0);
    scrapes.advanceTo(3600);
    expect(scrapes.history.length).toBeLessThanOrEqual(2048);
    expect(scrapes.history.at(-1)!.startS).toBeGreaterThan(3599);
    expect(scrapes.deliveredAt(3599.99)).toBeGreaterThanOrEqual(3599.99);
    const base = { model: 'm', gpu: 'g', engine: { maxLoras: 1 }, adapters: [{ id: 'a', rank: 8, rate: 1 }] };
    expect(() => parseScenario({ ...base, metricsScrapeIntervalS: 1e-209 })).toThrow(/metricsScrapeIntervalS/);
    expect(parseScenario({ ...base, metricsScrapeIntervalS: 0 }).metricsScrapeIntervalS).toBe(0);
  });

  it('are capped at maxMs', () => {
    const scrapes = new MetricsScrapes({ ...render, maxMs: 20 }, 2, 0);
    for (let i = 0; i < 1000; i++) scrapes.recordLabelSet(i, 1);
    scrapes.advanceTo(0);
    expect(scrapes.deliveredAt(0)).toBeCloseTo(0.02, 9);
  });

  it('keys: one per set whatever the order its members came in', () => {
    const a = adapterKey(3, 7) ^ adapterKey(9, 7) ^ adapterKey(12, 7);
    const b = adapterKey(12, 7) ^ adapterKey(3, 7) ^ adapterKey(9, 7);
    expect(a).toBe(b);
    expect(adapterKey(3, 7)).not.toBe(adapterKey(3, 8));
    expect(labelSetKey(a, 0)).not.toBe(labelSetKey(a, 1));
    expect(Number.isSafeInteger(labelSetKey(0xffffffff, 0xffffffff))).toBe(true);
  });
});

describe('the Twin with a /metrics scraper', () => {
  // 40-ms steps: a scrape every 2 s falls on one gap in 50, enough to move the p99
  const profile = testProfile(
    {
      frontend: {
        ...testProfile().frontend,
        metricsRender: { ...render, perLabelSetMs: 0.05, perListedAdapterMs: 0, source: 'test' },
      },
    },
    40,
  );
  /** many sparse adapters: nearly every step runs a new mix; few busy ones: always the same mix */
  const sparse = {
    engine: { maxLoras: 64, maxCpuLoras: 64 },
    adapters: Array.from({ length: 64 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0.1 })),
    durationS: 600,
    seed: 2,
  };
  const busy = { ...sparse, adapters: sparse.adapters.slice(0, 4).map((a) => ({ ...a, rate: 1.6 })) };

  it('lengthens the tails of many sparse adapters, not their throughput, and barely those of a few busy ones', () => {
    const plain = observe(profile, sparse).result;
    const scraped = observe(profile, { ...sparse, metricsScrapeIntervalS: 2 }).result;
    expect(scraped.itlMs!.p99).toBeGreaterThan(1.5 * plain.itlMs!.p99);
    expect(scraped.ttftMs!.p99).toBeGreaterThan(plain.ttftMs!.p99);
    expect(scraped.ttftMs!.p50).toBeLessThan(plain.ttftMs!.p50 * 1.5);
    expect(Math.abs(scraped.completedRequests - plain.completedRequests)).toBeLessThan(0.02 * plain.completedRequests);
    const busyPlain = observe(profile, busy).result;
    const busyScraped = observe(profile, { ...busy, metricsScrapeIntervalS: 2 }).result;
    expect(busyScraped.itlMs!.p99).toBeLessThan(1.5 * busyPlain.itlMs!.p99);
  });

  it("changes nothing without a scraper; a profile without a render model uses the research host's", () => {
    const plain = withoutWall(observe(profile, sparse).result);
    expect(withoutWall(observe(profile, { ...sparse, metricsScrapeIntervalS: 0 }).result)).toEqual(plain);
    const host = observe(testProfile({}, 40), { ...sparse, metricsScrapeIntervalS: 2 }).result;
    expect(host.ttftMs!.p99).toBeGreaterThan(observe(testProfile({}, 40), sparse).result.ttftMs!.p99);
  });

  it('fast-forward and stepping one by one agree', () => {
    const scenario = { ...sparse, metricsScrapeIntervalS: 2 };
    const fast = observe(profile, scenario, { fastForward: true }).result;
    const slow = observe(profile, scenario, { fastForward: false }).result;
    expect(slow.completedRequests).toBe(fast.completedRequests);
    expect(slow.ttftMs!.p99).toBeCloseTo(fast.ttftMs!.p99, 3);
    expect(slow.itlMs!.p99).toBeCloseTo(fast.itlMs!.p99, 0);
  });
});

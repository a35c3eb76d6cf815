import { describe, expect, it } from 'vitest';
import { criterionOf, defaultSlo, effectiveSlo, twinVerdict } from '../../src/placement/criterion.js';
import { parseWorkload } from '../../src/placement/index.js';
import type { SimulationResult } from '../../src/twin/index.js';

const workload = (over: Record<string, unknown> = {}) =>
  parseWorkload({ model: 'm', gpu: 'g', adapters: [{ id: 'a', rank: 8, rate: 1 }], ...over });

const summary = (mean: number, p99: number) => ({ mean, p50: mean, p90: mean, p99 });
/** A clean Twin run with two adapters; `over` replaces fields. */
function run(over: Partial<SimulationResult> = {}): SimulationResult {
  return {
    memoryError: null,
    starved: false,
    starvedAdapters: [],
    ttftMs: summary(100, 500),
    itlMs: summary(20, 60),
    durationS: 3600,
    adapters: [
      {
        id: 'a',
        arrivedRequests: 10,
        completedRequests: 10,
        servedFraction: 1,
        ttftMs: summary(80, 300),
        itlMs: summary(20, 50),
      },
      {
        id: 'b',
        arrivedRequests: 5,
        completedRequests: 5,
        servedFraction: 1,
        ttftMs: summary(150, 600),
        itlMs: summary(20, 50),
      },
    ],
    ...over,
  } as SimulationResult;
}

describe('placement criterion', () => {
  it('defaults to the documented SLO, keeps given targets, and the research rule on request', () => {
    expect(criterionOf(workload())).toEqual({
      kind: 'slo',
      judgeOn: 'estimate',
      ...defaultSlo,
      adapterTtftMs: defaultSlo.ttftP99Ms,
    });
    expect(criterionOf(workload({ slo: { ttftP99Ms: 1000 } }))).toEqual({
      kind: 'slo',
      judgeOn: 'estimate',
      ttftP99Ms: 1000,
      adapterTtftMs: 1000,
    });
    expect(criterionOf(workload({ slo: { ttftMs: 800 } }))).toEqual({
      kind: 'slo',
      judgeOn: 'estimate',
      ttftMs: 800,
      adapterTtftMs: 800,
    });
    expect(criterionOf(workload({ criterion: 'throughput' }))).toEqual({ kind: 'throughput', judgeOn: 'estimate' });
    expect(criterionOf(workload({ criterion: 'throughput', slo: { itlMs: 30 } }))).toEqual({
      kind: 'throughput',
      judgeOn: 'estimate',
      itlMs: 30,
    });
    expect(effectiveSlo(criterionOf(workload({ criterion: 'throughput' })))).toBeNull();
    expect(effectiveSlo(criterionOf(workload()))).toEqual(defaultSlo);
    expect(criterionOf(workload({ options: { judgeSloOn: 'bound' } })).judgeOn).toBe('bound');
    expect(effectiveSlo(criterionOf(workload({ options: { judgeSloOn: 'bound' } })))).toEqual(defaultSlo);
  });

  it('judges on the calibrated upper bounds when asked, and on the estimates by default', () => {
    const estimate = criterionOf(workload());
    const bound = criterionOf(workload({ options: { judgeSloOn: 'bound' } }));
    // every estimate within the default SLO (2 s, 200 ms), every bound beyond it
    const r = run({
      ttftMs: summary(900, 1500),
      itlMs: summary(20, 150),
      ttftP99UpperMs: 3000,
      itlP99UpperMs: 250,
      ttftMeanUpperMs: 1800,
      worstAdapterTtftUpperMs: 2400,
    });
    expect(twinVerdict(r, estimate)).toEqual({ met: true, failures: [] });
    expect(twinVerdict(r, bound).failures).toEqual([
      'p99 TTFT bound 3000 ms > 2000 ms',
      'p99 ITL bound 250 ms > 200 ms',
      "an adapter's mean TTFT bound 2400 ms > 2000 ms",
    ]);
    const mean = criterionOf(workload({ slo: { ttftMs: 1000 }, options: { judgeSloOn: 'bound' } }));
    expect(twinVerdict(r, mean).failures).toContain('mean TTFT bound 1800 ms > 1000 ms');
    // a stored result without bounds is judged on its figures
    expect(twinVerdict(run({ ttftMs: summary(900, 1500) }), bound)).toEqual({ met: true, failures: [] });
  });

  it('passes a GPU within every target and names each target it misses', () => {
    const slo = criterionOf(workload({ slo: { ttftP99Ms: 1000, itlP99Ms: 100 } }));
    expect(twinVerdict(run(), slo)).toEqual({ met: true, failures: [] });
    expect(twinVerdict(run({ ttftMs: summary(100, 1500) }), slo).failures).toEqual(['p99 TTFT 1500 ms > 1000 ms']);
    expect(twinVerdict(run({ itlMs: summary(20, 150) }), slo).failures).toEqual(['p99 ITL 150 ms > 100 ms']);
    // b under 90 % with 3 of its 5 requests unfinished is starved; with 1 unfinished the window's end cut it
    const unfinished = (n: number) =>
      run().adapters!.map((a) => (a.id === 'b' ? { ...a, completedRequests: 5 - n, servedFraction: (5 - n) / 5 } : a));
    expect(twinVerdict(run({ starvedAdapters: ['b'], adapters: unfinished(3) }), slo).failures).toEqual([
      '1 adapter(s) below 90 % of their traffic with 3+ requests unfinished',
    ]);
    expect(twinVerdict(run({ starvedAdapters: ['b'], adapters: unfinished(1) }), slo)).toEqual({
      met: true,
      failures: [],
    });
    expect(twinVerdict(run({ memoryError: 'too many slots' }), slo)).toEqual({
      met: false,
      failures: ['memory error: too many slots'],
    });
  });

  it('judges cold adapters by their mean TTFT, one that completed nothing by the whole window', () => {
    const slo = criterionOf(workload({ slo: { ttftP99Ms: 1000 } }));
    const cold = run().adapters!.map((a) => (a.id === 'b' ? { ...a, ttftMs: summary(1200, 2000) } : a));
    expect(twinVerdict(run({ adapters: cold }), slo).failures).toEqual(["an adapter's mean TTFT 1200 ms > 1000 ms"]);
    const none = run().adapters!.map((a) => (a.id === 'b' ? { ...a, completedRequests: 0, ttftMs: null } : a));
    expect(twinVerdict(run({ adapters: none }), slo).failures).toEqual(["an adapter's mean TTFT 3600000 ms > 1000 ms"]);
  });

  it('under the research rule only a starved GPU or a memory error fails (and mean targets when given)', () => {
    const research = criterionOf(workload({ criterion: 'throughput' }));
    expect(twinVerdict(run({ ttftMs: summary(90_000, 200_000), starvedAdapters: ['a'] }), research).met).toBe(true);
    expect(twinVerdict(run({ starved: true }), research).met).toBe(false);
    expect(
      twinVerdict(run(), criterionOf(workload({ criterion: 'throughput', slo: { ttftMs: 50 } }))).failures,
    ).toEqual(['mean TTFT 100 ms > 50 ms']);
  });
});

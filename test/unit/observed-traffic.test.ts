import { describe, expect, it } from 'vitest';
import {
  decayedRate,
  mergeReading,
  observedWorkload,
  withinHysteresis,
  type TrafficReading,
} from '../../src/observe/observed-traffic.js';
import { PoolSourceBody, resolvedQueries } from '../../src/observe/traffic-source.js';
import { parseWorkload } from '../../src/placement/index.js';

const reading = (entries: [string, number, number | null][]): TrafficReading => ({
  adapters: new Map(entries.map(([id, rate, input]) => [id, { rate, inputTokens: input, outputTokens: null }])),
  ignoredSeries: 0,
  droppedSeries: { rate: 0, inputTokens: 0, outputTokens: 0 },
});
const source = PoolSourceBody.parse({
  workload: { model: 'llama-3.1-8b-instruct', gpu: 'h100-64gb' },
  prometheus: {
    admitUnknown: true,
    unknownAdapterRank: 16,
    graceS: 100,
    selector: 'pool="p1"',
    windowS: 120,
    adapters: [
      { id: 'known', rank: 64, path: '/lora/known' },
      { id: 'pinned', rank: 8, rate: 0.5 },
    ],
  },
});

describe('observed traffic', () => {
  it('fills the queries with the selector, window and adapter label', () => {
    const q = resolvedQueries(source.prometheus);
    expect(q.rate).toBe(
      'sum by (target_model_name) (rate(llm_d_epp_request_total{pool="p1"}[120s]) or ' +
        'rate(inference_objective_request_total{pool="p1"}[120s]))',
    );
    expect(q.inputTokens).toContain('llm_d_epp_request_input_tokens_sum{pool="p1"}[120s]');
  });

  it('keeps an adapter gone from the traffic at its last rate for the grace period, then drops it', () => {
    const first = mergeReading(
      [],
      reading([
        ['a', 4, 300],
        ['b', 2, null],
      ]),
      0,
      100,
    );
    const later = mergeReading(first, reading([['a', 6, 310]]), 50_000, 100);
    expect(later.map((a) => [a.id, a.rate, a.lastSeenAt])).toEqual([
      ['a', 6, 50_000],
      ['b', 2, 0],
    ]);
    expect(decayedRate(later[1]!, 50_000, 100)).toBe(2);
    expect(decayedRate(later[1]!, 100_001, 100)).toBe(0);
    expect(mergeReading(later, reading([['a', 6, 310]]), 101_000, 100).map((a) => a.id)).toEqual(['a']);
  });

  it(
    'builds a valid workload: listed ranks and paths, ' +
      'the unknown rank otherwise, listed adapters with their own rate',
    () => {
      const observed = mergeReading(
        [],
        reading([
          ['known', 3, 500],
          ['new-one', 1, null],
        ]),
        0,
        100,
      );
      const workload = observedWorkload(source, observed, 0);
      expect(workload.adapters).toEqual([
        { id: 'known', rank: 64, rate: 3, path: '/lora/known', inputTokens: { mean: 500 } },
        { id: 'new-one', rank: 16, rate: 1 },
        { id: 'pinned', rank: 8, rate: 0.5 },
      ]);
      expect(parseWorkload(workload).adapters).toHaveLength(3);
    },
  );

  it('calls a drift small only with the same adapters, each within the hysteresis', () => {
    const planned = parseWorkload({
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      adapters: [
        { id: 'a', rank: 8, rate: 10 },
        { id: 'b', rank: 8, rate: 1 },
      ],
    });
    const next = (a: number, b: number, extra = false) => ({
      adapters: [{ id: 'a', rate: a }, { id: 'b', rate: b }, ...(extra ? [{ id: 'c', rate: 1 }] : [])],
    });
    expect(withinHysteresis(planned, next(10.9, 0.95), 0.1)).toBe(true);
    expect(withinHysteresis(planned, next(11.5, 1), 0.1)).toBe(false);
    expect(withinHysteresis(planned, next(10, 1, true), 0.1)).toBe(false);
  });

  it(
    'refuses a selector that is not label matchers (it is pasted into PromQL), ' +
      'and unknown adapters without a rank',
    () => {
      const bad = PoolSourceBody.safeParse({
        workload: source.workload,
        prometheus: { admitUnknown: true, unknownAdapterRank: 8, selector: 'a="x"}) or vector(1' },
      });
      expect(bad.success).toBe(false);
      expect(bad.error!.issues[0]!.path).toEqual(['prometheus', 'selector']);
      expect(
        PoolSourceBody.safeParse({ workload: source.workload, prometheus: { admitUnknown: true } }).error!.issues[0]!
          .path,
      ).toEqual(['prometheus', 'unknownAdapterRank']);
      expect(PoolSourceBody.safeParse({ workload: source.workload, prometheus: {} }).error!.issues[0]!.path).toEqual([
        'prometheus',
        'adapters',
      ]);
    },
  );
});

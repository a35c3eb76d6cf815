import { describe, expect, it } from 'vitest';
import {
  assignmentScenario,
  dloraProactive,
  dynamoLike,
  rateBalancing,
  researchNextFit,
  roundRobin,
  type GpuAssignment,
} from '../../src/bench/baselines/placements.js';
import { fewestVerifiedGpus } from '../../src/bench/baselines/fewest-gpus.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { parseWorkload, type GpuSimulator } from '../../src/placement/index.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { simulateParsed } from '../../src/twin/index.js';
import { skewedWorkload } from '../helpers/workloads.js';

const llama = PredictorRegistry.fromDirectory(embeddedProfiles()).get('llama-3.1-8b-instruct', 'h100-64gb');

describe('baselines', () => {
  const workload = parseWorkload(skewedWorkload(90, 30_000, 8));
  const totals = (gpus: GpuAssignment[]): Map<number, number> => {
    const m = new Map<number, number>();
    for (const g of gpus) for (const a of g.adapters) m.set(a.adapter, (m.get(a.adapter) ?? 0) + a.rate);
    return m;
  };
  const coversAll = (gpus: GpuAssignment[]): void => {
    const t = totals(gpus);
    workload.adapters.forEach((a, i) => {
      expect(t.get(i)).toBeCloseTo(a.rate, 9);
    });
    for (const g of gpus) {
      expect(new Set(g.adapters.map((a) => a.adapter)).size).toBe(g.adapters.length);
      expect(Math.max(...g.adapters.map((a) => workload.adapters[a.adapter]!.rank))).toBeLessThanOrEqual(g.maxLoraRank);
    }
  };

  it('rate balancing evens out demand over k GPUs with one slot per adapter', () => {
    const gpus = rateBalancing(workload, 4);
    expect(gpus).toHaveLength(4);
    coversAll(gpus);
    for (const g of gpus) expect(g.maxLoras).toBe(g.adapters.length);
    const loads = gpus.map((g) => g.adapters.reduce((s, a) => s + a.rate, 0));
    expect(Math.max(...loads) / Math.min(...loads)).toBeLessThan(1.2);
  });

  it('round robin deals adapters in turn', () => {
    const gpus = roundRobin(workload, 4);
    coversAll(gpus);
    expect(gpus.map((g) => g.adapters.length)).toEqual([23, 23, 22, 22]);
  });

  it('dLoRA-like placement replicates hot adapters and splits their traffic evenly', () => {
    const gpus = dloraProactive(workload, llama.profile, 4);
    coversAll(gpus);
    const replicas = new Map<number, number[]>();
    for (const g of gpus)
      for (const a of g.adapters) replicas.set(a.adapter, [...(replicas.get(a.adapter) ?? []), a.rate]);
    for (const rates of replicas.values()) expect(new Set(rates.map((r) => r.toFixed(12))).size).toBe(1);
  });

  it(
    'Dynamo-like allocation gives hot adapters replicas by load, splits their traffic evenly, and moves few ' +
      'adapters when a GPU is added',
    () => {
      const gpus = dynamoLike(workload, 20);
      coversAll(gpus);
      const hosts = (set: GpuAssignment[]): Map<number, number> => {
        const m = new Map<number, number>();
        for (const g of set) for (const a of g.adapters) m.set(a.adapter, (m.get(a.adapter) ?? 0) + 1);
        return m;
      };
      const replicas = hosts(gpus);
      expect(Math.max(...replicas.values())).toBeGreaterThan(1);
      expect([...replicas.values()].filter((n) => n === 1).length).toBeGreaterThan(workload.adapters.length / 2);
      // rendezvous hashing: with a 21st GPU, adapters with one replica either stay or move to the new GPU
      // (400 adapters, so that no GPU is left empty and positions stay GPU numbers)
      const many = parseWorkload(skewedWorkload(400, 30_000, 8));
      const base = dynamoLike(many, 20);
      expect(base).toHaveLength(20);
      const single = hosts(base);
      const before = new Map(base.flatMap((g, i) => g.adapters.map((a) => [a.adapter, i] as const)));
      const after = dynamoLike(many, 21);
      expect(after).toHaveLength(21);
      let moved = 0;
      after.forEach((g, i) => {
        for (const a of g.adapters) {
          if (single.get(a.adapter) !== 1 || hosts(after).get(a.adapter) !== 1) continue;
          if (before.get(a.adapter) !== i) {
            moved++;
            expect(after[i]!.adapters.length).toBeGreaterThan(0);
            expect(i).toBe(20);
          }
        }
      });
      expect(moved).toBeGreaterThan(0);
      expect(moved).toBeLessThan(many.adapters.length / 10);
    },
  );

  it('the research next-fit uses as many GPUs as it needs and never splits an adapter', () => {
    const gpus = researchNextFit(workload, llama);
    coversAll(gpus);
    expect(totals(gpus).size).toBe(workload.adapters.length);
    expect(gpus.reduce((n, g) => n + g.adapters.length, 0)).toBe(workload.adapters.length);
    for (const g of gpus) expect(g.maxLoras).toBeLessThanOrEqual(g.adapters.length);
  });

  it('finds the fewest GPU count that verifies, trying few counts', async () => {
    // a fake Twin: a GPU starves when it carries more than 10 req/s
    const simulate: GpuSimulator = async (scenarios) =>
      scenarios.map((s) => {
        const load = s.adapters.reduce((sum, a) => sum + a.rate, 0);
        return {
          ...simulateParsed({ ...s, durationS: 1, adapters: s.adapters.slice(0, 1) }, llama.profile),
          starved: load > 10,
        };
      });
    const total = workload.adapters.reduce((s, a) => s + a.rate, 0);
    const r = await fewestVerifiedGpus(
      (k) => rateBalancing(workload, k).map((g) => assignmentScenario(workload, g, 2048, 2048)),
      1,
      64,
      simulate,
      2,
    );
    expect(r.gpus).not.toBeNull();
    const loads = rateBalancing(workload, r.gpus!).map((g) => g.adapters.reduce((s, a) => s + a.rate, 0));
    expect(Math.max(...loads)).toBeLessThanOrEqual(10);
    expect(
      Math.max(...rateBalancing(workload, r.gpus! - 1).map((g) => g.adapters.reduce((s, a) => s + a.rate, 0))),
    ).toBeGreaterThan(10);
    expect(r.gpus!).toBeGreaterThanOrEqual(Math.ceil(total / 10));
    expect(r.tried.length).toBeLessThan(12);
  });
});

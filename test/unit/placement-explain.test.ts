import { describe, expect, it } from 'vitest';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { PlacementContext } from '../../src/placement/context.js';
import { bindingOf } from '../../src/placement/explain.js';
import { GpuBin } from '../../src/placement/gpu-bin.js';
import { Placement, parseWorkload, place, type Workload } from '../../src/placement/index.js';
import { wholeItems } from '../../src/placement/items.js';
import { bestKnobs } from '../../src/placement/knobs.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { skewedWorkload } from '../helpers/workloads.js';

const registry = PredictorRegistry.fromDirectory(embeddedProfiles());
const llama = registry.get('llama-3.1-8b-instruct', 'h100-64gb');
const base = { model: 'llama-3.1-8b-instruct', gpu: 'h100-64gb' };

const placed = async (w: Workload): Promise<Placement> => Placement.parse(await place(parseWorkload(w), llama));

/** All the workload's adapters on one GPU with the predictors' best knobs: the bin and its context. */
function oneGpu(w: Workload): { ctx: PlacementContext; bin: GpuBin } {
  const parsed = parseWorkload(w);
  const ctx = new PlacementContext(llama, parsed, parsed.options);
  ctx.items = wholeItems(parsed);
  const bin = new GpuBin(0, parsed.options.headroom);
  for (const [i, item] of ctx.items.entries()) bin.add(i, item);
  bin.verdict = bestKnobs(ctx, bin);
  return { ctx, bin };
}

/** The predictors' verdict on the bin at its knobs with its traffic x factor. */
function at(ctx: PlacementContext, bin: GpuBin, factor: number) {
  const h = bin.headroom;
  bin.setHeadroom(factor - 1, ctx.items);
  const v = ctx.evaluate(bin, bin.verdict!.slots);
  bin.setHeadroom(h, ctx.items);
  return v;
}

/** Long prompts and answers on a single adapter under the research rule: the KV cache holds few requests. */
const longContexts: Workload = {
  ...base,
  criterion: 'throughput',
  inputTokens: 4000,
  outputTokens: 1000,
  adapters: [{ id: 'long', rank: 8, rate: 0.5 }],
};
/** Hundreds of cold rank-64 adapters under the research rule: far more adapters than slots. */
const coldAdapters: Workload = {
  ...base,
  criterion: 'throughput',
  adapters: Array.from({ length: 300 }, (_, i) => ({ id: `cold-${i}`, rank: 64, rate: 0.05 })),
};

describe('traffic totals', () => {
  it("add up over the GPUs and equal the workload's rates x mean lengths", async () => {
    const w: Workload = {
      ...skewedWorkload(60, 30_000),
      inputTokens: 300,
      outputTokens: { distribution: 'fixed', mean: 120 },
    };
    w.adapters[0] = { ...w.adapters[0]!, inputTokens: 1000, outputTokens: 50 };
    const p = await placed(w);
    expect(p.unplaced).toEqual([]);
    expect(p.gpuCount).toBeGreaterThan(1);
    const expected = { requestsPerSecond: 0, promptTokensPerSecond: 0, outputTokensPerSecond: 0 };
    for (const [i, a] of w.adapters.entries()) {
      expected.requestsPerSecond += a.rate;
      expected.promptTokensPerSecond += a.rate * (i === 0 ? 1000 : 300);
      expected.outputTokensPerSecond += a.rate * (i === 0 ? 50 : 120);
    }
    for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
      expect(p.totals![key]).toBeCloseTo(expected[key], 6);
      expect(p.gpus.reduce((s, g) => s + g.totals![key], 0)).toBeCloseTo(p.totals![key], 6);
    }
    for (const g of p.gpus) {
      // a GPU's tokens are what the predictions call its demand
      expect(g.totals!.promptTokensPerSecond + g.totals!.outputTokensPerSecond).toBeCloseTo(
        g.predicted.idealThroughput,
        4,
      );
      expect(g.totals!.requestsPerSecond).toBeCloseTo(
        g.adapters.reduce((s, a) => s + a.rate, 0),
        9,
      );
    }
  });
});

describe('what binds a GPU', () => {
  it('is the first check to fail as its traffic grows: passes at 1 + headroom, fails 3 % above', () => {
    const { ctx, bin } = oneGpu(skewedWorkload(40, 12_000));
    const b = bindingOf(ctx, bin);
    expect(at(ctx, bin, 1 + b.headroom).feasible).toBe(true);
    const beyond = at(ctx, bin, (1 + b.headroom) * 1.031);
    expect(beyond.feasible).toBe(false);
    expect(b.failingValue).toBeDefined();
    // its value at the GPU's own traffic is the prediction the answer reports
    const own = at(ctx, bin, 1);
    expect(b.value).toBe(own[b.figure as 'ttftP99Ms']);
  });

  it('is the KV cache for long contexts on one adapter, and not for short ones', () => {
    const long = oneGpu(longContexts);
    const b = bindingOf(long.ctx, long.bin);
    expect(b).toMatchObject({ constraint: 'kv-cache', figure: expect.stringMatching(/^(servedFraction|starv)/) });
    expect(b.summary).toMatch(/^kv-cache: /);
    const short = oneGpu({
      ...longContexts,
      inputTokens: 200,
      outputTokens: 200,
      adapters: [{ id: 's', rank: 8, rate: 8 }],
    });
    expect(bindingOf(short.ctx, short.bin).constraint).toBe('throughput');
  });

  it('is the LoRA slots for hundreds of cold adapters, and not for the same traffic on a few', async () => {
    const p = await placed(coldAdapters);
    for (const g of p.gpus) {
      expect(g.adapters.length).toBeGreaterThan(g.engine.maxLoras);
      expect(g.binding!.constraint).toBe('lora-slots');
    }
    const few = oneGpu({ ...coldAdapters, adapters: [0, 1, 2].map((i) => ({ id: `hot-${i}`, rank: 64, rate: 5 })) });
    expect(bindingOf(few.ctx, few.bin).constraint).not.toBe('lora-slots');
  });

  it('is an SLO figure under the default SLO, never one under the research rule without targets', async () => {
    const slo = await placed(skewedWorkload(40, 20_000));
    for (const g of slo.gpus) {
      expect(g.binding!.constraint).toBe('slo');
      expect(['ttftP99Ms', 'itlP99Ms', 'worstAdapterTtftMs']).toContain(g.binding!.figure);
      expect(g.binding!.limit).toBe(g.binding!.figure === 'itlP99Ms' ? 200 : 2000);
      // packing asked every GPU for options.headroom of it
      expect(g.binding!.headroom).toBeGreaterThanOrEqual(g.predicted.headroom - 1e-9);
    }
    const research = await placed(skewedWorkload(40, 20_000, 1, { criterion: 'throughput' }));
    for (const g of research.gpus) expect(g.binding!.constraint).not.toBe('slo');
  });

  it("names the Twin's figure beside the predictors' on a verified GPU", async () => {
    const p = await placed(skewedWorkload(12, 4000, 1, { verify: true, options: { verifyDurationS: 120 } }));
    for (const g of p.gpus) {
      const r = g.verified!;
      const twin: Record<string, number | undefined> = {
        ttftP99Ms: r.ttftMs?.p99,
        itlP99Ms: r.itlMs?.p99,
        worstAdapterTtftMs: Math.max(...(r.adapters ?? []).map((a) => a.ttftMs?.mean ?? 0)),
      };
      expect(g.binding!.twinValue).toBe(twin[g.binding!.figure]);
      expect(g.binding!.summary).toMatch(/; the Twin's run of it: \d/);
    }
  });
});

describe('one GPU fewer', () => {
  it('names the GPU of the re-spread that fails, its figure, and how far it misses', async () => {
    const p = await placed(skewedWorkload(60, 45_000));
    expect(p.gpuCount).toBeGreaterThan(Math.max(2, p.lowerBound));
    const f = p.oneFewer!;
    expect(f).toMatchObject({ gpus: p.gpuCount - 1, outcome: 'fails', basis: 'predictors' });
    expect(f.failingGpus).toBeGreaterThanOrEqual(1);
    // failing means it takes less growth than the placement asks of every GPU
    expect(f.worst!.binding.headroom).toBeLessThan(0.1);
    expect(f.worst!.adapters).toBeGreaterThan(0);
    expect(f.worst!.totals.requestsPerSecond).toBeLessThan(p.totals!.requestsPerSecond);
    expect(f.summary).toContain(f.worst!.binding.summary);
  });

  it('says so when the count is the lower bound, and is not tried for min-latency', async () => {
    const small = await placed({ ...base, adapters: [{ id: 'a', rank: 8, rate: 1 }] });
    expect(small.gpuCount).toBe(small.lowerBound);
    expect(small.oneFewer).toMatchObject({ gpus: 0, outcome: 'at-lower-bound' });
    expect(small.oneFewer!.summary).toMatch(/is the lower bound/);
    expect(small.oneFewer!.worst).toBeUndefined();
    const spread = await placed(skewedWorkload(20, 5000, 1, { objective: 'min-latency', gpuCount: 3 }));
    expect(spread.oneFewer!.outcome).toBe('not-tried');
  });
});

describe('lengths as a bare number', () => {
  it('read as the mean: the same placement as {"mean": N}', async () => {
    const w = skewedWorkload(30, 10_000);
    const bare = await placed({ ...w, inputTokens: 400, outputTokens: 150 });
    const spelled = await placed({ ...w, inputTokens: { mean: 400 }, outputTokens: { mean: 150 } });
    expect({ ...bare, elapsedMs: 0 }).toEqual({ ...spelled, elapsedMs: 0 });
    expect(
      parseWorkload({ ...w, adapters: [{ id: 'x', rank: 8, rate: 1, outputTokens: 64 }] }).adapters[0],
    ).toMatchObject({ outputTokens: { mean: 64 } });
  });

  it('refuses what is neither, saying how to write it', () => {
    const w = skewedWorkload(3, 1000);
    expect(() => parseWorkload({ ...w, inputTokens: '512' })).toThrow(/inputTokens: a number \(the mean, tokens\)/);
    expect(() => parseWorkload({ ...w, inputTokens: -3 })).toThrow(/inputTokens: Too small/);
    expect(() => parseWorkload({ ...w, outputTokens: { mean: 'x' } })).toThrow(/outputTokens\.mean: /);
  });
});

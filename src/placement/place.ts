import { performance } from 'node:perf_hooks';
import type { Predictor } from '../ml/predictor.js';
import type { SimulationResult } from '../twin/index.js';
import { lowerBound, type LowerBound } from './bounds.js';
import { PlacementContext } from './context.js';
import type { GpuBin } from './gpu-bin.js';
import { descend } from './descend.js';
import { improve } from './improve.js';
import { wholeItems } from './items.js';
import { bestKnobs } from './knobs.js';
import { firstFit, packingOrder, type Unplaced } from './pack.js';
import { renderPlacement } from './render.js';
import { spread } from './spread.js';
import { splitHotItems } from './split.js';
import { inProcessSimulator, runsClean, verifyAndRepair, type GpuSimulator } from './verify.js';
import type { Placement } from './placement.js';
import type { ParsedWorkload } from './workload.js';

/** The outcome of packing before verification and rendering. */
export interface PackedPlacement {
  ctx: PlacementContext;
  bins: GpuBin[];
  unplaced: Unplaced[];
  bound: LowerBound;
}

/**
 * Work (adapters summed over predictor evaluations) the improvement phase may spend by default: half
 * of what the greedy spent (on the benchmark suite an unlimited budget saves 1.4 % of the GPUs, most of
 * it within this one), and at least enough for a few hundred evaluations on small workloads.
 */
export function defaultImproveWork(greedyWork: number): number {
  return Math.max(20_000, greedyWork / 2);
}

/**
 * Packs a workload with the predictors (no simulation): split hot adapters, first-fit decreasing,
 * improvement, final knobs per GPU. Pure and deterministic (unless options.timeBudgetMs is set).
 */
export function pack(workload: ParsedWorkload, predictor: Predictor): PackedPlacement {
  const started = performance.now();
  const ctx = new PlacementContext(predictor, workload, workload.options);
  ctx.items = splitHotItems(ctx, wholeItems(workload));
  const bound = lowerBound(ctx, ctx.items, workload.adapters.length);
  const order = packingOrder(
    ctx,
    ctx.items.map((_, i) => i),
  );
  const maxGpus = workload.maxGpus ?? Infinity;
  let bins: GpuBin[] = [];
  let unplaced: Unplaced[];
  if (workload.objective === 'min-latency') {
    const count = workload.gpuCount ?? workload.maxGpus ?? minGpusCount(workload, predictor);
    ({ bins, unplaced } = spread(ctx, order, count));
  } else {
    const workBefore = ctx.work;
    unplaced = firstFit(ctx, order, bins, maxGpus);
    const o = workload.options;
    const budget = { work: ctx.work + (o.improveWork ?? defaultImproveWork(ctx.work - workBefore)), ...(o.timeBudgetMs ? { deadline: started + o.timeBudgetMs } : {}) };
    bins = improve(ctx, bins, budget, bound.gpus);
    // GPUs freed by the improvement may take what maxGpus left out
    if (unplaced.length > 0) unplaced = firstFit(ctx, packingOrder(ctx, unplaced.map((u) => u.item)), bins, maxGpus);
  }
  for (const b of bins) b.verdict = bestKnobs(ctx, b, workload.objective === 'min-latency');
  return { ctx, bins, unplaced, bound };
}

function minGpusCount(workload: ParsedWorkload, predictor: Predictor): number {
  return Math.max(1, pack({ ...workload, objective: 'min-gpus' }, predictor).bins.length);
}

export interface PlaceDeps {
  /** Twin runner for `verify: true` (default: this thread, one GPU after another) */
  simulate?: GpuSimulator;
  /** GPUs `simulate` runs at once (the descent asks for this many at a time; default 1) */
  parallel?: number;
}

/** Places a parsed workload; verifies and repairs with the Twin when asked. */
export async function place(workload: ParsedWorkload, predictor: Predictor, deps: PlaceDeps = {}): Promise<Placement> {
  const started = performance.now();
  const packed = pack(workload, predictor);
  let { bins, unplaced } = packed;
  let verification: { results: Map<GpuBin, SimulationResult>; rounds: number; simulated: number } | null = null;
  if (workload.verify) {
    const simulate = deps.simulate ?? inProcessSimulator(predictor.profile);
    const v = await verifyAndRepair(packed.ctx, workload, bins, simulate, workload.maxGpus ?? Infinity);
    bins = v.bins;
    unplaced = [...unplaced, ...v.unplaced];
    verification = v;
    const clean = bins.every((b) => {
      const r = v.results.get(b);
      return r !== undefined && runsClean(r);
    });
    if (workload.options.descend && workload.objective === 'min-gpus' && unplaced.length === 0) {
      // a placement the repairs could not fix gets a re-spread at its own count too
      const d = await descend(packed.ctx, workload, { bins, results: v.results }, clean ? bins.length - 1 : bins.length, packed.bound.gpus, simulate, deps.parallel ?? 1);
      bins = d.bins;
      verification = { results: d.results, rounds: v.rounds, simulated: v.simulated + d.simulated };
    }
  }
  return renderPlacement(workload, packed.ctx, bins, unplaced, packed.bound, verification, performance.now() - started);
}

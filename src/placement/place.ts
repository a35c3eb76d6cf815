import { performance } from 'node:perf_hooks';
import type { GpuEstimator } from '../ml/estimator.js';
import { keyOf, tensorParallelSizeOf } from '../profiles/index.js';
import { invalidInput } from '../shared/errors.js';
import { lowerBound, type LowerBound } from './bounds.js';
import { PlacementContext } from './context.js';
import type { GpuBin } from './gpu-bin.js';
import { descend } from './descend.js';
import { improve } from './improve.js';
import { wholeItems } from './items.js';
import { bestKnobs } from './knobs.js';
import { firstFit, packingOrder, type Unplaced } from './pack.js';
import { renderPlacement, type VerificationSummary } from './render.js';
import { spread } from './spread.js';
import { splitHotItems } from './split.js';
import { inProcessSimulator, meetsCriterion, verifyAndRepair, type GpuSimulator } from './verify.js';
import type { Placement } from './placement.js';
import { checkPlacementWork, SimulationBudget } from './work.js';
import type { ParsedWorkload } from './workload.js';
import { defaultWorkLimits, type WorkLimits } from '../shared/work-limits.js';

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
export function pack(
  workload: ParsedWorkload,
  estimator: GpuEstimator,
  limits: WorkLimits = defaultWorkLimits,
): PackedPlacement {
  const started = performance.now();
  const ctx = new PlacementContext(estimator, workload, workload.options);
  const maxGpus = workload.maxGpus ?? limits.maxGpus;
  const prepared = splitHotItems(ctx, wholeItems(workload), maxGpus);
  ctx.items = prepared.items;
  const unservable = new Set(prepared.unservable.map((u) => u.item));
  const servable = ctx.items.map((_, i) => i).filter((i) => !unservable.has(i));
  const bound = lowerBound(
    ctx,
    servable.map((i) => ctx.items[i]!),
    workload.adapters.length,
  );
  const order = packingOrder(ctx, servable);
  let bins: GpuBin[] = [];
  let unplaced: Unplaced[];
  if (workload.objective === 'min-latency') {
    const count = workload.gpuCount ?? workload.maxGpus ?? Math.min(maxGpus, minGpusCount(workload, estimator, limits));
    ({ bins, unplaced } = spread(ctx, order, count));
  } else {
    const workBefore = ctx.work;
    unplaced = firstFit(ctx, order, bins, maxGpus);
    const o = workload.options;
    const budget = {
      work: ctx.work + (o.improveWork ?? defaultImproveWork(ctx.work - workBefore)),
      ...(o.timeBudgetMs ? { deadline: started + o.timeBudgetMs } : {}),
    };
    bins = improve(ctx, bins, budget, bound.gpus);
    // GPUs freed by the improvement may take what maxGpus left out
    if (unplaced.length > 0)
      unplaced = firstFit(
        ctx,
        packingOrder(
          ctx,
          unplaced.map((u) => u.item),
        ),
        bins,
        maxGpus,
      );
  }
  for (const b of bins) b.verdict = bestKnobs(ctx, b, workload.objective === 'min-latency');
  return { ctx, bins, unplaced: [...prepared.unservable, ...unplaced], bound };
}

/** The estimator answers for its profile's servers: a workload asking for other servers is a caller's bug. */
export function checkTensorParallelSize(workload: ParsedWorkload, estimator: GpuEstimator): void {
  const tp = tensorParallelSizeOf(estimator.profile);
  if (workload.tensorParallelSize !== undefined && workload.tensorParallelSize !== tp)
    throw invalidInput('workload', [
      { path: 'tensorParallelSize', message: `${keyOf(estimator.profile)} has servers of ${tp} GPU(s)` },
    ]);
}

function minGpusCount(workload: ParsedWorkload, estimator: GpuEstimator, limits: WorkLimits): number {
  return Math.max(1, pack({ ...workload, objective: 'min-gpus' }, estimator, limits).bins.length);
}

export interface PlaceDeps {
  /** Twin runner for `verify: true` (default: this thread, one GPU after another) */
  simulate?: GpuSimulator;
  /** GPUs `simulate` runs at once (the descent asks for this many at a time; default 1) */
  parallel?: number;
  /** work bounds (default: defaultWorkLimits; benchmarks pass unlimitedWorkLimits) */
  limits?: WorkLimits;
}

/**
 * Places a parsed workload; verifies and repairs with the Twin when asked. Refuses (413) a workload
 * beyond the limits before any work; a verification stops repairing and descending when its
 * simulation budget runs out (`verification.budgetExhausted`).
 */
export async function place(
  workload: ParsedWorkload,
  estimator: GpuEstimator,
  deps: PlaceDeps = {},
): Promise<Placement> {
  const started = performance.now();
  const limits = deps.limits ?? defaultWorkLimits;
  checkPlacementWork(workload, limits);
  checkTensorParallelSize(workload, estimator);
  const packed = pack(workload, estimator, limits);
  let { bins, unplaced } = packed;
  let verification: VerificationSummary | null = null;
  if (workload.verify) {
    const simulate = deps.simulate ?? inProcessSimulator(estimator.profile);
    const budget = new SimulationBudget(limits.maxVerifiedRequests);
    const v = await verifyAndRepair(packed.ctx, workload, bins, simulate, workload.maxGpus ?? limits.maxGpus, budget);
    bins = v.bins;
    unplaced = [...unplaced, ...v.unplaced];
    verification = { results: v.results, rounds: v.rounds, simulated: v.simulated, budgetExhausted: false };
    const clean = bins.every((b) => {
      const r = v.results.get(b);
      return r !== undefined && meetsCriterion(packed.ctx, r);
    });
    if (workload.options.descend && workload.objective === 'min-gpus' && unplaced.length === 0) {
      // a placement the repairs could not fix gets a re-spread at its own count too
      const d = await descend(
        packed.ctx,
        workload,
        { bins, results: v.results },
        clean ? bins.length - 1 : bins.length,
        packed.bound.gpus,
        simulate,
        deps.parallel ?? 1,
        budget,
      );
      bins = d.bins;
      verification = {
        results: d.results,
        rounds: v.rounds,
        simulated: v.simulated + d.simulated,
        budgetExhausted: false,
      };
    }
    verification.budgetExhausted = budget.exhausted;
  }
  return renderPlacement(workload, packed.ctx, bins, unplaced, packed.bound, verification, performance.now() - started);
}

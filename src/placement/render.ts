import { predictedUpperBounds } from '../ml/prediction.js';
import { tensorParallelSizeOf } from '../profiles/index.js';
import type { SimulationResult } from '../twin/index.js';
import type { LowerBound } from './bounds.js';
import type { PlacementContext } from './context.js';
import type { GpuBin } from './gpu-bin.js';
import { effectiveSlo, twinVerdict } from './criterion.js';
import { explainPlacement } from './explain.js';
import { binEngine } from './gpu-scenario.js';
import type { Unplaced } from './pack.js';
import type { GpuPlan, Placement } from './placement.js';
import { defaultAdapterPath, vllmArgs } from './vllm-args.js';
import type { ParsedWorkload } from './workload.js';

export interface VerificationSummary {
  results: Map<GpuBin, SimulationResult>;
  rounds: number;
  simulated: number;
  /** the simulation budget (MAX_VERIFIED_REQUESTS) ran out: repairs or the descent stopped early */
  budgetExhausted: boolean;
}

/**
 * The Placement answer (docs/design.md, section Placement): GPUs with knobs, predictions and vLLM arguments, routing,
 * unplaced.
 */
export function renderPlacement(
  workload: ParsedWorkload,
  ctx: PlacementContext,
  bins: GpuBin[],
  unplaced: Unplaced[],
  bound: LowerBound,
  verification: VerificationSummary | null,
  elapsedMs: number,
): Placement {
  const explained = explainPlacement(ctx, workload, bins, bound, (bin) => verification?.results.get(bin));
  const gpus = bins.map((bin, index) => ({
    ...gpuPlan(workload, ctx, bin, index, verification?.results.get(bin)),
    ...explained.gpus[index]!,
  }));
  const tp = tensorParallelSizeOf(ctx.profile);
  const results = verification
    ? bins.map((b) => verification.results.get(b)).filter((r): r is SimulationResult => r !== undefined)
    : [];
  return {
    model: workload.model,
    gpu: workload.gpu,
    objective: workload.objective,
    criterion: ctx.criterion.kind,
    judgedOn: ctx.criterion.judgeOn,
    slo: effectiveSlo(ctx.criterion),
    gpuCount: gpus.length,
    lowerBound: bound.gpus,
    bounds: { throughput: bound.throughput, adapters: bound.adapters },
    // only with tensor parallelism, so that a one-GPU-per-server answer stays what it was
    ...(tp > 1
      ? { serverCount: gpus.length, gpusPerServer: tp, totalGpus: gpus.length * tp, lowerBoundGpus: bound.gpus * tp }
      : {}),
    gpus,
    routing: routingTable(workload, gpus),
    unplaced: mergeUnplaced(ctx, unplaced),
    totals: explained.totals,
    ...(explained.oneFewer ? { oneFewer: explained.oneFewer } : {}),
    ...(verification
      ? {
          verification: {
            rounds: verification.rounds,
            simulatedGpus: verification.simulated,
            starvedGpus: results.filter((r) => r.starved).length,
            memoryErrorGpus: results.filter((r) => r.memoryError !== null).length,
            starvedAdapters: results.reduce((n, r) => n + r.starvedAdapters.length, 0),
            gpusMissingCriterion: results.filter((r) => !twinVerdict(r, ctx.criterion).met).length,
            budgetExhausted: verification.budgetExhausted,
          },
        }
      : {}),
    predictorEvaluations: ctx.evaluations,
    modelVersion: ctx.estimator.version,
    estimator: ctx.estimator.kind,
    ...(ctx.estimator.cost ? { twinEstimate: ctx.estimator.cost() } : {}),
    elapsedMs,
  };
}

function gpuPlan(
  workload: ParsedWorkload,
  ctx: PlacementContext,
  bin: GpuBin,
  index: number,
  verified: SimulationResult | undefined,
): GpuPlan {
  const v = bin.verdict!;
  const headroom = bin.headroom;
  // the answer reports the placed load itself; the knobs were chosen at (1 + headroom) x that load
  bin.setHeadroom(0, ctx.items);
  const nominal = ctx.evaluate(bin, v.slots);
  bin.setHeadroom(headroom, ctx.items);
  const adapters = bin.items.map((i) => ctx.items[i]!);
  const engine = binEngine(ctx, bin);
  const tp = tensorParallelSizeOf(ctx.profile);
  return {
    index,
    gpu: workload.gpu,
    ...(tp > 1 ? { tensorParallelSize: tp } : {}),
    engine,
    adapters: adapters.map((a) => ({ id: a.id, rank: a.rank, rate: a.rate })),
    predicted: {
      throughput: nominal.throughput,
      idealThroughput: nominal.idealThroughput,
      starvationProbability: nominal.starvationProbability,
      itlMs: nominal.itlMs,
      ttftMs: nominal.ttftMs,
      ttftP99Ms: nominal.ttftP99Ms,
      itlP99Ms: nominal.itlP99Ms,
      worstAdapterTtftMs: nominal.worstAdapterTtftMs,
      ...predictedUpperBounds(ctx.estimator, nominal),
      headroom,
    },
    meets: verified
      ? { criterion: ctx.criterion.kind, basis: 'twin' as const, ...twinVerdict(verified, ctx.criterion) }
      : { criterion: ctx.criterion.kind, basis: 'predictors' as const, ...predictedVerdict(v) },
    ...(verified ? { verified } : {}),
    vllmArgs: vllmArgs({
      ...engine,
      tensorParallelSize: tp,
      modules: adapters.map((a) => ({
        name: a.id,
        path: workload.adapters[a.adapter]!.path ?? defaultAdapterPath(workload.options.loraModulesRoot, a.id),
      })),
    }),
  };
}

/** The predictors' verdict at the knobs chosen (at (1 + headroom) x the traffic, as the packing judged it). */
function predictedVerdict(v: GpuBin['verdict'] & object): { met: boolean; failures: string[] } {
  return {
    met: v.feasible,
    failures: v.feasible
      ? []
      : ['the predictors found no knobs that meet the criterion at (1 + headroom) x the traffic'],
  };
}

/** adapter -> GPUs with the share of its requests each should get (a gateway's weighted routing). */
function routingTable(workload: ParsedWorkload, gpus: GpuPlan[]): Placement['routing'] {
  const byAdapter = new Map<string, { gpu: number; rate: number }[]>();
  for (const g of gpus)
    for (const a of g.adapters)
      (byAdapter.get(a.id) ?? byAdapter.set(a.id, []).get(a.id)!).push({ gpu: g.index, rate: a.rate });
  return workload.adapters
    .filter((a) => byAdapter.has(a.id))
    .map((a) => {
      const shares = byAdapter.get(a.id)!;
      const total = shares.reduce((s, t) => s + t.rate, 0);
      return {
        adapter: a.id,
        targets: shares.map((t) => ({ gpu: t.gpu, weight: total > 0 ? t.rate / total : 1 / shares.length })),
      };
    });
}

/** One entry per adapter with any unserved traffic (its shares summed), in workload order. */
function mergeUnplaced(ctx: PlacementContext, unplaced: Unplaced[]): Placement['unplaced'] {
  const byAdapter = new Map<number, { rate: number; reason: string }>();
  for (const u of unplaced) {
    const item = ctx.items[u.item]!;
    const prev = byAdapter.get(item.adapter);
    if (prev) prev.rate += item.rate;
    else byAdapter.set(item.adapter, { rate: item.rate, reason: u.reason });
  }
  return [...byAdapter.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([adapter, u]) => ({ id: ctx.items.find((i) => i.adapter === adapter)!.id, rate: u.rate, reason: u.reason }));
}

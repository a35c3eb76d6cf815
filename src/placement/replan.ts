import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import type { GpuEstimator } from '../ml/estimator.js';
import { keyOf, tensorParallelSizeOf, type Profile } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { defaultWorkLimits, type WorkLimits } from '../shared/work-limits.js';
import { tooMuchWork } from '../twin/index.js';
import { lowerBound, type LowerBound } from './bounds.js';
import { carryOver, type CarriedOver, type PreviousGpu } from './carry-over.js';
import { PlacementContext } from './context.js';
import type { GpuBin } from './gpu-bin.js';
import { withinHysteresis } from './hysteresis.js';
import { retireByPredictors } from './consolidate.js';
import { knobsKeepingSlots, predictorsAccept } from './kept-knobs.js';
import { movesBetween } from './moves.js';
import { firstFit, packingOrder, roomOf, type Unplaced } from './pack.js';
import { checkTensorParallelSize, defaultImproveWork, type PlaceDeps } from './place.js';
import type { Placement } from './placement.js';
import { renderPlacement, type VerificationSummary } from './render.js';
import { shedFewest } from './shed.js';
import { foldIntoSiblingShares } from './sibling-shares.js';
import { retireInTwin } from './twin-consolidation.js';
import { repairInTwin } from './twin-repair.js';
import { inProcessSimulator } from './verify.js';
import { checkPlacementWork, SimulationBudget } from './work.js';
import type { ParsedWorkload } from './workload.js';

export const ReplanSettings = z
  .object({
    hysteresis: z
      .number()
      .finite()
      .min(0)
      .max(1)
      .default(0)
      .describe(
        "answer the current placement unchanged while every adapter's rate is within ± this fraction of " +
          'its rate at the last plan (same adapters, every GPU meeting the criterion); 0: always re-plan',
      ),
  })
  .strict();

/** How to re-plan: the hysteresis, and what place takes (the Twin runner for `verify: true`, the work limits). */
export interface ReplanOptions extends PlaceDeps {
  hysteresis?: number;
}

/**
 * Re-places a workload starting from the current placement, moving as few adapters as it can while
 * every GPU meets the workload's criterion (each move is a cold adapter load and a routing change):
 * adapters stay where their GPU still meets it, departed ones leave, new ones go where the greedy puts
 * them (a GPU with room, else a new one), a GPU that no longer meets it sheds the fewest adapters
 * that fix it, and a GPU is emptied into the others only when that saves it whole. With `verify:
 * true` the Twin judges every changed GPU and repairs those that miss (repairInTwin), then (option
 * `descend`) retires GPUs the Twin finds the others can absorb (retireInTwin). The answer is a
 * Placement with `moves` relative to `current`. Refuses (413) work beyond the limits, as place does.
 */
export async function replan(
  workload: ParsedWorkload,
  estimator: GpuEstimator,
  current: Placement,
  options: ReplanOptions = {},
): Promise<Placement> {
  const started = performance.now();
  const { hysteresis } = parseOrThrow(
    ReplanSettings,
    options.hysteresis === undefined ? {} : { hysteresis: options.hysteresis },
    'replan options',
  );
  const limits = options.limits ?? defaultWorkLimits;
  checkPlacementWork(workload, limits);
  checkTensorParallelSize(workload, estimator);
  checkCurrent(workload, current, limits, estimator.profile);
  if (withinHysteresis(workload, current, hysteresis)) {
    return {
      ...current,
      elapsedMs: performance.now() - started,
      moves: movesBetween(
        current,
        current,
        current.gpus.map((_, i) => i),
      ),
    };
  }
  const ctx = new PlacementContext(estimator, workload, workload.options);
  const maxGpus = workload.maxGpus ?? limits.maxGpus;
  const carried = carryOver(ctx, workload, current, maxGpus);
  const packed = repack(ctx, workload, carried, maxGpus, started);
  let { bins, unplaced } = packed;
  let verification: VerificationSummary | null = null;
  if (workload.verify) {
    const budget = new SimulationBudget(limits.maxVerifiedRequests);
    const simulate = options.simulate ?? inProcessSimulator(estimator.profile);
    const acceptedDemand = new Map(
      [...carried.previous].filter(([, p]) => p.twinAccepted).map(([bin, p]) => [bin, p.demand]),
    );
    let v = await repairInTwin(ctx, workload, bins, simulate, maxGpus, budget, acceptedDemand);
    // the Twin may accept fewer GPUs than the predictors' margins (as the descent does for place)
    if (workload.options.descend && workload.objective === 'min-gpus')
      v = await retireInTwin(ctx, workload, v, packed.bound.gpus, simulate, budget);
    bins = v.bins;
    unplaced = [...unplaced, ...v.unplaced];
    verification = { results: v.results, rounds: v.rounds, simulated: v.simulated, budgetExhausted: budget.exhausted };
  }
  const placement = renderPlacement(
    workload,
    ctx,
    bins,
    unplaced,
    packed.bound,
    verification,
    performance.now() - started,
  );
  return {
    ...placement,
    moves: movesBetween(
      current,
      placement,
      bins.map((b) => carried.previous.get(b)?.index ?? null),
    ),
  };
}

/**
 * Whether a re-plan from `current` can answer this workload: the same model and GPU, the min-gpus
 * objective on both (a min-latency workload asks for its own gpuCount, which a re-plan would not
 * spread to or shrink to), and no more current GPUs than the workload allows (a lowered maxGpus would
 * keep GPUs it no longer allows), and servers of as many GPUs as `profile`'s (the profile of the predictors that
 * will place it). Otherwise the workload is placed from scratch.
 */
export function replanApplies(
  workload: ParsedWorkload,
  current: Placement,
  limits: WorkLimits = defaultWorkLimits,
  profile?: Profile,
): boolean {
  const maxGpus = workload.maxGpus ?? limits.maxGpus;
  const sameServers = (current.gpusPerServer ?? 1) === (profile ? tensorParallelSizeOf(profile) : 1);
  const sameTarget = current.model === workload.model && current.gpu === workload.gpu && sameServers;
  return (
    sameTarget &&
    workload.objective === 'min-gpus' &&
    current.objective === 'min-gpus' &&
    current.gpus.length <= maxGpus
  );
}

function checkCurrent(workload: ParsedWorkload, current: Placement, limits: WorkLimits, profile: Profile): void {
  if (current.model !== workload.model || current.gpu !== workload.gpu) {
    throw new AppError(
      'invalidInput',
      `current placement: it places ${current.model}@${current.gpu}, ` +
        `the workload is for ${workload.model}@${workload.gpu}`,
    );
  }
  const tp = tensorParallelSizeOf(profile);
  if ((current.gpusPerServer ?? 1) !== tp)
    throw new AppError(
      'invalidInput',
      `current placement: its servers span ${current.gpusPerServer ?? 1} GPU(s), those of ${keyOf(profile)} ${tp}`,
    );
  const gpus = current.gpus.length;
  if (gpus > limits.maxGpus)
    throw tooMuchWork(
      'current.gpus',
      `${gpus} GPUs is more than the ${limits.maxGpus} allowed`,
      'maxGpus',
      limits,
      gpus,
    );
}

/**
 * The predictors' part of a re-plan: each carried GPU keeps what it still meets the criterion with
 * (or sheds the fewest items), shed shares fold into their siblings, what waits is packed first-fit
 * over the GPUs (new ones last), GPUs that can be emptied into the others are (min-gpus, fewest
 * adapters first), and each GPU keeps its --max-loras where the predictors allow.
 */
function repack(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  carried: CarriedOver,
  maxGpus: number,
  started: number,
): { bins: GpuBin[]; unplaced: Unplaced[]; bound: LowerBound } {
  const workBefore = ctx.work;
  const shed = carried.bins.flatMap((bin) =>
    keepWithinCriterion(ctx, bin, carried.previous.get(bin)!, workload.verify),
  );
  const waiting = foldIntoSiblingShares(ctx, carried.bins, [...shed, ...carried.pending]);
  let bins = carried.bins.filter((b) => b.count > 0);
  for (const bin of bins) bin.room = roomOf(bin, bin.verdict!);
  const left = firstFit(ctx, packingOrder(ctx, waiting), bins, maxGpus);
  const placed = [...bins.flatMap((b) => b.items), ...left.map((u) => u.item)];
  const bound = lowerBound(
    ctx,
    placed.map((i) => ctx.items[i]!),
    workload.adapters.length,
  );
  const latencyFirst = workload.objective === 'min-latency';
  if (!latencyFirst) {
    const o = workload.options;
    const budget = {
      work: ctx.work + (o.improveWork ?? defaultImproveWork(ctx.work - workBefore)),
      ...(o.timeBudgetMs ? { deadline: started + o.timeBudgetMs } : {}),
    };
    bins = retireByPredictors(ctx, bins, budget, bound.gpus);
  }
  for (const bin of bins) bin.verdict = knobsKeepingSlots(ctx, bin, carried.previous.get(bin)?.slots, latencyFirst);
  return { bins, unplaced: [...carried.unservable, ...left], bound };
}

/**
 * Keeps a carried GPU's adapters where the predictors accept them at the new rates; else sheds the
 * fewest that make them accept it. Under `verify`, a GPU the Twin accepted beyond the predictors'
 * margins keeps them all for the Twin to judge again (repairInTwin sheds if it must). Returns the
 * items shed; the GPU's verdict is set.
 */
function keepWithinCriterion(ctx: PlacementContext, bin: GpuBin, previous: PreviousGpu, verify: boolean): number[] {
  const accepts = (b: GpuBin): boolean => predictorsAccept(ctx, b, previous.slots);
  if (accepts(bin)) return [];
  const shed = verify && previous.twinAccepted ? [] : shedFewest(ctx, bin, accepts);
  if (bin.count > 0) bin.verdict = knobsKeepingSlots(ctx, bin, previous.slots);
  return shed;
}

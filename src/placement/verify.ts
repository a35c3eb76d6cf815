import type { Profile } from '../profiles/index.js';
import { simulateParsed, type ParsedScenario, type SimulationResult } from '../twin/index.js';
import type { PlacementContext } from './context.js';
import { starvedUnderSlo, twinVerdict } from './criterion.js';
import type { GpuBin } from './gpu-bin.js';
import { itemOf } from './items.js';
import { bestKnobs, refit } from './knobs.js';
import { firstFit, roomOf, type Unplaced } from './pack.js';
import { binEngine, gpuScenarioOf } from './gpu-scenario.js';
import { SimulationBudget } from './work.js';
import type { ParsedWorkload } from './workload.js';

/** Runs the Twin on GPU scenarios (in this thread, a worker pool, or elsewhere); answers in input order. */
export type GpuSimulator = (scenarios: ParsedScenario[]) => Promise<SimulationResult[]>;

export function inProcessSimulator(profile: Profile): GpuSimulator {
  return async (scenarios) => scenarios.map((s) => simulateParsed(s, profile));
}

/** The Twin's verdict that a GPU is fine: vLLM starts and the GPU completes at least 90 % of its traffic. */
export function runsClean(r: SimulationResult): boolean {
  return !r.starved && r.memoryError === null;
}

/** Whether the Twin's run of a GPU meets the placement's criterion (SLO or research rule). */
export function meetsCriterion(ctx: PlacementContext, r: SimulationResult): boolean {
  return twinVerdict(r, ctx.criterion).met;
}

/** Headroom added to a GPU each time the Twin finds it starving. */
const repairHeadroomStep = 0.1;

/** The Twin scenario of one GPU: its adapters with their routed rates, their lengths, its knobs. */
export function gpuScenario(ctx: PlacementContext, workload: ParsedWorkload, bin: GpuBin): ParsedScenario {
  const scenario = gpuScenarioOf(
    workload,
    binEngine(ctx, bin),
    bin.items.map((i) => ctx.items[i]!),
  );
  // an SLO judges every adapter's TTFT: the Twin reports them
  return ctx.criterion.kind === 'slo' ? { ...scenario, report: { perAdapter: true } } : scenario;
}

export interface VerifyOutcome {
  bins: GpuBin[];
  results: Map<GpuBin, SimulationResult>;
  unplaced: Unplaced[];
  rounds: number;
  simulated: number;
}

/**
 * Simulates every GPU; a GPU that starves or cannot start gets a tighter margin (more headroom), sheds
 * adapters until the predictors accept it again, and the shed adapters are re-packed elsewhere (or on
 * new GPUs). Changed GPUs are simulated again, for at most `maxRepairRounds` repairs.
 */
export async function verifyAndRepair(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  start: GpuBin[],
  simulate: GpuSimulator,
  maxGpus: number,
  budget: SimulationBudget = new SimulationBudget(Infinity),
): Promise<VerifyOutcome> {
  let bins = start;
  const results = new Map<GpuBin, SimulationResult>();
  const unplaced: Unplaced[] = [];
  let rounds = 0;
  let simulated = 0;
  for (;;) {
    const pending = bins.filter((b) => !b.verified);
    if (pending.length === 0) break;
    const scenarios = pending.map((b) => gpuScenario(ctx, workload, b));
    if (!budget.spend(scenarios)) break;
    rounds++;
    const answers = await simulate(scenarios);
    simulated += pending.length;
    const failing: GpuBin[] = [];
    pending.forEach((b, i) => {
      const r = answers[i]!;
      results.set(b, r);
      b.verified = true;
      if (!meetsCriterion(ctx, r)) failing.push(b);
    });
    if (failing.length === 0 || rounds > ctx.options.maxRepairRounds) break;
    const shed = failing.flatMap((b) => shrink(ctx, b, results.get(b)!));
    const open = bins.filter((b) => !failing.includes(b));
    const placed = [...open, ...failing];
    unplaced.push(...firstFit(ctx, shed, placed, maxGpus));
    bins = placed.filter((b) => b.count > 0);
    for (const b of bins) if (!b.verified) b.verdict = bestKnobs(ctx, b);
  }
  return { bins, results, unplaced, rounds, simulated };
}

/**
 * Raises the GPU's headroom and removes its largest items until the predictors accept the rest;
 * a lone item that still fails is halved (the other half is returned as a new share). When the
 * predictors accept a GPU of several items as it is (they do not see what the Twin missed, e.g. one
 * cold adapter under 90 % of its traffic), the adapters the Twin found starved, or else the largest
 * item, move elsewhere, so that the repair changes it (a lone item the predictors accept stays as it
 * is). Returns the indices of the items to re-pack.
 */
function shrink(ctx: PlacementContext, bin: GpuBin, run: SimulationResult): number[] {
  bin.setHeadroom(bin.headroom + repairHeadroomStep, ctx.items);
  const shed: number[] = [];
  if (refit(ctx, bin) !== null && bin.count > 1) {
    const starved = new Set(ctx.criterion.kind === 'slo' ? starvedUnderSlo(run) : run.starvedAdapters);
    for (let pos = bin.count - 1; pos >= 0 && bin.count > 1; pos--) {
      const item = ctx.items[bin.items[pos]!]!;
      if (starved.has(item.id)) shed.push(bin.removeAt(pos, item));
    }
    if (shed.length === 0) {
      const pos = largestPosition(ctx, bin);
      shed.push(bin.removeAt(pos, ctx.items[bin.items[pos]!]!));
    }
  }
  while (refit(ctx, bin) === null) {
    if (bin.count > 1) {
      const pos = largestPosition(ctx, bin);
      shed.push(bin.removeAt(pos, ctx.items[bin.items[pos]!]!));
      continue;
    }
    const only = bin.items[0]!;
    const item = ctx.items[only]!;
    bin.removeAt(0, item);
    const half = itemOf(item.adapter, item.id, item.rank, item.rate / 2, item.inputMean, item.outputMean);
    half.shared = true;
    ctx.items[only] = half;
    ctx.items.push({ ...half });
    bin.add(only, half);
    shed.push(ctx.items.length - 1);
    if (half.rate < 1e-9) break;
  }
  bin.room = bin.verdict ? roomOf(bin, bin.verdict) : 0;
  return shed;
}

/** Position in the bin of its item with the largest demand. */
function largestPosition(ctx: PlacementContext, bin: GpuBin): number {
  let pos = 0;
  for (let p = 1; p < bin.count; p++)
    if (ctx.items[bin.items[p]!]!.demand > ctx.items[bin.items[pos]!]!.demand) pos = p;
  return pos;
}

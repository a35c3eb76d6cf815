import type { SimulationResult } from '../twin/index.js';
import type { PlacementContext } from './context.js';
import { starvedUnderSlo } from './criterion.js';
import type { GpuBin } from './gpu-bin.js';
import { knobsKeepingSlots } from './kept-knobs.js';
import { twinKnobChoices } from './knobs.js';
import { firstFit, packingOrder, roomOf } from './pack.js';
import { shedFewest, shedLargest } from './shed.js';
import { foldIntoSiblingShares } from './sibling-shares.js';
import { scenarioWithKnobs } from './knob-scenario.js';
import { gpuScenario, meetsCriterion, type GpuSimulator, type VerifyOutcome } from './verify.js';
import type { SimulationBudget } from './work.js';
import type { ParsedWorkload } from './workload.js';

/** Knob choices (the predictors' best first, then the most slots memory allows) a failing GPU tries before an adapter moves. */
const knobTries = 3;

/**
 * The Twin's pass over a re-plan: every changed GPU is simulated at its own traffic, as verification
 * does. A GPU that misses the criterion first tries the other knob choices the descent would try (a
 * vLLM restart, but no adapter moves); if none meets it, it sheds the fewest adapters (see
 * shedWhatTheTwinFaults), which fold into sibling shares or go where the predictors accept them on the
 * other GPUs (or new ones), and every changed GPU is simulated again, at most `maxRepairRounds` times. Unlike
 * verification's repair it does not raise a GPU's headroom and shed until the predictors accept it:
 * the GPU met the criterion in the Twin beyond the predictors' margins before, and would lose most of
 * its adapters.
 */
export async function repairInTwin(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  start: GpuBin[],
  simulate: GpuSimulator,
  maxGpus: number,
  budget: SimulationBudget,
  acceptedDemand: ReadonlyMap<GpuBin, number> = new Map(),
): Promise<VerifyOutcome> {
  const outcome: VerifyOutcome = { bins: start, results: new Map(), unplaced: [], rounds: 0, simulated: 0 };
  const meets = (bin: GpuBin): boolean => meetsCriterion(ctx, outcome.results.get(bin)!);
  for (;;) {
    const pending = outcome.bins.filter((b) => !b.verified);
    if (pending.length === 0 || !(await judge(ctx, workload, pending, simulate, budget, outcome))) break;
    outcome.rounds++;
    const failing = pending.filter((b) => !meets(b));
    if (failing.length === 0 || outcome.rounds > ctx.options.maxRepairRounds) break;
    const stillFailing = await tryOtherKnobs(ctx, workload, failing, simulate, budget, outcome);
    if (stillFailing === null) break;
    const shed = stillFailing.flatMap((bin) => shedWhatTheTwinFaults(ctx, bin, outcome.results.get(bin)!, acceptedDemand.get(bin)));
    // a GPU the Twin just faulted takes nothing this round: the predictors would hand its items back
    const open = outcome.bins.filter((b) => !stillFailing.includes(b));
    const waiting = foldIntoSiblingShares(ctx, open, shed);
    const opened = open.length;
    outcome.unplaced.push(...firstFit(ctx, packingOrder(ctx, waiting), open, maxGpus - stillFailing.length));
    outcome.bins = [...outcome.bins, ...open.slice(opened)].filter((b) => b.count > 0);
  }
  // a GPU changed after its last run (the budget ran out) reports the predictors' verdict, not a stale run
  for (const bin of outcome.bins) if (!bin.verified) outcome.results.delete(bin);
  return outcome;
}

/** Simulates `bins` at their current knobs and records the results; false when the budget is spent. */
async function judge(ctx: PlacementContext, workload: ParsedWorkload, bins: GpuBin[], simulate: GpuSimulator, budget: SimulationBudget, outcome: VerifyOutcome): Promise<boolean> {
  const scenarios = bins.map((b) => gpuScenario(ctx, workload, b));
  if (!budget.spend(scenarios)) return false;
  const results = await simulate(scenarios);
  outcome.simulated += bins.length;
  bins.forEach((b, i) => {
    outcome.results.set(b, results[i]!);
    b.verified = true;
  });
  return true;
}

/**
 * Every other knob choice of each failing GPU in one batch; a GPU takes the first that meets the
 * criterion. Returns the GPUs none fixed (null when the budget is spent).
 */
async function tryOtherKnobs(ctx: PlacementContext, workload: ParsedWorkload, failing: GpuBin[], simulate: GpuSimulator, budget: SimulationBudget, outcome: VerifyOutcome): Promise<GpuBin[] | null> {
  const trials = failing.flatMap((bin) => twinKnobChoices(ctx, bin, knobTries).filter((v) => v.slots !== bin.verdict!.slots).map((verdict) => ({ bin, verdict })));
  const scenarios = trials.map(({ bin, verdict }) => scenarioWithKnobs(ctx, workload, bin, verdict));
  if (!budget.spend(scenarios)) return null;
  const results = scenarios.length > 0 ? await simulate(scenarios) : [];
  outcome.simulated += scenarios.length;
  const fixed = new Set<GpuBin>();
  trials.forEach(({ bin, verdict }, i) => {
    if (fixed.has(bin) || !meetsCriterion(ctx, results[i]!)) return;
    bin.verdict = verdict;
    bin.room = roomOf(bin, verdict);
    outcome.results.set(bin, results[i]!);
    fixed.add(bin);
  });
  return failing.filter((b) => !fixed.has(b));
}


/**
 * What a GPU the Twin faults gives up: the adapters it found starved (when not all of them); else, on
 * a GPU the Twin accepted at a lower load before, the fewest items that bring it back to that load;
 * else its largest item (a lone one is halved). Its knobs are then re-chosen keeping its slots where
 * possible.
 */
function shedWhatTheTwinFaults(ctx: PlacementContext, bin: GpuBin, run: SimulationResult, acceptedDemand: number | undefined): number[] {
  const starved = new Set(ctx.criterion.kind === 'slo' ? starvedUnderSlo(run) : run.starvedAdapters);
  const slots = bin.verdict!.slots;
  const faulted = bin.items.filter((i) => starved.has(ctx.items[i]!.id));
  const shed = faulted.length > 0 && faulted.length < bin.count ? faulted : [];
  for (const i of shed) bin.remove(i, ctx.items);
  if (shed.length === 0 && acceptedDemand !== undefined && bin.demand > acceptedDemand) shed.push(...shedFewest(ctx, bin, (b) => b.demand <= acceptedDemand));
  if (shed.length === 0) shed.push(...shedLargest(ctx, bin));
  bin.verdict = knobsKeepingSlots(ctx, bin, slots);
  bin.room = roomOf(bin, bin.verdict);
  return shed;
}

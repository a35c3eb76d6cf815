import type { SimulationResult } from '../twin/index.js';
import type { PlacementContext } from './context.js';
import { starvedUnderSlo } from './criterion.js';
import type { GpuBin } from './gpu-bin.js';
import { knobsKeepingSlots, predictorsAccept } from './kept-knobs.js';
import { twinKnobChoices } from './knobs.js';
import { firstFit, packingOrder, roomOf } from './pack.js';
import { shedFewest } from './shed.js';
import { foldIntoSiblingShares } from './sibling-shares.js';
import { scenarioWithKnobs } from './knob-scenario.js';
import { gpuScenario, meetsCriterion, type GpuSimulator, type VerifyOutcome } from './verify.js';
import type { SimulationBudget } from './work.js';
import type { ParsedWorkload } from './workload.js';

/**
 * Knob choices (the predictors' best first, then the most slots memory allows) a failing GPU tries before an adapter
 * moves.
 */
const knobTries = 3;

/**
 * Rounds of the Twin's pass over a re-plan with `repairs` (options.maxRepairRounds) repairs per GPU:
 * twice that, so that a GPU that misses only after it received another GPU's shed items (round
 * `repairs` or later) still gets its repairs; the bound ends the pass when shed items keep opening GPUs.
 */
const maxRounds = (repairs: number): number => 2 * repairs;

/**
 * The Twin's pass over a re-plan: every changed GPU is simulated at its own traffic, as verification
 * does. A GPU that misses the criterion first tries the other knob choices the descent would try (a
 * vLLM restart, but no adapter moves); if none meets it, it sheds the fewest adapters (see
 * shedWhatTheTwinFaults), which fold into sibling shares or go where the predictors accept them on the
 * GPUs the Twin has not faulted (or new ones), and every changed GPU is simulated again. Each GPU is
 * shed at most `maxRepairRounds` times (a GPU that misses only after receiving shed items gets its own
 * repairs), in at most 2 x `maxRepairRounds` rounds. Unlike verification's repair it does not raise a
 * GPU's headroom and shed until the predictors accept it: the GPU met the criterion in the Twin beyond
 * the predictors' margins before, and would lose most of its adapters.
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
  const faults = new Map<GpuBin, number>();
  const repairs = ctx.options.maxRepairRounds;
  // each GPU is shed at most `repairs` times; the rounds are bounded too (shed items may open new GPUs)
  for (;;) {
    const pending = outcome.bins.filter((b) => !b.verified);
    if (pending.length === 0 || !(await judge(ctx, workload, pending, simulate, budget, outcome))) break;
    outcome.rounds++;
    const failing = pending.filter((b) => !meets(b));
    if (failing.length === 0 || outcome.rounds > maxRounds(repairs)) break;
    const stillFailing = await tryOtherKnobs(ctx, workload, failing, simulate, budget, outcome);
    if (stillFailing === null) break;
    // a GPU that received shed items and then missed is repaired in its own right, not cut off by the rounds
    const repairable = stillFailing.filter((bin) => (faults.get(bin) ?? 0) < repairs);
    if (repairable.length === 0) break;
    for (const bin of repairable) faults.set(bin, (faults.get(bin) ?? 0) + 1);
    const shed = repairable.flatMap((bin) =>
      shedWhatTheTwinFaults(ctx, bin, outcome.results.get(bin)!, acceptedDemand.get(bin), faults.get(bin)!),
    );
    // a GPU the Twin faulted takes nothing more: the predictors, which accepted it, would hand items back
    const open = outcome.bins.filter((b) => !faults.has(b));
    const waiting = foldIntoSiblingShares(ctx, open, shed);
    const opened = open.length;
    outcome.unplaced.push(
      ...firstFit(ctx, packingOrder(ctx, waiting), open, maxGpus - (outcome.bins.length - open.length)),
    );
    outcome.bins = [...outcome.bins, ...open.slice(opened)].filter((b) => b.count > 0);
  }
  // a GPU changed after its last run (the budget ran out) reports the predictors' verdict, not a stale run
  for (const bin of outcome.bins) if (!bin.verified) outcome.results.delete(bin);
  return outcome;
}

/** Simulates `bins` at their current knobs and records the results; false when the budget is spent. */
async function judge(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  bins: GpuBin[],
  simulate: GpuSimulator,
  budget: SimulationBudget,
  outcome: VerifyOutcome,
): Promise<boolean> {
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
async function tryOtherKnobs(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  failing: GpuBin[],
  simulate: GpuSimulator,
  budget: SimulationBudget,
  outcome: VerifyOutcome,
): Promise<GpuBin[] | null> {
  const trials = failing.flatMap((bin) =>
    twinKnobChoices(ctx, bin, knobTries)
      .filter((v) => v.slots !== bin.verdict!.slots)
      .map((verdict) => ({ bin, verdict })),
  );
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
 * Share of a faulted GPU's load that comes off, per time the Twin has faulted it in this re-plan, when
 * the predictors accept it as it is: they do not see what the Twin missed, a GPU's p99 TTFT falls with
 * its load, and a GPU still missing after a small cut is further from its knee than it looked.
 */
const loadCut = 0.1;

/**
 * What a GPU the Twin faults gives up. When the predictors accept it as it is (they do not see what
 * the Twin missed): the adapters the Twin found starved, when not all of them, as place's repair does;
 * else the fewest items that take `loadCut` x `faults` off its load (at most half). When they refuse
 * it (it is overloaded, and most of its adapters may starve): the fewest items that bring it to where
 * they accept it or to the load the Twin accepted it with in the current plan, whichever comes first
 * (a quiet window's load may be far below what it serves). A lone item is halved. Its knobs are then
 * re-chosen keeping its slots where possible.
 */
function shedWhatTheTwinFaults(
  ctx: PlacementContext,
  bin: GpuBin,
  run: SimulationResult,
  acceptedDemand: number | undefined,
  faults: number,
): number[] {
  const slots = bin.verdict!.slots;
  const before = bin.demand;
  const lighter = (b: GpuBin): boolean => b.demand <= (1 - Math.min(0.5, loadCut * faults)) * before;
  let shed: number[];
  if (predictorsAccept(ctx, bin, slots)) {
    const starved = new Set(ctx.criterion.kind === 'slo' ? starvedUnderSlo(run) : run.starvedAdapters);
    const faulted = bin.items.filter((i) => starved.has(ctx.items[i]!.id));
    if (faulted.length > 0 && faulted.length < bin.count) {
      for (const i of faulted) bin.remove(i, ctx.items);
      shed = faulted;
    } else {
      shed = shedFewest(ctx, bin, lighter);
    }
  } else {
    const target =
      acceptedDemand !== undefined && before > acceptedDemand ? (b: GpuBin) => b.demand <= acceptedDemand : lighter;
    shed = shedFewest(ctx, bin, (b) => target(b) || predictorsAccept(ctx, b, slots));
  }
  bin.verdict = knobsKeepingSlots(ctx, bin, slots);
  bin.room = roomOf(bin, bin.verdict);
  return shed;
}

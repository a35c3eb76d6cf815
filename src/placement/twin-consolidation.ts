import type { ParsedScenario, SimulationResult } from '../twin/index.js';
import type { PlacementContext } from './context.js';
import { atHeadroomLoad, confirmationSeedOffsets, reseeded } from './descend.js';
import type { GpuBin } from './gpu-bin.js';
import { twinKnobChoices } from './knobs.js';
import { roomOf } from './pack.js';
import { scenarioWithKnobs } from './knob-scenario.js';
import { meetsCriterion, runsClean, type GpuSimulator, type VerifyOutcome } from './verify.js';
import type { SimulationBudget } from './work.js';
import type { ParsedWorkload } from './workload.js';

/** Knob choices (the predictors' best first, then the most slots memory allows) a receiving GPU may try. */
const knobTries = 3;

/**
 * After the Twin's pass over a re-plan: retires a GPU while the Twin accepts the others with its
 * adapters, which the predictors' margins would refuse (placement from scratch gets the same GPUs by
 * its descent). The candidates are the GPU with the fewest adapters (the fewest moves) and the
 * lightest. Its items go largest first to the least-loaded other GPU that may take them; every other
 * adapter stays. A receiving GPU is accepted as the descent accepts one: at one of its knob
 * choices it starts, is not starved and meets the criterion at (1 + headroom) x its traffic, and then
 * meets it at its own traffic on the verification seed and, under an SLO, on the confirmation seeds.
 * Each retirement saves a whole GPU; a refused one is undone, and the pass ends when both are refused.
 */
export async function retireInTwin(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  outcome: VerifyOutcome,
  floor: number,
  simulate: GpuSimulator,
  budget: SimulationBudget,
): Promise<VerifyOutcome> {
  while (outcome.bins.length > Math.max(1, floor)) {
    const fewest = outcome.bins.reduce((a, b) =>
      b.count < a.count || (b.count === a.count && b.demand < a.demand) ? b : a,
    );
    const lightest = outcome.bins.reduce((a, b) => (b.demand < a.demand ? b : a));
    let retired = false;
    for (const candidate of new Set([fewest, lightest])) {
      retired = await retire(ctx, workload, outcome, candidate, simulate, budget);
      if (retired) break;
    }
    if (!retired) break;
  }
  return outcome;
}

/** Retires `candidate` if the Twin accepts the GPUs that receive its items; else changes nothing. */
async function retire(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  outcome: VerifyOutcome,
  candidate: GpuBin,
  simulate: GpuSimulator,
  budget: SimulationBudget,
): Promise<boolean> {
  const others = outcome.bins.filter((b) => b !== candidate);
  const saved = others.map((b) => ({
    bin: b,
    items: b.items.slice(),
    verdict: b.verdict,
    verified: b.verified,
    room: b.room,
  }));
  const receivers = spreadOver(ctx, candidate, others);
  const accepted =
    receivers === null ? null : await acceptReceivers(ctx, workload, receivers, simulate, budget, outcome);
  if (accepted === null) {
    for (const s of saved) {
      s.bin.reset(s.items, ctx.items);
      s.bin.verdict = s.verdict;
      s.bin.verified = s.verified;
      s.bin.room = s.room;
    }
    return false;
  }
  for (const [bin, result] of accepted) {
    outcome.results.set(bin, result);
    bin.verified = true;
    bin.room = roomOf(bin, bin.verdict!);
  }
  outcome.results.delete(candidate);
  outcome.bins = others;
  return true;
}

/**
 * The GPU's items, largest first, each to the least-loaded GPU of `others` that may take it; the GPUs that received any
 * (null when one fits nowhere).
 */
function spreadOver(ctx: PlacementContext, from: GpuBin, others: GpuBin[]): GpuBin[] | null {
  const receivers = new Set<GpuBin>();
  for (const index of [...from.items].sort((a, b) => ctx.items[b]!.demand - ctx.items[a]!.demand || a - b)) {
    const item = ctx.items[index]!;
    const target = others
      .filter((b) => ctx.mayTake(b, item))
      .reduce<GpuBin | null>((best, b) => (best === null || b.demand < best.demand ? b : best), null);
    if (target === null) return null;
    target.add(index, item);
    receivers.add(target);
  }
  return [...receivers];
}

/**
 * Every receiving GPU's first knob choice the Twin accepts (see retireInTwin), heaviest GPU first so
 * that a refusal costs few runs: a GPU's choices at the headroom load in one batch, then its runs at
 * its own traffic with the first choice that passed. Null as soon as one GPU has no accepted choice
 * or the budget is spent. On success each GPU keeps the knobs that passed and its run at its own
 * traffic on the verification seed.
 */
async function acceptReceivers(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  receivers: GpuBin[],
  simulate: GpuSimulator,
  budget: SimulationBudget,
  outcome: VerifyOutcome,
): Promise<Map<GpuBin, SimulationResult> | null> {
  const seeds = ctx.criterion.kind === 'slo' ? [0, ...confirmationSeedOffsets] : [0];
  const accepted = new Map<GpuBin, SimulationResult>();
  const run = async (scenarios: ParsedScenario[]): Promise<SimulationResult[] | null> => {
    if (!budget.spend(scenarios)) return null;
    outcome.simulated += scenarios.length;
    return simulate(scenarios);
  };
  for (const bin of [...receivers].sort((a, b) => b.demand - a.demand)) {
    const choices = twinKnobChoices(ctx, bin, knobTries);
    const own = choices.map((verdict) => scenarioWithKnobs(ctx, workload, bin, verdict));
    const atHeadroom = await run(own.map((s) => atHeadroomLoad(s, ctx.options.headroom)));
    if (atHeadroom === null) return null;
    const first = atHeadroom.findIndex((r) => runsClean(r) && meetsCriterion(ctx, r));
    if (first < 0) return null;
    const confirmed = await run(seeds.map((offset) => reseeded(own[first]!, offset)));
    if (confirmed === null || !confirmed.every((r) => meetsCriterion(ctx, r))) return null;
    bin.verdict = choices[first]!;
    accepted.set(bin, confirmed[0]!);
  }
  return accepted;
}

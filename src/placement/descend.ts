import type { ParsedScenario, SimulationResult } from '../twin/index.js';
import { balanceOver } from './balance.js';
import type { PlacementContext } from './context.js';
import type { GpuBin, GpuVerdict } from './gpu-bin.js';
import { twinKnobChoices } from './knobs.js';
import { gpuScenario, meetsCriterion, runsClean, type GpuSimulator } from './verify.js';
import { SimulationBudget } from './work.js';
import type { ParsedWorkload } from './workload.js';

/** Knob choices (the predictors' best first) the Twin may try on one GPU of a re-spread placement. */
const knobTries = 3;

/**
 * Share of a GPU's adapters allowed under 90 % of their own traffic even when the verified placement
 * had none: at a GPU's full load a few cold adapters fall short by chance alone.
 */
const starvedShareFloor = 0.01;

export interface DescentOutcome {
  bins: GpuBin[];
  results: Map<GpuBin, SimulationResult>;
  simulated: number;
}

/**
 * After verification: tries `from` GPUs and then one fewer at a time, down to the lower bound, with the
 * items re-spread by load (`balanceOver`), and keeps the fewest count whose every GPU the Twin accepts.
 * The predictors' margins decide the first placement; the Twin, which is what verification trusts,
 * decides whether fewer GPUs do. A GPU is accepted when, at one of the knob choices the Twin may try
 * (`twinKnobChoices`), it neither starves nor fails to start at its traffic x (1 + headroom) (the safety the
 * packing asked of the predictors), starves no larger share of its adapters than the verified
 * placement did, and its simulated TTFT / ITL means meet the SLO when one is given.
 * The accepted GPUs are then simulated at their own traffic, which is what the answer reports, and
 * under an SLO on the confirmation seeds too; a count whose GPUs miss the criterion on any of these
 * runs gives way to the next larger accepted one.
 */
export async function descend(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  verified: { bins: GpuBin[]; results: Map<GpuBin, SimulationResult> },
  from: number,
  floor: number,
  simulate: GpuSimulator,
  batch: number,
  budget: SimulationBudget = new SimulationBudget(Infinity),
): Promise<DescentOutcome> {
  const items = verified.bins.flatMap((b) => b.items);
  const allowed = starvedAdapterShare(verified);
  const counter = { simulated: 0 };
  const accepted: { bins: GpuBin[]; results: SimulationResult[] }[] = [];
  for (let k = from; k >= Math.max(1, floor); k--) {
    const bins = balanceOver(ctx, items, k);
    const results =
      bins === null ? null : await acceptAll(ctx, workload, bins, allowed, simulate, batch, counter, budget);
    if (results === null) break;
    accepted.push({ bins: bins!, results });
  }
  // the fewest accepted count whose GPUs also meet the criterion at their own traffic and, under an
  // SLO, on the confirmation seeds (other arrival draws): the run at the verification seed is reported
  const offsets = confirmationSeeds(ctx);
  for (let i = accepted.length - 1; i >= 0; i--) {
    const state = accepted[i]!;
    let answers = state.results;
    const atOwnTraffic = state.bins.map((b) => gpuScenario(ctx, workload, b));
    const reported = ctx.options.headroom > 0 ? atOwnTraffic : [];
    const runs = [...reported, ...offsets.flatMap((offset) => atOwnTraffic.map((s) => reseeded(s, offset)))];
    // without budget for them, the answer reports the runs the descent accepted
    if (runs.length > 0 && budget.spend(runs)) {
      const out = await simulate(runs);
      counter.simulated += runs.length;
      if (!out.every((r) => meetsCriterion(ctx, r))) continue;
      if (reported.length > 0) answers = out.slice(0, reported.length);
    }
    const results = new Map<GpuBin, SimulationResult>();
    state.bins.forEach((b, j) => {
      b.verified = true;
      results.set(b, answers[j]!);
    });
    return { bins: state.bins, results, simulated: counter.simulated };
  }
  return { ...verified, simulated: counter.simulated };
}

/**
 * The Twin's verdict on every GPU at (1 + headroom) x its traffic, `batch` GPUs at a time, heaviest
 * first; a GPU that fails gets its next knob choice. Null as soon as one GPU fails at all of them.
 * On success each bin keeps the knobs that passed.
 */
async function acceptAll(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  bins: GpuBin[],
  allowedStarvedShare: number,
  simulate: GpuSimulator,
  batch: number,
  counter: { simulated: number },
  budget: SimulationBudget,
): Promise<SimulationResult[] | null> {
  const choices = new Map<GpuBin, GpuVerdict[]>(bins.map((b) => [b, twinKnobChoices(ctx, b, knobTries)]));
  const results = new Array<SimulationResult>(bins.length);
  const queue = bins.map((_, i) => i).sort((a, b) => bins[b]!.demand - bins[a]!.demand || a - b);
  const attempt = new Array<number>(bins.length).fill(0);
  while (queue.length > 0) {
    const chunk = queue.splice(0, batch);
    const scenarios = chunk.map((i) => {
      const bin = bins[i]!;
      bin.verdict = choices.get(bin)![attempt[i]!]!;
      return atHeadroomLoad(gpuScenario(ctx, workload, bin), ctx.options.headroom);
    });
    if (!budget.spend(scenarios)) return null;
    const answers = await simulate(scenarios);
    counter.simulated += chunk.length;
    for (const [j, i] of chunk.entries()) {
      const r = answers[j]!;
      const fair = r.starvedAdapters.length <= allowedStarvedShare * bins[i]!.count;
      if (runsClean(r) && fair && meetsCriterion(ctx, r)) {
        results[i] = r;
        continue;
      }
      if (++attempt[i]! >= choices.get(bins[i]!)!.length) return null;
      queue.unshift(i);
    }
  }
  return results;
}

/**
 * Share of the verified placement's items whose adapters got under 90 % of their own traffic served:
 * no re-spread GPU may starve a larger share of its adapters (a GPU can keep up as a whole while a
 * few slots leave its cold adapters waiting).
 */
function starvedAdapterShare(verified: { bins: GpuBin[]; results: Map<GpuBin, SimulationResult> }): number {
  let starved = 0;
  let items = 0;
  for (const b of verified.bins) {
    starved += verified.results.get(b)?.starvedAdapters.length ?? 0;
    items += b.count;
  }
  return Math.max(starvedShareFloor, items > 0 ? starved / items : 0);
}

/**
 * Seed offsets on which a descended GPU must also meet an SLO. A GPU near its knee has a p99 TTFT
 * that swings with the arrival draw (on a bursty code trace, 1.8-5.2 s over five seeds at one load): one
 * seed's pass promises less than a pass on three. The research rule, a share of tokens served, barely
 * moves with the draw.
 */
export const confirmationSeedOffsets: readonly number[] = [1, 2];

function confirmationSeeds(ctx: PlacementContext): readonly number[] {
  return ctx.criterion.kind === 'slo' ? confirmationSeedOffsets : [];
}

/** The scenario with its seed moved by `offset`: another arrival draw of the same traffic. */
export function reseeded(s: ParsedScenario, offset: number): ParsedScenario {
  return { ...s, seed: (s.seed ?? 0) + offset };
}

/** The scenario with every adapter's traffic x (1 + headroom). */
export function atHeadroomLoad(s: ParsedScenario, headroom: number): ParsedScenario {
  return headroom > 0 ? { ...s, adapters: s.adapters.map((a) => ({ ...a, rate: a.rate * (1 + headroom) })) } : s;
}

import { slotGrid, type PlacementContext } from './context.js';
import type { GpuBin, GpuVerdict } from './gpu-bin.js';

/** Next larger slot counts an insertion tries before it starts doubling. */
const slotStepsPerInsertion = 3;

/** Slot counts worth trying for `adapters` adapters below `limit`: the grid, plus the adapter count itself. */
export function slotCandidates(adapters: number, limit: number): number[] {
  const top = Math.min(adapters, limit);
  const out = slotGrid.filter((s) => s <= top);
  if (top >= 1 && out[out.length - 1] !== top) out.push(top);
  return out;
}

/**
 * Tries to add item `index` to `bin`: keeps the GPU's slots if the predictors accept, else tries the
 * next few slot counts, then doubles up to the memory limit (more slots: less waiting for a slot,
 * more overhead per step and less KV cache).
 * Keeps the item and returns the verdict on success; leaves the bin as it was and returns null otherwise.
 */
export function tryAdd(ctx: PlacementContext, bin: GpuBin, index: number): GpuVerdict | null {
  const item = ctx.items[index]!;
  const pos = bin.add(index, item);
  const v = acceptAtSomeSlots(ctx, bin);
  if (v) return v;
  bin.removeAt(pos, item);
  return null;
}

/**
 * Adds the longest prefix of `run` the predictors accept (all of it if possible, else by bisection):
 * many small adapters cost a few evaluations instead of one each. Returns how many were added.
 */
export function tryAddRun(ctx: PlacementContext, bin: GpuBin, run: readonly number[]): number {
  let inBin = 0;
  const resize = (n: number): void => {
    for (; inBin < n; inBin++) bin.add(run[inBin]!, ctx.items[run[inBin]!]!);
    for (; inBin > n; inBin--) bin.remove(run[inBin - 1]!, ctx.items);
  };
  const before = bin.verdict;
  resize(run.length);
  if (acceptAtSomeSlots(ctx, bin)) return run.length;
  let ok = 0;
  let okVerdict = before;
  let bad = run.length;
  while (bad - ok > 1) {
    const mid = (ok + bad) >> 1;
    resize(mid);
    const v = acceptAtSomeSlots(ctx, bin, false);
    if (v) {
      ok = mid;
      okVerdict = v;
    } else bad = mid;
  }
  resize(ok);
  bin.verdict = okVerdict;
  return ok;
}

/**
 * Sets and returns the first accepted verdict over the bin's insertion slot counts, or null
 * (bin.verdict untouched). `thorough: false` stops after the next few counts (bisection probes).
 */
function acceptAtSomeSlots(ctx: PlacementContext, bin: GpuBin, thorough = true): GpuVerdict | null {
  const maxAdapterRank = bin.maxRank();
  const limit = ctx.slotsAllowed(ctx.loraRankFor(maxAdapterRank));
  if (limit < 1) return null;
  const n = bin.count;
  const current = Math.min(bin.verdict?.slots ?? 1, limit, n);
  for (const slots of insertionSlots(current, n, limit, thorough)) {
    const v = ctx.evaluate(bin, slots, maxAdapterRank);
    if (v.feasible) {
      bin.verdict = v;
      return v;
    }
  }
  return null;
}

function insertionSlots(current: number, adapters: number, limit: number, thorough: boolean): number[] {
  const larger = slotCandidates(adapters, limit).filter((s) => s > current);
  const tries = [current, ...larger.slice(0, slotStepsPerInsertion)];
  if (!thorough) return tries;
  for (let target = 2 * tries[tries.length - 1]!; ; target *= 2) {
    const next = larger.find((s) => s >= target && s > tries[tries.length - 1]!);
    if (next === undefined) break;
    tries.push(next);
  }
  const top = larger[larger.length - 1];
  if (top !== undefined && tries[tries.length - 1] !== top) tries.push(top);
  return tries;
}

/** Re-chooses the knobs of a bin whose contents or headroom changed; null when no slot count passes. */
export function refit(ctx: PlacementContext, bin: GpuBin): GpuVerdict | null {
  if (bin.count === 0) return null;
  const best = bestKnobs(ctx, bin);
  if (best.feasible) bin.verdict = best;
  return best.feasible ? best : null;
}

/**
 * The best knobs for the bin's adapters over every candidate slot count. Feasible ones first; among
 * them the lowest predicted TTFT (queueing shows there first: two slot counts with the same
 * throughput can differ by seconds of waiting for a slot), or the lowest ITL when `latencyFirst`;
 * ties by starvation probability and served fraction. Returns the best infeasible verdict when
 * nothing passes.
 */
export function bestKnobs(ctx: PlacementContext, bin: GpuBin, latencyFirst = false): GpuVerdict {
  return rankedKnobs(ctx, bin, latencyFirst)[0]!;
}

/**
 * The knob choices the Twin tries on a GPU: the predictors' best `tries`, then the most slots memory
 * allows (a slot for every adapter when it fits). The predictors rank slot counts by their margins,
 * and where every count misses those margins they can rank too few slots first, while the Twin finds
 * that a slot per adapter keeps every cold adapter's TTFT low (as rate balancing's one slot per
 * adapter does).
 */
export function twinKnobChoices(ctx: PlacementContext, bin: GpuBin, tries: number): GpuVerdict[] {
  const ranked = rankedKnobs(ctx, bin).filter((v) => v.slots >= 1);
  const best = ranked.slice(0, tries);
  const most = ranked.reduce<GpuVerdict | undefined>(
    (top, v) => (top === undefined || v.slots > top.slots ? v : top),
    undefined,
  );
  return most !== undefined && !best.includes(most) ? [...best, most] : best;
}

/**
 * `bestKnobs` over a coarse grid (powers of four and the most slots allowed, five or six counts instead of
 * up to 36): knobs for a spread that is only judged, never served (the answer's one-GPU-fewer attempt).
 */
export function coarseKnobs(ctx: PlacementContext, bin: GpuBin): GpuVerdict {
  const maxAdapterRank = bin.maxRank();
  const candidates = slotCandidates(bin.count, Math.max(1, ctx.slotsAllowed(ctx.loraRankFor(maxAdapterRank))));
  const top = candidates[candidates.length - 1]!;
  const coarse = candidates.filter((s) => ((s & (s - 1)) === 0 && Math.log2(s) % 2 === 0) || s === top);
  return coarse
    .map((slots) => ctx.evaluate(bin, slots, maxAdapterRank))
    .reduce((best, v) => (better(v, best, false) ? v : best));
}

/** Every candidate slot count's verdict for the bin, best first (the order of `bestKnobs`). */
export function rankedKnobs(ctx: PlacementContext, bin: GpuBin, latencyFirst = false): GpuVerdict[] {
  const maxAdapterRank = bin.maxRank();
  const limit = ctx.slotsAllowed(ctx.loraRankFor(maxAdapterRank));
  const candidates = slotCandidates(bin.count, Math.max(1, limit));
  // the slot count the bin was accepted with stays a candidate (the grid may skip it)
  const current = bin.verdict?.slots;
  if (current !== undefined && current <= Math.min(bin.count, limit) && !candidates.includes(current))
    candidates.push(current);
  const verdicts = candidates.map((slots) => ctx.evaluate(bin, slots, maxAdapterRank));
  return verdicts.sort((a, b) =>
    better(a, b, latencyFirst) ? -1 : better(b, a, latencyFirst) ? 1 : a.slots - b.slots,
  );
}

function better(a: GpuVerdict, b: GpuVerdict, latencyFirst: boolean): boolean {
  if (a.feasible !== b.feasible) return a.feasible;
  if (!a.feasible) return a.servedFraction - a.starvationProbability > b.servedFraction - b.starvationProbability;
  const la = latencyFirst ? a.itlMs : a.ttftMs;
  const lb = latencyFirst ? b.itlMs : b.ttftMs;
  if (la !== lb) return la < lb;
  if (a.starvationProbability !== b.starvationProbability) return a.starvationProbability < b.starvationProbability;
  return a.servedFraction > b.servedFraction;
}

import { performance } from 'node:perf_hooks';
import type { PlacementContext } from './context.js';
import type { GpuBin, GpuVerdict } from './gpu-bin.js';
import { tryAdd, tryAddRun } from './knobs.js';
import { roomOf, runFrom } from './pack.js';

export interface ImproveBudget {
  /** stop once ctx.work (adapters summed over evaluations) reaches this */
  work: number;
  /** optional wall-clock deadline (performance.now()) */
  deadline?: number;
}

interface Snapshot {
  bin: GpuBin;
  contents: number[];
  verdict: GpuVerdict | null;
  room: number;
}

/**
 * Local search after the greedy: repeatedly tries to empty the lightest GPU by moving its adapters,
 * largest first, into the other GPUs (tightest room first, i.e. best fit); when an adapter fits
 * nowhere, tries swapping it for a smaller adapter of another GPU that then moves back. A GPU that
 * cannot be emptied is skipped until some other GPU changes. Returns the surviving GPUs.
 */
export function improve(ctx: PlacementContext, bins: GpuBin[], budget: ImproveBudget, minGpus: number): GpuBin[] {
  let live = bins.slice();
  const stuck = new Set<GpuBin>();
  while (live.length > minGpus && !exhausted(ctx, budget)) {
    const lightest = live.filter((b) => !stuck.has(b)).sort((a, b) => a.demand - b.demand || a.index - b.index)[0];
    if (!lightest) break;
    const others = live.filter((b) => b !== lightest);
    // rooms are optimistic: when even they cannot hold the lightest GPU's demand, do not try
    const room = others.reduce((sum, b) => sum + Math.max(0, b.room), 0);
    if (room >= lightest.demand && emptyInto(ctx, lightest, others, budget)) {
      live = others;
      stuck.clear();
    } else {
      stuck.add(lightest);
    }
  }
  return live;
}

function exhausted(ctx: PlacementContext, budget: ImproveBudget): boolean {
  return ctx.work >= budget.work || (budget.deadline !== undefined && performance.now() >= budget.deadline);
}

/**
 * Moves every item of `from` into `targets`, or changes nothing. Items go largest first; small ones
 * in runs (see tryAddRun). An item that fits nowhere may swap with a smaller item of another GPU,
 * which then has to move in turn.
 */
function emptyInto(ctx: PlacementContext, from: GpuBin, targets: GpuBin[], budget: ImproveBudget): boolean {
  const snapshots = new Map<GpuBin, Snapshot>();
  const remember = (bin: GpuBin): void => {
    if (!snapshots.has(bin))
      snapshots.set(bin, { bin, contents: bin.items.slice(), verdict: bin.verdict, room: bin.room });
  };
  remember(from);
  const queue = from.items.slice().sort((a, b) => ctx.items[b]!.demand - ctx.items[a]!.demand || a - b);
  from.reset([], ctx.items);
  const swapped = new Set<number>();
  for (let q = 0; q < queue.length; ) {
    if (exhausted(ctx, budget)) return rollback(ctx, snapshots);
    const moved = placeRun(ctx, queue, q, targets, remember);
    if (moved > 0) {
      q += moved;
      continue;
    }
    const returned = swapIn(ctx, queue[q]!, targets, swapped, remember);
    if (returned === null) return rollback(ctx, snapshots);
    swapped.add(returned);
    queue.push(returned);
    q++;
  }
  return true;
}

/** Best fit: the GPU with the least room that accepts queue[q] (with as many following small items as fit). */
function placeRun(
  ctx: PlacementContext,
  queue: number[],
  q: number,
  targets: GpuBin[],
  remember: (b: GpuBin) => void,
): number {
  const item = ctx.items[queue[q]!]!;
  const candidates = targets.filter((b) => b.room >= item.demand && ctx.mayTake(b, item));
  candidates.sort((a, b) => a.room - b.room || a.index - b.index);
  for (const bin of candidates) {
    remember(bin);
    const run = runFrom(ctx, queue, q, bin.room / 4, ctx.options.maxAdaptersPerGpu - bin.count);
    const added = run.length > 1 ? tryAddRun(ctx, bin, run) : tryAdd(ctx, bin, queue[q]!) ? 1 : 0;
    if (added > 0) {
      bin.room = roomOf(bin, bin.verdict!);
      return added;
    }
  }
  return 0;
}

/**
 * Swap: puts `index` on a GPU in place of one of its two smallest items, which is returned to be
 * moved in its turn. Each item is swapped out at most once.
 */
function swapIn(
  ctx: PlacementContext,
  index: number,
  targets: GpuBin[],
  swapped: Set<number>,
  remember: (b: GpuBin) => void,
): number | null {
  const item = ctx.items[index]!;
  for (const bin of targets) {
    if (item.shared && bin.holdsAdapter(ctx.items, item.adapter)) continue;
    const smaller = bin.items
      .filter((j) => !swapped.has(j) && ctx.items[j]!.demand < item.demand)
      .sort((a, b) => ctx.items[a]!.demand - ctx.items[b]!.demand);
    for (const j of smaller.slice(0, 2)) {
      remember(bin);
      const before = bin.verdict;
      bin.remove(j, ctx.items);
      if (tryAdd(ctx, bin, index)) {
        bin.room = roomOf(bin, bin.verdict!);
        return j;
      }
      bin.add(j, ctx.items[j]!);
      bin.verdict = before;
    }
  }
  return null;
}

/** Undoes a failed attempt: every touched GPU gets its original items, knobs and room back. */
function rollback(ctx: PlacementContext, snapshots: Map<GpuBin, Snapshot>): false {
  for (const s of snapshots.values()) {
    s.bin.reset(s.contents, ctx.items);
    s.bin.verdict = s.verdict;
    s.bin.room = s.room;
  }
  return false;
}

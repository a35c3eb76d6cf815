import { performance } from 'node:perf_hooks';
import type { PlacementContext } from './context.js';
import type { GpuBin } from './gpu-bin.js';
import type { ImproveBudget } from './improve.js';
import { tryAdd } from './knobs.js';
import { roomOf } from './pack.js';

/**
 * Retires GPUs the other GPUs can absorb as the predictors judge it, the GPU with the fewest adapters
 * first: each of its adapters is a move, and the moves buy something only when the GPU empties
 * entirely. Its items go largest first, best fit (the GPU with the least room that accepts them); a
 * GPU that cannot be emptied keeps all of them. Unlike the improvement phase of place (which empties
 * the lightest GPU by demand, swapping items when they fit nowhere), no swap moves a second adapter.
 * Stops at `floor` GPUs or when the work budget is spent.
 */
export function retireByPredictors(
  ctx: PlacementContext,
  bins: GpuBin[],
  budget: ImproveBudget,
  floor: number,
): GpuBin[] {
  let live = bins.slice();
  const kept = new Set<GpuBin>();
  while (live.length > Math.max(1, floor) && !spent(ctx, budget)) {
    const candidate = live
      .filter((b) => !kept.has(b))
      .sort((a, b) => a.count - b.count || a.demand - b.demand || a.index - b.index)[0];
    if (!candidate) break;
    const others = live.filter((b) => b !== candidate);
    // rooms are optimistic: when even they cannot hold the candidate's demand, do not try
    const room = others.reduce((sum, b) => sum + Math.max(0, b.room), 0);
    if (room >= candidate.demand && moveAllInto(ctx, candidate, others, budget)) {
      live = others;
      kept.clear();
    } else {
      kept.add(candidate);
    }
  }
  return live;
}

function spent(ctx: PlacementContext, budget: ImproveBudget): boolean {
  return ctx.work >= budget.work || (budget.deadline !== undefined && performance.now() >= budget.deadline);
}

/** Moves every item of `from` onto `targets`, or changes nothing. */
function moveAllInto(ctx: PlacementContext, from: GpuBin, targets: GpuBin[], budget: ImproveBudget): boolean {
  const saved = targets.map((bin) => ({ bin, items: bin.items.slice(), verdict: bin.verdict, room: bin.room }));
  const undo = (): false => {
    for (const s of saved) {
      s.bin.reset(s.items, ctx.items);
      s.bin.verdict = s.verdict;
      s.bin.room = s.room;
    }
    return false;
  };
  for (const index of [...from.items].sort((a, b) => ctx.items[b]!.demand - ctx.items[a]!.demand || a - b)) {
    if (spent(ctx, budget)) return undo();
    const item = ctx.items[index]!;
    const candidates = targets
      .filter((b) => b.room >= item.demand && ctx.mayTake(b, item))
      .sort((a, b) => a.room - b.room || a.index - b.index);
    const target = candidates.find((bin) => tryAdd(ctx, bin, index) !== null);
    if (target === undefined) return undo();
    target.room = roomOf(target, target.verdict!);
  }
  from.reset([], ctx.items);
  return true;
}

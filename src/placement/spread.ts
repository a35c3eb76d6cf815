import type { PlacementContext } from './context.js';
import { GpuBin } from './gpu-bin.js';
import { tryAdd } from './knobs.js';
import type { Unplaced } from './pack.js';

/**
 * min-latency: spreads the items over exactly `gpuCount` GPUs, each to the least-loaded GPU that the
 * predictors accept it on (longest-processing-time-first balancing with a feasibility check).
 */
export function spread(
  ctx: PlacementContext,
  order: readonly number[],
  gpuCount: number,
): { bins: GpuBin[]; unplaced: Unplaced[] } {
  const bins = Array.from({ length: gpuCount }, (_, i) => new GpuBin(i, ctx.options.headroom));
  const unplaced: Unplaced[] = [];
  for (const index of order) {
    const item = ctx.items[index]!;
    const candidates = bins
      .filter((b) => ctx.mayTake(b, item))
      .sort((a, b) => a.demand - b.demand || a.index - b.index);
    if (!candidates.some((bin) => tryAdd(ctx, bin, index) !== null)) {
      unplaced.push({
        item: index,
        reason: `does not fit on any of the ${gpuCount} GPUs (min-latency spreads over exactly gpuCount GPUs)`,
      });
    }
  }
  return { bins: bins.filter((b) => b.count > 0), unplaced };
}

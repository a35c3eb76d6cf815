import type { PlacementContext } from './context.js';
import { GpuBin } from './gpu-bin.js';
import { bestKnobs } from './knobs.js';
import type { GpuVerdict } from './gpu-bin.js';

/**
 * The placed items re-spread over exactly `gpuCount` GPUs by load alone (largest demand first, each
 * to the GPU with the least demand that may take it: under the adapter cap and not already holding a
 * share of the same adapter), then each GPU's knobs chosen by the predictors. Unlike packing, no GPU
 * refuses an item: this is a candidate for the Twin to judge, used when the predictors' margins
 * are what keeps the count up. Null when the cap or the shares leave an item nowhere to go.
 * `knobs` chooses each GPU's knobs (default: bestKnobs).
 */
export function balanceOver(
  ctx: PlacementContext,
  itemIndices: readonly number[],
  gpuCount: number,
  knobs: (ctx: PlacementContext, bin: GpuBin) => GpuVerdict = bestKnobs,
): GpuBin[] | null {
  const bins = Array.from({ length: gpuCount }, (_, i) => new GpuBin(i, ctx.options.headroom));
  const order = [...itemIndices].sort((a, b) => ctx.items[b]!.demand - ctx.items[a]!.demand || a - b);
  for (const index of order) {
    const item = ctx.items[index]!;
    let target: GpuBin | null = null;
    for (const bin of bins) {
      if (ctx.mayTake(bin, item) && (target === null || bin.demand < target.demand)) target = bin;
    }
    if (target === null) return null;
    target.add(index, item);
  }
  const used = bins.filter((b) => b.count > 0);
  for (const bin of used) bin.verdict = knobs(ctx, bin);
  return used;
}

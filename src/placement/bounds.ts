import type { PlacementContext } from './context.js';
import type { PlacementItem } from './items.js';

export interface LowerBound {
  /** max of the bounds below */
  gpus: number;
  /** ceil(sum over adapters of demand / best-case capacity of a GPU for that adapter's rank and lengths) */
  throughput: number;
  /** ceil(adapters / maxAdaptersPerGpu) */
  adapters: number;
}

/**
 * A lower bound on the GPUs any placement needs to serve the workload sustainably (every GPU's
 * demand within its saturated throughput), under the profile's calibrated step-time model:
 *
 * - throughput (L1 of bin packing with item-dependent capacity): a GPU completes at most its saturated
 *   tokens/s, and that is highest with a single slot (every extra slot adds per-step LoRA work and
 *   takes KV cache) at the lowest --max-lora-rank its adapters allow. An adapter of rank r therefore
 *   uses at least demand / C(r, its lengths) of some GPU, where C is that best-case capacity; the
 *   shares of all adapters sum to at most one per GPU.
 * - adapters: no GPU serves more than `maxAdaptersPerGpu` adapters (--max-cpu-loras cap).
 *
 * It ignores everything that only makes more GPUs necessary (slot contention, rank mixing, integrality
 * of adapters), so the gap to it overstates the distance from the optimum.
 */
export function lowerBound(ctx: PlacementContext, items: readonly PlacementItem[], adapterCount: number): LowerBound {
  let load = 0;
  for (const item of items) {
    const c = ctx.soloCapacity(item);
    if (c > 0) load += item.demand / c;
  }
  // a whisker of tolerance so that floating-point sums of exact fits do not round up
  const throughput = Math.ceil(load - 1e-9);
  const adapters = Math.ceil(adapterCount / ctx.options.maxAdaptersPerGpu);
  return { gpus: Math.max(1, throughput, adapters), throughput, adapters };
}

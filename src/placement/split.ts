import type { PlacementContext } from './context.js';
import { GpuBin } from './gpu-bin.js';
import { splitItem, tokensBeyondModel, type PlacementItem } from './items.js';
import type { Unplaced } from './pack.js';

/**
 * The highest rate of `item`'s adapter that one GPU accepts with that adapter alone (one slot), by
 * bisection on the predictors; the item's own rate when all of it fits.
 */
export function maxSoloRate(ctx: PlacementContext, item: PlacementItem): number {
  // far below what one GPU completes and no latency SLO: no need to ask the predictors
  const noSlo =
    ctx.criterion.kind === 'throughput' && ctx.constraints.itlMs === undefined && ctx.constraints.ttftMs === undefined;
  if (item.rate === 0 || (noSlo && item.demand * (1 + ctx.options.headroom) <= 0.5 * ctx.soloCapacity(item)))
    return item.rate;
  const probe = new GpuBin(-1, ctx.options.headroom);
  const fits = (rate: number): boolean => {
    probe.reset([], ctx.items);
    probe.add(0, { ...item, rate, demand: rate * (item.inputMean + item.outputMean) });
    return ctx.evaluate(probe, 1).feasible;
  };
  if (fits(item.rate)) return item.rate;
  let lo = 0;
  let hi = item.rate;
  for (let i = 0; i < 30 && hi - lo > 1e-4 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** What packing works on: the items, and those that no placement can serve (with the reason). */
export interface PreparedItems {
  items: PlacementItem[];
  unservable: Unplaced[];
}

/**
 * Splits every adapter too hot for one GPU into shares (see splitItem), at most `maxGpus` of them;
 * the traffic beyond, and adapters whose requests exceed the model's max_model_len, are unservable.
 */
export function splitHotItems(ctx: PlacementContext, items: readonly PlacementItem[], maxGpus: number): PreparedItems {
  const out: PlacementItem[] = [];
  const unservable: Unplaced[] = [];
  const maxModelLen = ctx.profile.maxModelLen;
  for (const item of items) {
    if (tokensBeyondModel(item, maxModelLen) > 0) {
      const tokens = Math.round(item.inputMean + item.outputMean);
      unservable.push({
        item: out.length,
        reason:
          `its requests average ${tokens} tokens (prompt + output), more than ` +
          `max_model_len ${maxModelLen} of ${ctx.profile.model}: vLLM refuses them`,
      });
      out.push(item);
      continue;
    }
    const max = maxSoloRate(ctx, item);
    if (max >= item.rate || max <= 0) {
      out.push(item);
      continue;
    }
    const { shares, rest } = splitItem(item, max, maxGpus);
    for (const share of shares) out.push(share);
    if (rest) {
      unservable.push({
        item: out.length,
        reason:
          `needs more than the ${maxGpus} GPUs allowed by maxGpus ` +
          `(one GPU carries at most ${max.toPrecision(3)} req/s of it)`,
      });
      out.push(rest);
    }
  }
  return { items: out, unservable };
}

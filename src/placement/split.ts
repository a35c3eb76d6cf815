import type { PlacementContext } from './context.js';
import { GpuBin } from './gpu-bin.js';
import { splitItem, type PlacementItem } from './items.js';

/**
 * The highest rate of `item`'s adapter that one GPU accepts with that adapter alone (one slot), by
 * bisection on the predictors; the item's own rate when all of it fits.
 */
export function maxSoloRate(ctx: PlacementContext, item: PlacementItem): number {
  // far below what one GPU completes and no latency SLO: no need to ask the predictors
  const noSlo = ctx.constraints.itlMs === undefined && ctx.constraints.ttftMs === undefined;
  if (item.rate === 0 || (noSlo && item.demand * (1 + ctx.options.headroom) <= 0.5 * ctx.soloCapacity(item))) return item.rate;
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

/** Splits every adapter too hot for one GPU into shares (see splitItem); the rest pass through. */
export function splitHotItems(ctx: PlacementContext, items: readonly PlacementItem[]): PlacementItem[] {
  const out: PlacementItem[] = [];
  for (const item of items) {
    const max = maxSoloRate(ctx, item);
    if (max >= item.rate || max <= 0) out.push(item);
    else out.push(...splitItem(item, max));
  }
  return out;
}

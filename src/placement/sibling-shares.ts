import type { PlacementContext } from './context.js';
import type { GpuBin } from './gpu-bin.js';
import { tryAdd } from './knobs.js';
import { roomOf } from './pack.js';

/**
 * Folds shares that need a GPU into another share of the same adapter where that GPU still accepts
 * the sum: a routing weight changes and no adapter moves. Returns the items still needing a GPU.
 */
export function foldIntoSiblingShares(
  ctx: PlacementContext,
  bins: readonly GpuBin[],
  pending: readonly number[],
): number[] {
  return pending.filter((index) => !(ctx.items[index]!.shared && bins.some((bin) => foldInto(ctx, bin, index))));
}

/** Adds item `index`'s traffic to the bin's share of the same adapter if the predictors accept it. */
function foldInto(ctx: PlacementContext, bin: GpuBin, index: number): boolean {
  const items = ctx.items;
  const extra = items[index]!;
  const sibling = bin.items.find((i) => items[i]!.adapter === extra.adapter);
  if (sibling === undefined) return false;
  const before = items[sibling]!;
  const { verdict, verified } = bin;
  bin.remove(sibling, items);
  const rate = before.rate + extra.rate;
  items[sibling] = { ...before, rate, demand: rate * (before.inputMean + before.outputMean) };
  if (tryAdd(ctx, bin, sibling)) {
    bin.room = roomOf(bin, bin.verdict!);
    return true;
  }
  items[sibling] = before;
  bin.add(sibling, before);
  bin.verdict = verdict;
  bin.verified = verified;
  return false;
}

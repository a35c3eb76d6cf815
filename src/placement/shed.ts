import type { PlacementContext } from './context.js';
import type { GpuBin } from './gpu-bin.js';
import { itemOf } from './items.js';

/** Whether a GPU's current contents are acceptable (a check may set the GPU's verdict). */
export type GpuCheck = (bin: GpuBin) => boolean;

/**
 * Takes the fewest items off a GPU until `accepts` it: largest demand first, since each removal then
 * takes off the most load; the last one removed is then traded for the smallest item that also
 * suffices, so that less load has to find room elsewhere for the same number of moves. A lone item
 * still refused is halved and the other half returned as a new share. Returns the indices shed.
 */
export function shedFewest(ctx: PlacementContext, bin: GpuBin, accepts: GpuCheck): number[] {
  const shed: number[] = [];
  let halved = false;
  while (bin.count > 0 && !accepts(bin)) {
    halved = bin.count === 1;
    const taken = shedLargest(ctx, bin);
    if (taken.length === 0) break;
    shed.push(...taken);
  }
  if (shed.length > 0 && !halved) shed[shed.length - 1] = smallestSufficient(ctx, bin, shed[shed.length - 1]!, accepts);
  return shed;
}

/** Takes the GPU's largest item off it, or halves its only item (the other half returned as a new share). */
export function shedLargest(ctx: PlacementContext, bin: GpuBin): number[] {
  if (bin.count === 0) return [];
  if (bin.count === 1) {
    const half = halveLoneItem(ctx, bin);
    return half === null ? [] : [half];
  }
  const pos = largestPosition(ctx, bin);
  return [bin.removeAt(pos, ctx.items[bin.items[pos]!]!)];
}

/**
 * The smallest item that could leave `bin` instead of `removed` (taken off last) with the GPU still
 * accepted: bisection over the smaller items, as a smaller item frees less. Leaves that item off the
 * GPU (and `removed` back on it) and the GPU's verdict set; returns the item's index.
 */
function smallestSufficient(ctx: PlacementContext, bin: GpuBin, removed: number, accepts: GpuCheck): number {
  const items = ctx.items;
  const smaller = bin.items
    .filter((i) => items[i]!.demand < items[removed]!.demand)
    .sort((a, b) => items[a]!.demand - items[b]!.demand || a - b);
  bin.add(removed, items[removed]!);
  let lo = 0;
  let hi = smaller.length - 1;
  let chosen = removed;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    bin.remove(smaller[mid]!, items);
    const ok = accepts(bin);
    bin.add(smaller[mid]!, items[smaller[mid]!]!);
    if (ok) {
      chosen = smaller[mid]!;
      hi = mid - 1;
    } else lo = mid + 1;
  }
  bin.remove(chosen, items);
  accepts(bin);
  return chosen;
}

/** Position in the bin of its item with the largest demand. */
function largestPosition(ctx: PlacementContext, bin: GpuBin): number {
  let pos = 0;
  for (let p = 1; p < bin.count; p++)
    if (ctx.items[bin.items[p]!]!.demand > ctx.items[bin.items[pos]!]!.demand) pos = p;
  return pos;
}

/** Halves the traffic of a GPU's only item; the other half becomes a new share (null once nothing is left to halve). */
function halveLoneItem(ctx: PlacementContext, bin: GpuBin): number | null {
  const only = bin.items[0]!;
  const item = ctx.items[only]!;
  if (item.rate < 1e-9) return null;
  bin.removeAt(0, item);
  const half = {
    ...itemOf(item.adapter, item.id, item.rank, item.rate / 2, item.inputMean, item.outputMean),
    shared: true,
  };
  ctx.items[only] = half;
  bin.add(only, half);
  ctx.items.push({ ...half });
  return ctx.items.length - 1;
}

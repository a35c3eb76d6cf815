import { keyOf } from '../profiles/index.js';
import { rankTile } from '../twin/index.js';
import type { PlacementContext } from './context.js';
import { GpuBin, type GpuVerdict } from './gpu-bin.js';
import { tryAdd, tryAddRun } from './knobs.js';

export interface Unplaced {
  item: number;
  reason: string;
}

/**
 * Packing order: adapters whose rank makes every slot costlier first (vLLM pads slots to
 * --max-lora-rank in tiles of 16, so ranks 8 and 16 cost the same and 32 more), so that cheaper
 * adapters fill the gaps of costly GPUs instead of forcing a costly rank onto cheap ones; then by
 * decreasing demand.
 */
export function packingOrder(ctx: PlacementContext, indices: readonly number[]): number[] {
  const items = ctx.items;
  const tile = (rank: number): number => rankTile(ctx.profile.forward, ctx.loraRankFor(rank));
  return [...indices].sort((a, b) => {
    const ia = items[a]!;
    const ib = items[b]!;
    return tile(ib.rank) - tile(ia.rank) || ib.demand - ia.demand || (ia.id < ib.id ? -1 : ia.id > ib.id ? 1 : a - b);
  });
}

/**
 * Optimistic demand a GPU could still take: its saturated capacity (plus a quarter for predictor slack) minus its load.
 */
export function roomOf(bin: GpuBin, v: GpuVerdict): number {
  return (1.25 * v.capacity) / (1 + bin.headroom) - bin.demand;
}

/** Most items offered to a GPU at once (see tryAddRun). */
const maxRun = 64;

/**
 * First-fit decreasing over every open GPU: each item goes to the first GPU whose knobs the predictors
 * accept with it; a GPU that refuses an item is offered only items half that size until it accepts
 * one again. Small items are offered in runs (as many of the following items as fit in a quarter of
 * the GPU's room), accepted or bisected together. A new GPU opens when none accepts (up to `maxGpus`).
 */
export function firstFit(
  ctx: PlacementContext,
  order: readonly number[],
  bins: GpuBin[],
  maxGpus = Infinity,
): Unplaced[] {
  const unplaced: Unplaced[] = [];
  const maxAdapters = ctx.options.maxAdaptersPerGpu;
  for (let p = 0; p < order.length; ) {
    const index = order[p]!;
    const item = ctx.items[index]!;
    let added = 0;
    for (const bin of bins) {
      if (item.demand > bin.room || !ctx.mayTake(bin, item)) continue;
      const run = runFrom(ctx, order, p, bin.room / 4, maxAdapters - bin.count);
      added = run.length > 1 ? tryAddRun(ctx, bin, run) : tryAdd(ctx, bin, index) ? 1 : 0;
      if (added > 0) {
        bin.room = roomOf(bin, bin.verdict!);
        break;
      }
      bin.room = item.demand / 2;
    }
    if (added > 0) {
      p += added;
      continue;
    }
    p++;
    if (bins.length >= maxGpus) {
      unplaced.push({ item: index, reason: `no room on the ${maxGpus} GPUs allowed by maxGpus` });
      continue;
    }
    const bin = new GpuBin(bins.length, ctx.options.headroom);
    const v = tryAdd(ctx, bin, index);
    if (!v) {
      unplaced.push({ item: index, reason: aloneReason(ctx, index) });
      continue;
    }
    bin.room = roomOf(bin, v);
    bins.push(bin);
  }
  return unplaced;
}

/** Items from position `p` on (at least one) while their demand fits `budget`, none of them a share. */
export function runFrom(
  ctx: PlacementContext,
  order: readonly number[],
  p: number,
  budget: number,
  maxItems: number,
): number[] {
  const run = [order[p]!];
  let demand = ctx.items[order[p]!]!.demand;
  if (ctx.items[order[p]!]!.shared) return run;
  for (let q = p + 1; q < order.length && run.length < Math.min(maxRun, maxItems); q++) {
    const next = ctx.items[order[q]!]!;
    if (next.shared || demand + next.demand > budget) break;
    demand += next.demand;
    run.push(order[q]!);
  }
  return run;
}

/** Why an item does not fit even alone on an empty GPU. */
export function aloneReason(ctx: PlacementContext, index: number): string {
  const item = ctx.items[index]!;
  const loraRank = ctx.loraRankFor(item.rank);
  if (loraRank === 0 || ctx.slotsAllowed(loraRank) < 1) {
    return (
      `rank ${item.rank} needs --max-lora-rank ${loraRank || '> 512'}, and even one ` +
      `slot of it leaves too little KV cache on ${keyOf(ctx.profile)}`
    );
  }
  const probe = new GpuBin(-1, ctx.options.headroom);
  probe.add(index, item);
  const v = ctx.evaluate(probe, 1);
  const c = ctx.constraints;
  const j = v.judged;
  const predicted = c.judgeOn === 'bound' ? 'the upper bound of the predicted' : 'predicted';
  if (c.itlMs !== undefined && v.itlMs > c.itlMs)
    return `predicted ITL ${v.itlMs.toFixed(1)} ms alone on a GPU exceeds slo.itlMs ${c.itlMs}`;
  if (c.ttftMs !== undefined && j.ttftMs > c.ttftMs)
    return `${predicted} TTFT ${j.ttftMs.toFixed(1)} ms alone on a GPU exceeds slo.ttftMs ${c.ttftMs}`;
  if (c.itlP99Ms !== undefined && j.itlP99Ms > c.itlP99Ms)
    return `${predicted} p99 ITL ${j.itlP99Ms.toFixed(1)} ms alone on a GPU exceeds the SLO's ${c.itlP99Ms} ms`;
  if (c.ttftP99Ms !== undefined && j.ttftP99Ms > c.ttftP99Ms)
    return `${predicted} p99 TTFT ${j.ttftP99Ms.toFixed(0)} ms alone on a GPU exceeds the SLO's ${c.ttftP99Ms} ms`;
  if (c.adapterTtftMs !== undefined && j.worstAdapterTtftMs > c.adapterTtftMs)
    return (
      `${predicted} mean TTFT ${j.worstAdapterTtftMs.toFixed(0)} ms ` +
      `alone on a GPU exceeds the SLO's ${c.adapterTtftMs} ms`
    );
  return (
    `predicted to starve even alone on a GPU (served ${(100 * v.servedFraction).toFixed(1)} % of ` +
    `${Math.round(v.idealThroughput)} tokens/s at the headroom load)`
  );
}

import type { PlacementContext } from './context.js';
import { GpuBin } from './gpu-bin.js';
import { adapterLengthMeans, itemOf, splitItem, type PlacementItem } from './items.js';
import type { Unplaced } from './pack.js';
import type { Placement } from './placement.js';
import { plannedRates } from './planned-rates.js';
import { maxSoloRate, splitHotItems } from './split.js';
import type { ParsedWorkload } from './workload.js';

/** A GPU of the current placement, as a re-plan needs to know it. */
export interface PreviousGpu {
  /** its index in the current placement */
  index: number;
  /** its --max-loras (another value restarts its vLLM) */
  slots: number;
  /** tokens/s it was placed with */
  demand: number;
  /** the Twin found it meeting the criterion at that load */
  twinAccepted: boolean;
}

/** The current placement carried over to the new workload, before anything moves. */
export interface CarriedOver {
  /** one GPU per current GPU that still holds an adapter, in the current order */
  bins: GpuBin[];
  previous: Map<GpuBin, PreviousGpu>;
  /**
   * items that need a GPU: new adapters, traffic the current GPUs did not carry, shares beyond what one GPU carries
   * alone
   */
  pending: number[];
  unservable: Unplaced[];
}

/**
 * Puts the new workload on the current GPUs as they are: each remaining adapter keeps its GPUs, every
 * share scaled by (new rate / rate at the last plan) so that its routing weights stay; departed adapters
 * are dropped. A share grown beyond what one GPU carries for its adapter alone keeps that much and
 * the rest becomes new shares; adapters new to the pool, and the traffic the current placement left
 * unplaced, wait for a GPU. Sets ctx.items. Each GPU keeps the headroom it was placed with (a GPU the
 * Twin repaired keeps its tighter margin).
 */
export function carryOver(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  current: Placement,
  maxGpus: number,
): CarriedOver {
  const means = adapterLengthMeans(workload);
  const planned = plannedRates(current);
  const { items, carried } = sharesAtNewRates(workload, current, planned, means);
  const needs = [...newTraffic(workload, planned, current, means), ...capHotShares(ctx, items)];
  ctx.items = items;
  const prepared = splitHotItems(ctx, needs, maxGpus);
  const offset = items.length;
  items.push(...prepared.items);
  const unservable = prepared.unservable.map((u) => ({ ...u, item: u.item + offset }));
  const waiting = new Set(unservable.map((u) => u.item));
  markShared(items);
  const out: CarriedOver = { bins: [], previous: new Map(), pending: [], unservable };
  const sameJudgement = (current.judgedOn ?? 'estimate') === ctx.criterion.judgeOn;
  for (const { gpu, shares } of carried) {
    if (shares.length === 0) continue;
    const bin = new GpuBin(out.bins.length, Math.max(ctx.options.headroom, gpu.predicted.headroom));
    for (const index of shares) bin.add(index, items[index]!);
    out.bins.push(bin);
    out.previous.set(bin, {
      index: gpu.index,
      slots: gpu.engine.maxLoras,
      demand: gpu.predicted.idealThroughput,
      // accepted by the Twin on the figures this plan judges (a plan of before judgeSloOn judged estimates)
      twinAccepted: gpu.meets.met && gpu.meets.basis === 'twin' && sameJudgement,
    });
  }
  for (let index = offset; index < items.length; index++) if (!waiting.has(index)) out.pending.push(index);
  return out;
}

/** Each current GPU's shares of the adapters still in the workload, scaled to their new rates. */
function sharesAtNewRates(
  workload: ParsedWorkload,
  current: Placement,
  planned: Map<string, number>,
  means: { input: number[]; output: number[] },
): { items: PlacementItem[]; carried: { gpu: Placement['gpus'][number]; shares: number[] }[] } {
  const adapterIndex = new Map(workload.adapters.map((a, i) => [a.id, i]));
  const shareCount = new Map<string, number>();
  for (const gpu of current.gpus) for (const a of gpu.adapters) shareCount.set(a.id, (shareCount.get(a.id) ?? 0) + 1);
  const scaled = (adapter: number, plannedShare: number): number => {
    const { id, rate } = workload.adapters[adapter]!;
    const before = planned.get(id)!;
    return before > 0 ? (rate * plannedShare) / before : rate / shareCount.get(id)!;
  };
  const items: PlacementItem[] = [];
  const carried = current.gpus.map((gpu) => {
    const held = new Set<number>();
    const shares: number[] = [];
    for (const a of gpu.adapters) {
      const adapter = adapterIndex.get(a.id);
      if (adapter === undefined || held.has(adapter)) continue;
      held.add(adapter);
      shares.push(items.length);
      items.push(
        itemOf(
          adapter,
          a.id,
          workload.adapters[adapter]!.rank,
          scaled(adapter, a.rate),
          means.input[adapter]!,
          means.output[adapter]!,
        ),
      );
    }
    return { gpu, shares };
  });
  return { items, carried };
}

/** Whole items for the adapters no current GPU holds and for the unplaced part of the others' traffic. */
function newTraffic(
  workload: ParsedWorkload,
  planned: Map<string, number>,
  current: Placement,
  means: { input: number[]; output: number[] },
): PlacementItem[] {
  const placed = new Set(current.gpus.flatMap((gpu) => gpu.adapters.map((a) => a.id)));
  const unplacedRate = new Map(current.unplaced.map((u) => [u.id, u.rate]));
  const out: PlacementItem[] = [];
  workload.adapters.forEach((a, i) => {
    const before = planned.get(a.id) ?? 0;
    // the share of the traffic the current placement could not place still needs a GPU
    const rate = !placed.has(a.id) ? a.rate : before > 0 ? (a.rate * (unplacedRate.get(a.id) ?? 0)) / before : 0;
    if (rate > 0 || !placed.has(a.id)) out.push(itemOf(i, a.id, a.rank, rate, means.input[i]!, means.output[i]!));
  });
  return out;
}

/**
 * Caps every share at the most one GPU carries for its adapter alone and returns the excess of each
 * adapter as one item (split into shares when packed).
 */
function capHotShares(ctx: PlacementContext, items: PlacementItem[]): PlacementItem[] {
  const excess = new Map<number, PlacementItem>();
  // one bisection per adapter: every share of it has the same rank and lengths
  const fitsAlone = new Map<number, number>();
  const soloLimit = new Map<number, number>();
  items.forEach((item, index) => {
    if (item.rate <= (fitsAlone.get(item.adapter) ?? -1)) return;
    let limit = soloLimit.get(item.adapter);
    if (limit === undefined) {
      const max = maxSoloRate(ctx, item);
      if (max >= item.rate) {
        fitsAlone.set(item.adapter, item.rate);
        return;
      }
      limit = max;
      soloLimit.set(item.adapter, limit);
    }
    // not even a sliver fits alone: left for the GPU's verdict to report
    if (item.rate <= limit || limit <= 0) return;
    items[index] = splitItem(item, limit).shares[0]!;
    const extra = (excess.get(item.adapter)?.rate ?? 0) + item.rate - limit;
    excess.set(item.adapter, itemOf(item.adapter, item.id, item.rank, extra, item.inputMean, item.outputMean));
  });
  return [...excess.values()];
}

/** Items of an adapter with several items are shares: no two of them may share a GPU. */
function markShared(items: PlacementItem[]): void {
  const count = new Map<number, number>();
  for (const item of items) count.set(item.adapter, (count.get(item.adapter) ?? 0) + 1);
  for (const item of items) item.shared = count.get(item.adapter)! > 1;
}

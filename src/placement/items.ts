import { resolveLength } from '../twin/index.js';
import type { ParsedWorkload } from './workload.js';

/**
 * What placement packs: one adapter, or one traffic share of an adapter too hot for a single GPU.
 * Shares of the same adapter never land on the same GPU.
 */
export interface PlacementItem {
  /** index into workload.adapters */
  adapter: number;
  id: string;
  rank: number;
  /** req/s routed through this item */
  rate: number;
  /** mean prompt / output tokens of the adapter's requests */
  inputMean: number;
  outputMean: number;
  /** tokens/s this item brings to a GPU */
  demand: number;
  /** true for one of several shares of a split adapter */
  shared: boolean;
}

/** Mean prompt and output tokens of every adapter (its own lengths, else the workload's). */
export function adapterLengthMeans(workload: ParsedWorkload): { input: number[]; output: number[] } {
  const globalIn = resolveLength(workload.inputTokens ?? {}, 'input').mean;
  const globalOut = resolveLength(workload.outputTokens ?? {}, 'output').mean;
  return {
    input: workload.adapters.map((a) => (a.inputTokens ? resolveLength(a.inputTokens, 'input').mean : globalIn)),
    output: workload.adapters.map((a) => (a.outputTokens ? resolveLength(a.outputTokens, 'output').mean : globalOut)),
  };
}

/** One item per adapter, its whole traffic. */
export function wholeItems(workload: ParsedWorkload): PlacementItem[] {
  const means = adapterLengthMeans(workload);
  return workload.adapters.map((a, i) => itemOf(i, a.id, a.rank, a.rate, means.input[i]!, means.output[i]!));
}

export function itemOf(
  adapter: number,
  id: string,
  rank: number,
  rate: number,
  inputMean: number,
  outputMean: number,
): PlacementItem {
  return { adapter, id, rank, rate, inputMean, outputMean, demand: rate * (inputMean + outputMean), shared: false };
}

/**
 * Splits an item whose rate exceeds `maxRate` (the most one GPU can carry for it alone) into shares:
 * as many full shares as needed plus the remainder, so that only the remainder competes for space.
 * Shares never share a GPU, so at most `maxShares` are made; what they cannot carry is `rest`.
 */
export function splitItem(
  item: PlacementItem,
  maxRate: number,
  maxShares = Infinity,
): { shares: PlacementItem[]; rest: PlacementItem | null } {
  if (!(maxRate > 0) || item.rate <= maxRate) return { shares: [item], rest: null };
  const full = Math.min(Math.floor(item.rate / maxRate), maxShares);
  const remainder = item.rate - full * maxRate;
  const share = (rate: number): PlacementItem => ({
    ...item,
    rate,
    demand: rate * (item.inputMean + item.outputMean),
    shared: true,
  });
  const shares: PlacementItem[] = [];
  for (let i = 0; i < full; i++) shares.push(share(maxRate));
  if (remainder <= 0) return { shares, rest: null };
  if (full < maxShares) {
    shares.push(share(remainder));
    return { shares, rest: null };
  }
  return { shares, rest: share(remainder) };
}

/** Tokens of the item's typical request beyond what the model accepts (0: it fits max_model_len). */
export function tokensBeyondModel(item: PlacementItem, maxModelLen: number): number {
  return Math.max(0, item.inputMean + item.outputMean - maxModelLen);
}

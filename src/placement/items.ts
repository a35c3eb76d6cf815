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

export function itemOf(adapter: number, id: string, rank: number, rate: number, inputMean: number, outputMean: number): PlacementItem {
  return { adapter, id, rank, rate, inputMean, outputMean, demand: rate * (inputMean + outputMean), shared: false };
}

/**
 * Splits an item whose rate exceeds `maxRate` (the most one GPU can carry for it alone) into shares:
 * as many full shares as needed plus the remainder, so that only the remainder competes for space.
 */
export function splitItem(item: PlacementItem, maxRate: number): PlacementItem[] {
  if (!(maxRate > 0) || item.rate <= maxRate) return [item];
  const full = Math.floor(item.rate / maxRate);
  const rest = item.rate - full * maxRate;
  const shares: PlacementItem[] = [];
  for (let i = 0; i < full; i++) shares.push({ ...item, rate: maxRate, demand: maxRate * (item.inputMean + item.outputMean), shared: true });
  if (rest > 0) shares.push({ ...item, rate: rest, demand: rest * (item.inputMean + item.outputMean), shared: true });
  return shares;
}

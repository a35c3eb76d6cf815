import type { Profile } from '../profiles/index.js';
import { forwardMs } from '../twin/index.js';
import { protocolDurationS } from './protocol.js';

/** Feature names, in vector order. The first seven are the research system's. */
export const featureNames = [
  'sum_rate',
  'std_rate',
  'max_rank',
  'mean_rank',
  'std_rank',
  'adapter_slots',
  'served_adapters',
  'mean_input_tokens',
  'mean_output_tokens',
  'demand_tokens_per_s',
  'kv_cache_tokens',
  'top_slots_rate_share',
  'effective_adapters',
  'max_lora_rank',
  'capacity_tokens_per_s',
  'load',
  'active_adapters_per_slot',
  'max_num_seqs',
  'max_num_batched_tokens',
  'slot_cycle_s',
  'backlog_fraction',
] as const;
/** Bump whenever computeFeatures computes any feature differently: cached sweeps then recompute theirs. */
export const featureVersion = 2;

export type FeatureName = (typeof featureNames)[number];
export const featureCount = featureNames.length;

/**
 * Each feature's column in the vector, by name: `x[featureColumn.demand_tokens_per_s]`. The trees split
 * on these column numbers, so the order of `featureNames` is part of every stored model.
 */
export const featureColumn = Object.freeze(Object.fromEntries(featureNames.map((name, column) => [name, column]))) as {
  readonly [Name in FeatureName]: number;
};

/** What the features are computed from: one server's engine settings and its adapters' traffic. */
export interface WorkloadShape {
  /** per-adapter request rates (req/s) */
  rates: ArrayLike<number>;
  /** set when `rates` is already in descending order (placement keeps it so): saves a sort */
  ratesDescending?: boolean;
  /** per-adapter LoRA ranks */
  ranks: ArrayLike<number>;
  slots: number;
  servedAdapters: number;
  maxLoraRank: number;
  /** rate-weighted mean prompt and output tokens */
  inputMean: number;
  outputMean: number;
  kvCacheTokens: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
}

/**
 * The feature vector of a workload on a profile. The same function serves training rows and
 * predictions, so the two can never drift apart.
 */
export function computeFeatures(
  profile: Profile,
  w: WorkloadShape,
  out: Float64Array = new Float64Array(featureCount),
): Float64Array {
  const n = w.rates.length;
  let sum = 0;
  let sumSq = 0;
  let rankSum = 0;
  let rankSq = 0;
  let maxRank = 0;
  for (let i = 0; i < n; i++) {
    const r = w.rates[i]!;
    sum += r;
    sumSq += r * r;
    const k = w.ranks[i]!;
    rankSum += k;
    rankSq += k * k;
    if (k > maxRank) maxRank = k;
  }
  const meanRate = sum / n;
  const meanRank = rankSum / n;
  const column = featureColumn;
  const demand = sum * (w.inputMean + w.outputMean);
  out[column.sum_rate] = sum;
  out[column.std_rate] = Math.sqrt(Math.max(0, sumSq / n - meanRate * meanRate));
  out[column.max_rank] = maxRank;
  out[column.mean_rank] = meanRank;
  out[column.std_rank] = Math.sqrt(Math.max(0, rankSq / n - meanRank * meanRank));
  out[column.adapter_slots] = w.slots;
  out[column.served_adapters] = w.servedAdapters;
  out[column.mean_input_tokens] = w.inputMean;
  out[column.mean_output_tokens] = w.outputMean;
  out[column.demand_tokens_per_s] = demand;
  out[column.kv_cache_tokens] = w.kvCacheTokens;
  let descending: ArrayLike<number> | null = w.ratesDescending === true ? w.rates : null;
  if (descending === null && w.slots < n && sum > 0) descending = sortedDescending(w.rates);
  out[column.top_slots_rate_share] = w.slots >= n || sum <= 0 ? 1 : topShare(descending!, w.slots, sum);
  out[column.effective_adapters] = sumSq > 0 ? (sum * sum) / sumSq : 0;
  out[column.max_lora_rank] = w.maxLoraRank;
  const capacity = saturatedCapacity(profile, w, Math.min(w.slots, n));
  out[column.capacity_tokens_per_s] = capacity;
  // demand over capacity: the ratio a tree cannot form from its two inputs
  out[column.load] = capacity > 0 ? demand / capacity : 0;
  const residence = residenceSeconds(profile, w, sum);
  out[column.active_adapters_per_slot] = activeAdapters(w.rates, residence) / w.slots;
  out[column.max_num_seqs] = w.maxNumSeqs;
  out[column.max_num_batched_tokens] = w.maxNumBatchedTokens;
  let cycle = 0;
  if (sum * residence > w.slots) {
    descending ??= sortedDescending(w.rates);
    cycle = slotCycleSeconds(descending, sum, w.slots, residence);
  }
  out[column.slot_cycle_s] = cycle;
  out[column.backlog_fraction] = (cycle / 2 + residence) / protocolDurationS;
  return out;
}

/**
 * Seconds a request spends decoding: output tokens x step time at the batch that load implies, by the
 * profile's step model (a few fixed-point iterations).
 */
function residenceSeconds(profile: Profile, w: WorkloadShape, sumRate: number): number {
  const context = w.inputMean + w.outputMean / 2;
  const adapters = Math.min(w.slots, w.rates.length);
  let residenceS = w.outputMean * 0.02;
  for (let k = 0; k < 4; k++) {
    const decodes = Math.min(sumRate * residenceS, w.maxNumSeqs, w.kvCacheTokens / context);
    const prefill = (sumRate * w.inputMean * residenceS) / Math.max(1, w.outputMean);
    const ms = forwardMs(profile.forward, {
      decodes,
      prefillTokens: prefill,
      contextTokens: decodes * context,
      adapters,
      slots: w.slots,
      maxLoraRank: w.maxLoraRank,
    });
    residenceS = (w.outputMean * ms) / 1000;
  }
  return residenceS;
}

/**
 * Expected adapters with a request in the server (sum of 1 - exp(-rate x R)); above the slots, adapters queue for
 * slots.
 */
function activeAdapters(rates: ArrayLike<number>, residenceS: number): number {
  let active = 0;
  for (let i = 0; i < rates.length; i++) active += 1 - Math.exp(-rates[i]! * residenceS);
  return active;
}

/**
 * Slot cycle (s). When adapters with requests outnumber the slots, vLLM serves them in turns: an
 * adapter waits for a free slot, then drains the requests it queued meanwhile in one residence R.
 * The cycle C solves C = (R / slots) x sum_i (1 - exp(-rate_i x C)) (the adapters that receive a
 * request within a cycle, each holding a slot for R); it is positive only when total rate x R > slots.
 * Requests wait about C / 2, so a one-hour window ends with a backlog of about (C / 2 + R) / 3600 of
 * its traffic: the margin to the 90 % starvation rule.
 * Computed as two Newton steps from the root of the piecewise-linear bound 1 - exp(-x) <= min(1, x)
 * (an upper bound, so the steps decrease monotonically): within 1 % of the exact root on the cases
 * checked, at a third of the cost. `descending`: the rates, largest first.
 */
function slotCycleSeconds(descending: ArrayLike<number>, sumRate: number, slots: number, residenceS: number): number {
  const k = residenceS / slots;
  let c = piecewiseLinearCycle(descending, sumRate, k);
  for (let step = 0; step < 2; step++) {
    let served = 0;
    let slope = 0;
    for (let i = 0; i < descending.length; i++) {
      const e = Math.exp(-descending[i]! * c);
      served += 1 - e;
      slope += descending[i]! * e;
    }
    const g = k * served - c;
    const dg = k * slope - 1;
    if (!(dg < 0)) break;
    const next = c - g / dg;
    if (!(next < c) || next <= 0) break;
    c = next;
  }
  return c;
}

/** Root of C = k x sum_i min(1, rate_i x C): the j hottest adapters saturated, the rest linear. */
function piecewiseLinearCycle(descending: ArrayLike<number>, sumRate: number, k: number): number {
  let tail = sumRate;
  for (let j = 0; j <= descending.length; j++) {
    const denominator = 1 - k * tail;
    if (denominator > 0) {
      const c = (k * j) / denominator;
      if ((j === 0 || descending[j - 1]! * c >= 1) && (j === descending.length || descending[j]! * c < 1)) return c;
    }
    if (j < descending.length) tail -= descending[j]!;
  }
  return descending.length * k;
}

function sortedDescending(rates: ArrayLike<number>): Float64Array {
  return Float64Array.from(rates).sort().reverse();
}

/** Share of all traffic sent to the `slots` busiest adapters: how much of the demand fits the slots at once. */
function topShare(descending: ArrayLike<number>, slots: number, sum: number): number {
  let top = 0;
  for (let i = 0; i < slots; i++) top += descending[i]!;
  return top / sum;
}

/**
 * Tokens/s of a saturated server by the profile's step-time model: token budget split between
 * decodes and prompt tokens in the workload's proportion, decodes capped by the KV cache and
 * max_num_seqs, every slot-bound adapter in the batch.
 */
function saturatedCapacity(profile: Profile, w: WorkloadShape, adapters: number): number {
  const perRequest = w.inputMean + w.outputMean;
  const context = w.inputMean + w.outputMean / 2;
  const budget = w.maxNumBatchedTokens;
  const decodes = Math.max(1, Math.min((budget * w.outputMean) / perRequest, w.kvCacheTokens / context, w.maxNumSeqs));
  const prefill = Math.min(budget - decodes, (decodes * w.inputMean) / w.outputMean);
  const ms = forwardMs(profile.forward, {
    decodes,
    prefillTokens: prefill,
    contextTokens: decodes * context,
    adapters,
    slots: w.slots,
    maxLoraRank: w.maxLoraRank,
  });
  return ((decodes + prefill) * 1000) / ms;
}

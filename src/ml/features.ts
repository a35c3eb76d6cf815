import type { Profile } from '../profiles/index.js';
import { forwardMs } from '../twin/index.js';

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
] as const;
export type FeatureName = (typeof featureNames)[number];
export const featureCount = featureNames.length;

/** What the features are computed from: one server's engine settings and its adapters' traffic. */
export interface WorkloadShape {
  /** per-adapter request rates (req/s) */
  rates: ArrayLike<number>;
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
export function computeFeatures(profile: Profile, w: WorkloadShape, out: Float64Array = new Float64Array(featureCount)): Float64Array {
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
  out[0] = sum;
  out[1] = Math.sqrt(Math.max(0, sumSq / n - meanRate * meanRate));
  out[2] = maxRank;
  out[3] = meanRank;
  out[4] = Math.sqrt(Math.max(0, rankSq / n - meanRank * meanRank));
  out[5] = w.slots;
  out[6] = w.servedAdapters;
  out[7] = w.inputMean;
  out[8] = w.outputMean;
  out[9] = sum * (w.inputMean + w.outputMean);
  out[10] = w.kvCacheTokens;
  out[11] = topShare(w.rates, w.slots, sum);
  out[12] = sumSq > 0 ? (sum * sum) / sumSq : 0;
  out[13] = w.maxLoraRank;
  out[14] = saturatedCapacity(profile, w, Math.min(w.slots, n));
  // demand over capacity: the ratio a tree cannot form from its two inputs
  out[15] = out[14] > 0 ? out[9] / out[14] : 0;
  out[16] = activeAdaptersPerSlot(profile, w, sum);
  return out;
}

/**
 * Expected adapters with a request in the server, per slot: sum of 1 - exp(-rate x R) over adapters,
 * R the time a request spends decoding (output tokens x step time at the batch that load implies,
 * by the profile's step model, a few fixed-point iterations). Above 1, adapters queue for slots.
 */
function activeAdaptersPerSlot(profile: Profile, w: WorkloadShape, sumRate: number): number {
  const context = w.inputMean + w.outputMean / 2;
  const adapters = Math.min(w.slots, w.rates.length);
  let residenceS = w.outputMean * 0.02;
  for (let k = 0; k < 4; k++) {
    const decodes = Math.min(sumRate * residenceS, w.maxNumSeqs, w.kvCacheTokens / context);
    const prefill = (sumRate * w.inputMean * residenceS) / Math.max(1, w.outputMean);
    const ms = forwardMs(profile.forward, { decodes, prefillTokens: prefill, contextTokens: decodes * context, adapters, slots: w.slots, maxLoraRank: w.maxLoraRank });
    residenceS = (w.outputMean * ms) / 1000;
  }
  let active = 0;
  for (let i = 0; i < w.rates.length; i++) active += 1 - Math.exp(-w.rates[i]! * residenceS);
  return active / w.slots;
}

/** Share of all traffic sent to the `slots` busiest adapters: how much of the demand fits the slots at once. */
function topShare(rates: ArrayLike<number>, slots: number, sum: number): number {
  if (sum <= 0) return 1;
  if (slots >= rates.length) return 1;
  const sorted = Float64Array.from(rates).sort();
  let top = 0;
  for (let i = sorted.length - 1; i >= sorted.length - slots; i--) top += sorted[i]!;
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

import { resolveLength, type ResolvedScenario } from '../twin/index.js';
import type { WorkloadShape } from './features.js';

/** The feature inputs of a resolved scenario: rates, ranks, rate-weighted length means, engine. */
export function workloadShape(resolved: ResolvedScenario): WorkloadShape {
  const s = resolved.scenario;
  let rateSum = 0;
  let inSum = 0;
  let outSum = 0;
  const meanOf = (spec: typeof s.inputTokens, kind: 'input' | 'output'): number => resolveLength(spec ?? {}, kind).mean;
  const globalIn = meanOf(s.inputTokens, 'input');
  const globalOut = meanOf(s.outputTokens, 'output');
  for (const a of s.adapters) {
    const inMean = a.inputTokens ? meanOf(a.inputTokens, 'input') : globalIn;
    const outMean = a.outputTokens ? meanOf(a.outputTokens, 'output') : globalOut;
    rateSum += a.rate;
    inSum += a.rate * inMean;
    outSum += a.rate * outMean;
  }
  const e = resolved.engine;
  return {
    rates: s.adapters.map((a) => a.rate),
    ranks: s.adapters.map((a) => a.rank),
    slots: e.maxLoras,
    servedAdapters: e.maxCpuLoras,
    maxLoraRank: e.maxLoraRank,
    inputMean: rateSum > 0 ? inSum / rateSum : globalIn,
    outputMean: rateSum > 0 ? outSum / rateSum : globalOut,
    kvCacheTokens: e.kvCacheTokens,
    maxNumBatchedTokens: e.maxNumBatchedTokens,
    maxNumSeqs: e.maxNumSeqs,
  };
}

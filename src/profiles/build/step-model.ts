import { leastSquares } from '../../shared/least-squares.js';
import type { KernelCosts } from './kernel-costs.js';
import { dtypeBytes, type ModelArchitecture } from './model-architecture.js';
import { headsPerGpu } from './weight-tensors.js';

/** One engine step as the Twin's forward model sees it. */
export interface StepPoint {
  decodes: number;
  /** KV tokens attended by the decoding requests, in all */
  contextTokens: number;
  prefillTokens: number;
}

/**
 * GPU time (ms) of one forward step of `m` on one GPU of a TP group, summed from kernel costs: per layer the four
 * GEMMs on all tokens of the step (qkv, o, gate_up, down: TP shards), decode attention over the decoders' mean KV
 * length, prefill attention of the chunk, the elementwise kernels (two norms with residual adds, rotary, SiLU x
 * mul), and with TP two all-reduces of the hidden states; then lm_head on one row per sequence.
 */
export function stepGpuMs(m: ModelArchitecture, tp: number, costs: KernelCosts, s: StepPoint): number {
  const tokens = s.decodes + s.prefillTokens;
  if (tokens === 0) return 0;
  const e = dtypeBytes(m.dtype);
  const { q, kv } = headsPerGpu(m, tp);
  const inter = m.intermediate / tp;
  const qkvOut = (q + 2 * kv) * m.headDim;
  let layer =
    costs.gemm(tokens, qkvOut, m.hidden) +
    costs.gemm(tokens, m.hidden, q * m.headDim) +
    costs.gemm(tokens, 2 * inter, m.hidden) +
    costs.gemm(tokens, m.hidden, inter);
  if (s.decodes > 0) {
    const meanKv = Math.max(1, s.contextTokens / s.decodes);
    layer += costs.decodeAttention(s.decodes, meanKv, q, kv, m.headDim);
  }
  if (s.prefillTokens > 0) layer += costs.prefillAttention(s.prefillTokens, q, kv, m.headDim);
  const elementwiseBytes = tokens * e * (8 * m.hidden + 4 * (q + kv) * m.headDim + 3 * inter);
  layer += costs.elementwise(elementwiseBytes);
  if (tp > 1) layer += 2 * costs.allReduce(tp, tokens * m.hidden * e);
  const sequences = s.decodes + (s.prefillTokens > 0 ? 1 : 0);
  const head = costs.gemm(sequences, Math.ceil(m.vocab / tp), m.hidden);
  return m.layers * layer + head;
}

/** The Twin's linear forward model: c0 + cDecode*decodes + cContext*kctx + cPrefill*prefillTokens. */
export interface LinearStepModel {
  constantMs: number;
  perDecodeMs: number;
  perContextKiloTokenMs: number;
  perPrefillTokenMs: number;
  rows: number;
  rmsError: number;
  rmsRelativeError: number;
}

/**
 * The operating grid the linear form is fitted on: decode batches 1-1024 at mean KV lengths 128-4096 tokens,
 * alone and with a prefill chunk of 64 tokens up to the token budget.
 */
export function operatingGrid(maxNumBatchedTokens: number, maxNumSeqs: number): StepPoint[] {
  const points: StepPoint[] = [];
  const batches = [1, 2, 4, 8, 16, 32, 64, 96, 128, 192, 256, 384, 512, 768, 1024].filter((b) => b <= maxNumSeqs);
  for (const b of [0, ...batches]) {
    const chunks = [0, 64, 256, 512, 1024, 2048, 4096, 8192, maxNumBatchedTokens - b];
    const prefills = [...new Set(chunks)].filter((p) => p >= 0 && b + p > 0 && b + p <= maxNumBatchedTokens);
    for (const kvLength of b === 0 ? [0] : [128, 256, 512, 1024, 2048, 4096]) {
      for (const prefill of prefills) points.push({ decodes: b, contextTokens: b * kvLength, prefillTokens: prefill });
    }
  }
  return points;
}

/** Least-squares fit (relative residuals) of the linear form to the GPU step times on the operating grid. */
export function fitLinearStep(points: StepPoint[], times: number[]): LinearStepModel {
  const rows = points.map((p) => [1, p.decodes, p.contextTokens / 1000, p.prefillTokens]);
  const weights = times.map((t) => 1 / (t * t));
  const fit = leastSquares(rows, times, weights);
  const [c0, cd, cc, cp] = fit.coefficients as [number, number, number, number];
  const rms = Math.sqrt(fit.residuals.reduce((s, r) => s + r * r, 0) / times.length);
  const rel = Math.sqrt(fit.residuals.reduce((s, r, i) => s + (r / (times[i] as number)) ** 2, 0) / times.length);
  return {
    constantMs: c0,
    perDecodeMs: cd,
    perContextKiloTokenMs: cc,
    perPrefillTokenMs: cp,
    rows: times.length,
    rmsError: rms,
    rmsRelativeError: rel,
  };
}

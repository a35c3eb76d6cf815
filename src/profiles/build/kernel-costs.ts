import type { GpuSpec } from './gpu-catalog.js';
import { AttentionModel, allReduceMs, GemmModel, type KernelTables } from './kernel-tables.js';

/** Latency (ms) of the kernels one forward step runs, on one GPU. */
export interface KernelCosts {
  /** where the latencies come from, for the profile's notes */
  origin: string;
  gemm(m: number, n: number, k: number): number;
  decodeAttention(batch: number, kvLength: number, heads: number, kvHeads: number, headDim: number): number;
  prefillAttention(tokens: number, heads: number, kvHeads: number, headDim: number): number;
  allReduce(gpus: number, bytes: number): number;
  /** memory-bound elementwise kernels (norms, rotary, activation, residual adds) moving `bytes` */
  elementwise(bytes: number): number;
}

/**
 * aiconfigurator's own correction of peak bandwidth to what kernels reach (mem_bw_empirical_scaling_factor of
 * every system_spec.yaml in ../shared/data/operator-profiles/aiconfigurator).
 */
export const bandwidthEfficiency = 0.8;

/**
 * Kernel costs from measured tables. When the tables were measured on another card of the same die with other
 * memory (`scale.bandwidth` differs), memory-bound kernels take longer by the extra time their bytes need at
 * the lower bandwidth: t' = t + max(0, bytes/bw' - max(bytes/bw, flops/peak)) at the empirical efficiency;
 * compute-bound kernels keep their time.
 */
export function tableCosts(tables: KernelTables, target: GpuSpec, measuredOn: GpuSpec): KernelCosts {
  const gemms = new GemmModel(tables.gemm);
  const decode = new AttentionModel(tables.decodeAttention);
  const prefill = new AttentionModel(tables.prefillAttention);
  const bw = measuredOn.bandwidth * bandwidthEfficiency;
  const bwTarget = target.bandwidth * bandwidthEfficiency;
  const slower = (ms: number, bytes: number, flops: number): number => {
    if (bwTarget >= bw) return ms;
    const atMeasured = Math.max(bytes / bw, flops / measuredOn.bf16Flops) * 1e3;
    return ms + Math.max(0, (bytes / bwTarget) * 1e3 - atMeasured);
  };
  const headScale = (headDim: number) => headDim / 128;
  return {
    origin:
      target.name === measuredOn.name
        ? `kernel tables of ${tables.system} (vLLM ${tables.vllmVersion})`
        : `kernel tables of ${tables.system} (vLLM ${tables.vllmVersion}), memory-bound kernels scaled from ` +
          `${measuredOn.bandwidth / 1e12} to ${target.bandwidth / 1e12} TB/s`,
    gemm: (m, n, k) => slower(gemms.ms(m, n, k), 2 * (n * k + m * (n + k)), 2 * m * n * k),
    decodeAttention: (batch, kvLength, heads, kvHeads, headDim) =>
      slower(
        decode.ms(batch, kvLength, heads, kvHeads, 'kv') * headScale(headDim),
        batch * kvLength * kvHeads * headDim * 4,
        4 * batch * kvLength * heads * headDim,
      ),
    prefillAttention: (tokens, heads, kvHeads, headDim) =>
      prefill.ms(1, tokens, heads, kvHeads, 'q') * headScale(headDim),
    allReduce: (gpus, bytes) => allReduceMs(tables.allReduce, gpus, bytes),
    elementwise: (bytes) => (bytes / bwTarget) * 1e3,
  };
}

/**
 * Roofline efficiencies fitted on the measured GPUs (scripts/fit-roofline.ts over the vLLM 0.14.0 GEMM and
 * attention tables of A100 SXM, H100 SXM, H200 SXM and L40S in ../shared/data/operator-profiles/aiconfigurator):
 * the fraction of peak bandwidth and bf16 FLOPS the kernels reach, and a fixed launch latency per kernel.
 */
export const rooflineFit = {
  // rms |log(roofline / measured)|: GEMM 0.27, decode attention 0.62, prefill attention 0.29
  gemmBandwidth: 0.85,
  gemmCompute: 0.75,
  launchMs: 0.004,
  attentionBandwidth: 0.65,
  attentionCompute: 0.45,
  attentionLaunchMs: 0.015,
  source: 'scripts/fit-roofline.ts on the aiconfigurator vLLM 0.14.0 tables of a100_sxm, h100_sxm, h200_sxm, l40s',
};

/** Kernel costs from the GPU's peak numbers and the fitted efficiencies (no tables for this GPU). */
export function rooflineCosts(gpu: GpuSpec, fit = rooflineFit): KernelCosts {
  const mem = (bytes: number, eff: number) => (bytes / (gpu.bandwidth * eff)) * 1e3;
  const flops = (f: number, eff: number) => (f / (gpu.bf16Flops * eff)) * 1e3;
  return {
    origin:
      `roofline of ${gpu.name} (${gpu.bandwidth / 1e12} TB/s, ${gpu.bf16Flops / 1e12} TFLOPS bf16) ` +
      'with efficiencies fitted on measured GPUs',
    gemm: (m, n, k) =>
      fit.launchMs + Math.max(mem(2 * (n * k + m * (n + k)), fit.gemmBandwidth), flops(2 * m * n * k, fit.gemmCompute)),
    decodeAttention: (batch, kvLength, heads, kvHeads, headDim) =>
      fit.attentionLaunchMs +
      Math.max(
        mem(batch * kvLength * kvHeads * headDim * 4, fit.attentionBandwidth),
        flops(4 * batch * kvLength * heads * headDim, fit.attentionCompute),
      ),
    prefillAttention: (tokens, heads, _kvHeads, headDim) =>
      fit.attentionLaunchMs + flops(2 * tokens * tokens * heads * headDim, fit.attentionCompute),
    allReduce: (gpus, bytes) =>
      gpus <= 1 ? 0 : fit.launchMs + ((2 * (gpus - 1)) / gpus) * (bytes / gpu.interconnect.bytesPerSecond) * 1e3,
    elementwise: (bytes) => mem(bytes, bandwidthEfficiency),
  };
}

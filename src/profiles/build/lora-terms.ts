import type { ForwardModel, Profile } from '../schema.js';
import type { KernelCosts } from './kernel-costs.js';
import type { ModelArchitecture } from './model-architecture.js';

/** Sum over one layer's LoRA-wrapped projections of (input + output) dimensions: what a slot's kernels stream. */
function loraWidth(m: ModelArchitecture): number {
  const q = m.heads * m.headDim;
  const kv = m.kvHeads * m.headDim;
  return (
    m.layers *
    (m.hidden + (q + 2 * kv) + (q + m.hidden) + (m.hidden + 2 * m.intermediate) + (m.intermediate + m.hidden))
  );
}

/**
 * What the GPU's tables say about the small GEMMs LoRA runs (shrink to a rank, expand from it): the mean ratio
 * of such GEMMs (m = 16..256 tokens, rank 32, the model's hidden size) on the target to the same on the card
 * the LoRA terms were calibrated on.
 */
export function smallGemmRatio(target: KernelCosts, calibratedOn: KernelCosts, hidden: number): number {
  let sum = 0;
  let n = 0;
  for (const tokens of [16, 64, 256]) {
    sum += target.gemm(tokens, 32, hidden) / calibratedOn.gemm(tokens, 32, hidden);
    sum += target.gemm(tokens, hidden, 32) / calibratedOn.gemm(tokens, hidden, 32);
    n += 2;
  }
  return sum / n;
}

/**
 * LoRA costs carried over from a calibrated profile: slot and adapter terms scale with the model's LoRA width
 * (layers x projection dimensions) relative to the calibrated model and with the small-GEMM ratio of the GPUs;
 * the rank tile factor is kept.
 */
export function carriedLoraTerms(
  donor: Profile,
  donorModel: ModelArchitecture,
  m: ModelArchitecture,
  gpuRatio: number,
  tp: number,
): ForwardModel['lora'] {
  const l = donor.forward.lora;
  const scale = (loraWidth(m) / tp / loraWidth(donorModel)) * gpuRatio;
  return {
    enabledMs: l.enabledMs * scale,
    firstAdapterMs: l.firstAdapterMs * scale,
    perSlotMs: l.perSlotMs * scale,
    perSlotDecodeMs: l.perSlotDecodeMs * scale,
    perSlotPrefillTokenMs: l.perSlotPrefillTokenMs * scale,
    perAdapterMs: l.perAdapterMs * scale,
    rankTileFactor: l.rankTileFactor,
    fit: {
      ...l.fit,
      note:
        `carried over from ${donor.model}@${donor.gpu} (calibrated), scaled by ${scale.toFixed(3)} ` +
        `(LoRA width ${m.name} / ${donorModel.name}${tp > 1 ? ` / TP ${tp}` : ''} x small-GEMM ratio ` +
        `${gpuRatio.toFixed(3)})`,
    },
  };
}

import { dtypeBytes, type ModelArchitecture } from './model-architecture.js';
import { hasEmbeddingLora } from './model-config.js';

/** vLLM's extra vocabulary rows for LoRA adapters (--lora-extra-vocab-size default) and their padding. */
export const loraExtraVocab = 256;
export const loraVocabPadding = 256;

const padTo = (n: number, multiple: number): number => Math.ceil(n / multiple) * multiple;

/** Vocabulary rows of embed_tokens / lm_head on one GPU: padded (64, or 256 with LoRA embeddings), split by TP. */
export function vocabRowsPerGpu(m: ModelArchitecture, tp: number, lora: boolean): number {
  const embeddingLora = lora && hasEmbeddingLora(m);
  const padding = embeddingLora ? loraVocabPadding : 64;
  const rows = padTo(m.vocab, padding) + (embeddingLora ? padTo(loraExtraVocab, padding) : 0);
  return Math.ceil(rows / tp);
}

/** Query and KV heads one GPU holds under tensor parallelism (KV heads are replicated below one per GPU). */
export function headsPerGpu(m: ModelArchitecture, tp: number): { q: number; kv: number } {
  return { q: m.heads / tp, kv: Math.max(1, m.kvHeads / tp) };
}

/**
 * Byte sizes of the weight tensors vLLM allocates on one GPU, in the order the model builds them: embed_tokens,
 * per layer qkv_proj (and its bias), o_proj, the rotary cos/sin cache once (max positions x head_dim, model
 * dtype), gate_up_proj, down_proj, two norms; the final norm; lm_head unless tied.
 */
export function weightTensors(m: ModelArchitecture, tp: number, lora: boolean, linearBytes?: number): number[] {
  const e = dtypeBytes(m.dtype);
  // fp8 checkpoints quantize the linear layers only; embeddings, norms and the rotary cache stay in the model dtype
  const w = linearBytes ?? e;
  const { q, kv } = headsPerGpu(m, tp);
  const qkvRows = (q + 2 * kv) * m.headDim;
  const inter = m.intermediate / tp;
  const vocabRows = vocabRowsPerGpu(m, tp, lora);
  const tensors = [vocabRows * m.hidden * e];
  for (let layer = 0; layer < m.layers; layer++) {
    tensors.push(qkvRows * m.hidden * w);
    if (m.qkvBias) tensors.push(qkvRows * e);
    tensors.push(m.hidden * q * m.headDim * w);
    if (layer === 0) tensors.push(m.maxPositions * m.headDim * e);
    tensors.push(2 * inter * m.hidden * w, m.hidden * inter * w, m.hidden * e, m.hidden * e);
  }
  tensors.push(m.hidden * e);
  if (!m.tiedEmbeddings) tensors.push(vocabRows * m.hidden * e);
  return tensors;
}

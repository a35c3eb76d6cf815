import { dtypeBytes, type ModelArchitecture } from './model-architecture.js';
import { hasEmbeddingLora } from './model-config.js';

/** vLLM's vocabulary padding for LoRA kernels (--lora-vocab-padding-size default, until 0.12) and otherwise. */
export const loraVocabPadding = 256;
const defaultVocabPadding = 64;

const padTo = (n: number, multiple: number): number => Math.ceil(n / multiple) * multiple;

/**
 * Rows of embed_tokens on one GPU. With LoRA on a model with embedding LoRA (the Llama family) vLLM up to 0.11
 * adds lora_extra_vocab_size rows for EVERY slot (llama.py `LlamaModel.__init__`: `lora_vocab =
 * lora_extra_vocab_size * (max_loras or 1)`), padded to 64 (vocab_parallel_embedding.py:
 * `pad_vocab_size(org_vocab_size_padded + num_added_embeddings, padding_size)`), split by TP.
 */
export function embedRowsPerGpu(m: ModelArchitecture, tp: number, slots: number, extraVocab: number): number {
  const added = slots > 0 && hasEmbeddingLora(m) ? extraVocab * slots : 0;
  return Math.ceil(padTo(padTo(m.vocab, defaultVocabPadding) + added, defaultVocabPadding) / tp);
}

/**
 * Rows of lm_head on one GPU: padded to 64, or, with embedding LoRA while vLLM has an extra vocabulary, the
 * vocabulary plus lora_extra_vocab_size rows once (llama.py `unpadded_vocab_size`), padded to 256; split by TP.
 */
export function lmHeadRowsPerGpu(m: ModelArchitecture, tp: number, lora: boolean, extraVocab: number): number {
  const extra = lora && hasEmbeddingLora(m) && extraVocab > 0;
  const padding = extra ? loraVocabPadding : defaultVocabPadding;
  const rows = padTo(m.vocab, padding) + (extra ? padTo(extraVocab, padding) : 0);
  return Math.ceil(rows / tp);
}

/** Query and KV heads one GPU holds under tensor parallelism (KV heads are replicated below one per GPU). */
export function headsPerGpu(m: ModelArchitecture, tp: number): { q: number; kv: number } {
  return { q: m.heads / tp, kv: Math.max(1, m.kvHeads / tp) };
}

/**
 * Byte sizes of the weight tensors vLLM allocates on one GPU for `slots` adapter slots (0: LoRA off), in the
 * order the model builds them: embed_tokens (`embedRowsPerGpu`: with the Llama family's extra rows per slot),
 * per layer qkv_proj (and its bias), o_proj, the rotary cos/sin cache once (max positions x head_dim, model
 * dtype), gate_up_proj, down_proj, two norms; the final norm; lm_head unless tied.
 */
export function weightTensors(
  m: ModelArchitecture,
  tp: number,
  slots: number,
  extraVocab: number,
  linearBytes?: number,
): number[] {
  const e = dtypeBytes(m.dtype);
  // fp8 checkpoints quantize the linear layers only; embeddings, norms and the rotary cache stay in the model dtype
  const w = linearBytes ?? e;
  const { q, kv } = headsPerGpu(m, tp);
  const qkvRows = (q + 2 * kv) * m.headDim;
  const inter = m.intermediate / tp;
  const tensors = [embedRowsPerGpu(m, tp, slots, extraVocab) * m.hidden * e];
  for (let layer = 0; layer < m.layers; layer++) {
    tensors.push(qkvRows * m.hidden * w);
    if (m.qkvBias) tensors.push(qkvRows * e);
    tensors.push(m.hidden * q * m.headDim * w);
    if (layer === 0) tensors.push(m.maxPositions * m.headDim * e);
    tensors.push(2 * inter * m.hidden * w, m.hidden * inter * w, m.hidden * e, m.hidden * e);
  }
  tensors.push(m.hidden * e);
  if (!m.tiedEmbeddings) tensors.push(lmHeadRowsPerGpu(m, tp, slots > 0, extraVocab) * m.hidden * e);
  return tensors;
}

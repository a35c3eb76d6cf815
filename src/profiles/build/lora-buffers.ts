import { dtypeBytes, type ModelArchitecture } from './model-architecture.js';
import { hasEmbeddingLora } from './model-config.js';
import { headsPerGpu, loraVocabPadding } from './weight-tensors.js';

const padTo = (n: number, multiple: number): number => Math.ceil(n / multiple) * multiple;

/**
 * Byte sizes of the GPU buffers vLLM's LoRA layers allocate for `slots` (--max-loras) at `rank` (--max-lora-rank),
 * in allocation order, on one GPU (vllm/lora/layers.py `create_lora_weights`, not fully sharded): every slot is
 * allocated at the max rank whether an adapter fills it or not. Per layer: qkv_proj A x3 (rank x hidden) and
 * B q/k/v (rows x rank); o_proj A (rank x in/TP), B (hidden x rank); gate_up_proj A x2, B x2 (inter/TP x rank);
 * down_proj A (rank x inter/TP), B (hidden x rank). With embedding LoRA (the Llama family): embed_tokens
 * embeddings (`extraVocab` rows x hidden, while vLLM has lora_extra_vocab_size), A ((vocab + extraVocab) x rank),
 * B (hidden x rank) first; the logits processor A (rank x hidden), B (vocab + extraVocab padded to 256 x rank),
 * embeddings (extraVocab x hidden) last. The extra rows the Llama family adds to embed_tokens per slot are
 * weights (`weight-tensors.ts`), not buffers.
 */
export function loraBuffers(
  m: ModelArchitecture,
  tp: number,
  slots: number,
  rank: number,
  extraVocab: number,
): number[] {
  const e = dtypeBytes(m.dtype);
  const s = slots * e;
  const { q, kv } = headsPerGpu(m, tp);
  const inter = m.intermediate / tp;
  const buffers: number[] = [];
  const embedding = hasEmbeddingLora(m);
  if (embedding) {
    if (extraVocab > 0) buffers.push(s * extraVocab * m.hidden);
    buffers.push(s * (m.vocab + extraVocab) * rank, s * m.hidden * rank);
  }
  for (let layer = 0; layer < m.layers; layer++) {
    buffers.push(s * rank * m.hidden, s * rank * m.hidden, s * rank * m.hidden);
    buffers.push(s * q * m.headDim * rank, s * kv * m.headDim * rank, s * kv * m.headDim * rank);
    buffers.push(s * rank * ((m.heads * m.headDim) / tp), s * m.hidden * rank);
    buffers.push(s * rank * m.hidden, s * rank * m.hidden, s * inter * rank, s * inter * rank);
    buffers.push(s * rank * inter, s * m.hidden * rank);
  }
  if (embedding) {
    const logitsRows = extraVocab > 0 ? padTo(m.vocab + extraVocab, loraVocabPadding) : m.vocab;
    buffers.push(s * rank * m.hidden, s * logitsRows * rank);
    if (extraVocab > 0) buffers.push(s * extraVocab * m.hidden);
  }
  return buffers;
}

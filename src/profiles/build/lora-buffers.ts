import { dtypeBytes, type ModelArchitecture } from './model-architecture.js';
import { hasEmbeddingLora } from './model-config.js';
import { headsPerGpu, loraExtraVocab, loraVocabPadding, vocabRowsPerGpu } from './weight-tensors.js';

/**
 * Byte sizes of the GPU buffers vLLM's LoRA layers allocate for `slots` (--max-loras) at `rank` (--max-lora-rank),
 * in allocation order, on one GPU (vllm/lora/layers.py `create_lora_weights`, not fully sharded): every slot is
 * allocated at the max rank whether an adapter fills it or not. Per layer: qkv_proj A x3 (rank x hidden) and
 * B q/k/v (rows x rank); o_proj A (rank x in/TP), B (hidden x rank); gate_up_proj A x2, B x2 (inter/TP x rank);
 * down_proj A (rank x inter/TP), B (hidden x rank). With embedding LoRA (the Llama family): embed_tokens
 * embeddings (256 extra rows x hidden), A ((vocab + 256) x rank), B (hidden x rank) first; the logits processor
 * A (rank x hidden), B (vocab padded to 256 x rank), embeddings (256 x hidden) last.
 */
export function loraBuffers(m: ModelArchitecture, tp: number, slots: number, rank: number): number[] {
  const e = dtypeBytes(m.dtype);
  const s = slots * e;
  const { q, kv } = headsPerGpu(m, tp);
  const inter = m.intermediate / tp;
  const buffers: number[] = [];
  const embedding = hasEmbeddingLora(m);
  if (embedding) {
    buffers.push(s * loraExtraVocab * m.hidden, s * (m.vocab + loraExtraVocab) * rank, s * m.hidden * rank);
  }
  for (let layer = 0; layer < m.layers; layer++) {
    buffers.push(s * rank * m.hidden, s * rank * m.hidden, s * rank * m.hidden);
    buffers.push(s * q * m.headDim * rank, s * kv * m.headDim * rank, s * kv * m.headDim * rank);
    buffers.push(s * rank * ((m.heads * m.headDim) / tp), s * m.hidden * rank);
    buffers.push(s * rank * m.hidden, s * rank * m.hidden, s * inter * rank, s * inter * rank);
    buffers.push(s * rank * inter, s * m.hidden * rank);
  }
  if (embedding) {
    const logitsRows = Math.ceil(vocabRowsPerGpu(m, 1, true) / loraVocabPadding) * loraVocabPadding;
    buffers.push(s * rank * m.hidden, s * logitsRows * rank, s * loraExtraVocab * m.hidden);
  }
  return buffers;
}

import { dtypeBytes, type ModelArchitecture } from './model-architecture.js';
import { hasEmbeddingLora } from './model-config.js';
import { CachingAllocatorModel } from './caching-allocator.js';
import { loraBuffers } from './lora-buffers.js';
import { headsPerGpu, weightTensors } from './weight-tensors.js';
import type { VllmVersionTraits } from './vllm-version.js';

/** The engine settings that decide vLLM's KV budget. */
export interface MemorySettings {
  gpuMemoryBytes: number;
  gpuMemoryUtilization: number;
  tensorParallelSize: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  maxModelLen: number;
  kvCacheDtype: 'auto' | 'fp8';
  blockSize: number;
  /** the CUDA context, cuBLAS and NCCL memory outside torch's allocator, bytes per GPU */
  nonTorchBytes: number;
  /** bytes per weight of the linear layers (1 for fp8 checkpoints) */
  linearWeightBytes?: number;
}

/** Where the GPU's memory goes, bytes per GPU. */
export interface MemoryBreakdown {
  budget: number;
  persistent: number;
  profilePeak: number;
  nonTorch: number;
  kvBytes: number;
  kvTokens: number;
  kvBytesPerToken: number;
}

/** KV cache bytes per token on one GPU: 2 (K and V) x layers x KV heads / TP x head_dim x dtype bytes. */
export function kvBytesPerToken(m: ModelArchitecture, tp: number, kvCacheDtype: 'auto' | 'fp8'): number {
  const bytes = kvCacheDtype === 'fp8' ? 1 : dtypeBytes(m.dtype);
  return 2 * m.layers * headsPerGpu(m, tp).kv * m.headDim * bytes;
}

/**
 * Tensors the V1 model runner allocates before the model (gpu_model_runner.py, gpu_input_batch.py): the block
 * table (max_num_seqs x max_model_len / block_size int32), input ids, positions, slot mapping, input embeddings
 * (max_num_batched_tokens rows), and the per-request sampling parameters.
 */
function runnerBuffers(m: ModelArchitecture, s: MemorySettings): number[] {
  const t = s.maxNumBatchedTokens;
  const r = s.maxNumSeqs;
  const blocksPerRequest = Math.ceil(s.maxModelLen / s.blockSize);
  return [r * blocksPerRequest * 4, t * 4, t * 8, t * 8, t * m.hidden * dtypeBytes(m.dtype), (r + 1) * 4, r * 4].concat(
    Array.from({ length: 8 }, () => r * 4),
  );
}

/**
 * The profile run's transient peak above the long-lived tensors: the sampler on min(max_num_seqs,
 * max_num_batched_tokens) dummy requests over the whole vocabulary (logits are gathered on every TP rank), or the
 * forward pass of max_num_batched_tokens tokens (residual, hidden, gate_up and activation outputs), whichever
 * is larger.
 */
function profilePeak(m: ModelArchitecture, s: MemorySettings, lora: boolean, v: VllmVersionTraits): number {
  const requests = Math.min(s.maxNumSeqs, s.maxNumBatchedTokens);
  const logits = m.vocab + (lora && hasEmbeddingLora(m) ? v.loraExtraVocab : 0);
  const sampler = v.samplerBytesPerLogit * requests * logits + requests * m.hidden * dtypeBytes(m.dtype);
  const inter = m.intermediate / s.tensorParallelSize;
  const forward = s.maxNumBatchedTokens * (4 * m.hidden + 6 * inter) * dtypeBytes(m.dtype);
  return Math.max(sampler, forward);
}

/**
 * vLLM's KV capacity for `slots` adapter slots at `rank` (slots 0: LoRA off): the budget
 * (gpu_memory_utilization x total memory) minus the segments the long-lived tensors reserve (runner buffers,
 * weights / TP with the Llama family's extra embedding rows per slot, LoRA slot buffers), minus the profile
 * run's transient peak, minus non-torch memory when the version charges it; whole blocks of `blockSize` tokens.
 */
export function kvMemory(
  m: ModelArchitecture,
  s: MemorySettings,
  v: VllmVersionTraits,
  slots: number,
  rank: number,
): MemoryBreakdown {
  const lora = slots > 0;
  const tp = s.tensorParallelSize;
  const allocator = new CachingAllocatorModel();
  for (const b of runnerBuffers(m, s)) allocator.alloc(b);
  for (const w of weightTensors(m, tp, slots, v.loraExtraVocab, s.linearWeightBytes)) allocator.alloc(w);
  if (lora) for (const b of loraBuffers(m, tp, slots, rank, v.loraExtraVocab)) allocator.alloc(b);
  const budget = s.gpuMemoryBytes * s.gpuMemoryUtilization;
  const peak = profilePeak(m, s, lora, v);
  const nonTorch = v.chargesCudaContext ? s.nonTorchBytes : 0;
  const kvBytes = budget - allocator.reserved - peak - nonTorch;
  const perToken = kvBytesPerToken(m, tp, s.kvCacheDtype);
  const blocks = Math.max(0, Math.floor(kvBytes / (perToken * s.blockSize)));
  return {
    budget,
    persistent: allocator.reserved,
    profilePeak: peak,
    nonTorch,
    kvBytes,
    kvTokens: blocks * s.blockSize,
    kvBytesPerToken: perToken,
  };
}

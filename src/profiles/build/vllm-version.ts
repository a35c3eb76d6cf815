/**
 * What the profile builder knows about a vLLM version: its engine defaults and how it budgets GPU memory.
 *
 * Engine defaults: the 0.8.5 fork of the research runs used max_num_batched_tokens 2048 and max_num_seqs 256
 * (the V1 defaults of 0.8 for an OpenAI server). From vLLM 0.9 on, `EngineArgs._set_default_args` (vllm/engine/
 * arg_utils.py) picks by usage context and GPU memory: for the OpenAI API server 8192 batched tokens and 1024
 * sequences on a GPU of at least 70 GiB (`device_memory >= 70 * GiB_bytes`, and not an A100), else 2048 / 256.
 *
 * Memory budget: 0.8 (V1) gives the KV cache total x utilization minus torch's allocation peak minus every other
 * byte in use on the device after the profile run (CUDA context included); from 0.9 on, `memory_profiling`
 * subtracts only the non-torch memory that grew since start-up, so the CUDA context is not charged.
 *
 * LoRA extra vocabulary: through 0.11, `LoRAConfig.lora_extra_vocab_size` (default 256) gives every adapter
 * slot room for added tokens (vllm/config.py), and the Llama family sizes its input embedding for it once per
 * slot (vllm/model_executor/models/llama.py, `LlamaModel.__init__`: `lora_vocab = lora_extra_vocab_size *
 * (max_loras or 1)`); vLLM PRs #28382 and #28545 (November 2025, released in 0.12) removed it.
 *
 * Asynchronous scheduling: from vLLM 0.14 the V1 engine schedules step N+1 and processes step N's output while
 * the GPU runs (SchedulerConfig.async_scheduling on by default, vllm-project/vllm#27614; vllm/v1/core/sched/
 * async_scheduler.py). The per-step CPU work is then hidden behind the GPU's, and a step lasts the longer of the
 * two instead of their sum. The LLMServingSim RTX 4090 run (vLLM 0.19.0) logs async_scheduling true without
 * asking for it. Before 0.14 it was opt-in (--async-scheduling) and the 0.8.5 fork had none.
 *
 * CUDA graph memory: vLLM captures the graphs after the KV cache is allocated. From 0.14 it can estimate their
 * pool during the profile run (GPUModelRunner.profile_cudagraph_memory, vllm-project/vllm#30515), but charges it
 * to the KV budget only with VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1, the default from 0.21 (vllm/envs.py);
 * up to 0.20 the graphs come out of the (1 - gpu_memory_utilization) headroom, not out of the KV cache.
 */
export interface VllmVersionTraits {
  version: string;
  /** the CUDA context and other non-torch memory are charged to the budget */
  chargesCudaContext: boolean;
  /**
   * bytes per logit live at the sampler's peak in the profile run: bf16 logits 2 + their float32 copy 4 +
   * probabilities 4 + top-k renormalised probabilities 4 (FlashInfer's top-k/top-p sampling, which the vLLM 0.8
   * images ship; the sampler profiles top-k and top-p at once)
   */
  samplerBytesPerLogit: number;
  /** lora_extra_vocab_size: added-token rows per adapter slot (0 once vLLM removed the feature) */
  loraExtraVocab: number;
  /** the engine overlaps a step's CPU work with the GPU's (asynchronous scheduling on by default) */
  asyncScheduling: boolean;
  /** the CUDA graph pool is charged to the KV budget (not modelled yet: the builder says so in the notes) */
  chargesCudaGraphs: boolean;
  /**
   * the API server looks an adapter's tokenizer up on its first request (the tokenizer group, removed in vLLM
   * 0.11 by vllm-project/vllm#24078)
   */
  looksUpLoraTokenizers: boolean;
}

const GiB = 2 ** 30;

/** Semantic-version parts of a vLLM version string; a fork string such as 0.1.dev6216+g1125ba0 is 0.8.5. */
export function versionParts(version: string): [number, number, number] {
  if (/^0\.1\.dev6216/.test(version)) return [0, 8, 5];
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version);
  if (!m) return [0, 8, 5];
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function atLeast(version: string, minor: number): boolean {
  const [major, min] = versionParts(version);
  return major > 0 || min >= minor;
}

export function vllmVersionTraits(version: string): VllmVersionTraits {
  return {
    version,
    chargesCudaContext: !atLeast(version, 9),
    samplerBytesPerLogit: 14,
    loraExtraVocab: atLeast(version, 12) ? 0 : 256,
    asyncScheduling: atLeast(version, 14),
    chargesCudaGraphs: atLeast(version, 21),
    looksUpLoraTokenizers: !atLeast(version, 11),
  };
}

/** vLLM's default max_num_batched_tokens / max_num_seqs for this version on a GPU with `memoryBytes`. */
export function engineDefaults(
  version: string,
  memoryBytes: number,
  gpuName: string,
): { maxNumBatchedTokens: number; maxNumSeqs: number } {
  const big = memoryBytes >= 70 * GiB && !gpuName.startsWith('a100');
  if (atLeast(version, 9) && big) return { maxNumBatchedTokens: 8192, maxNumSeqs: 1024 };
  return { maxNumBatchedTokens: 2048, maxNumSeqs: 256 };
}

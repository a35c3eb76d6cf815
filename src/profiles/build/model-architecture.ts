import { z } from 'zod';

const PositiveInt = z.number().int().positive();

/**
 * What the profile builder needs of a dense decoder model: the shapes its weights, KV cache and LoRA slots take,
 * as in the model's Hugging Face config.json (head_dim defaults to hidden / heads there too).
 */
export const ModelArchitecture = z.object({
  /** the project's model name, e.g. llama-3.1-8b-instruct (profile `model`) */
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  hfModelId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/),
  /** config.json `architectures[0]`: the vLLM model class */
  architecture: z.string(),
  layers: PositiveInt,
  hidden: PositiveInt,
  heads: PositiveInt,
  kvHeads: PositiveInt,
  headDim: PositiveInt,
  intermediate: PositiveInt,
  vocab: PositiveInt,
  tiedEmbeddings: z.boolean(),
  maxPositions: PositiveInt,
  /** config.json torch_dtype: the weights' dtype vLLM serves with dtype=auto */
  dtype: z.enum(['bfloat16', 'float16', 'float32']),
  /** q/k/v projections carry a bias (Qwen2) */
  qkvBias: z.boolean(),
  /** where the numbers come from */
  source: z.string(),
});
export type ModelArchitecture = z.infer<typeof ModelArchitecture>;

/** Parameters of the weights vLLM allocates (embedding and lm_head counted once when tied). */
export function parameterCount(m: ModelArchitecture, extraVocab = 0): number {
  const q = m.heads * m.headDim;
  const kv = m.kvHeads * m.headDim;
  const attention = m.hidden * (q + 2 * kv) + q * m.hidden + (m.qkvBias ? q + 2 * kv : 0);
  const mlp = 3 * m.hidden * m.intermediate;
  const norms = 2 * m.hidden;
  const embeddings = (m.tiedEmbeddings ? 1 : 2) * (m.vocab + extraVocab) * m.hidden;
  return m.layers * (attention + mlp + norms) + embeddings + m.hidden;
}

/** Bytes of one element of a dtype name. */
export function dtypeBytes(dtype: 'bfloat16' | 'float16' | 'float32' | 'fp8'): number {
  if (dtype === 'float32') return 4;
  if (dtype === 'fp8') return 1;
  return 2;
}

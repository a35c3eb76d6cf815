import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { ModelArchitecture } from './model-architecture.js';

/**
 * The dense decoder classes whose LoRA layers vLLM builds the way the builder counts them (packed qkv_proj and
 * gate_up_proj, o_proj, down_proj; embed_tokens and lm_head for the Llama family, whose vLLM class declares
 * `embedding_modules`). Mixture-of-experts classes are refused: vLLM serves LoRA on Mixtral (attention only
 * before MoE LoRA landed), but the step model here is a dense decoder's.
 */
export const supportedArchitectures = [
  'LlamaForCausalLM',
  'MistralForCausalLM',
  'Qwen2ForCausalLM',
  'Qwen3ForCausalLM',
  'GemmaForCausalLM',
  'Gemma2ForCausalLM',
  'Phi3ForCausalLM',
] as const;

/** The fields of a Hugging Face config.json the builder reads (others are ignored). */
const HfConfig = z.object({
  architectures: z.array(z.string()).min(1),
  num_hidden_layers: z.number().int().positive(),
  hidden_size: z.number().int().positive(),
  num_attention_heads: z.number().int().positive(),
  num_key_value_heads: z.number().int().positive().optional(),
  head_dim: z.number().int().positive().nullish(),
  intermediate_size: z.number().int().positive(),
  vocab_size: z.number().int().positive(),
  tie_word_embeddings: z.boolean().optional(),
  max_position_embeddings: z.number().int().positive(),
  torch_dtype: z.enum(['bfloat16', 'float16', 'float32']).optional(),
  attention_bias: z.boolean().optional(),
});

/** Lower-case project name of a Hugging Face id: its last path part. */
function shortName(hfModelId: string): string {
  return (hfModelId.split('/').pop() ?? hfModelId).toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}

/**
 * The architecture of a model from its config.json (already parsed JSON). `hfModelId` names it (owner/name);
 * unsupported architectures are refused by name.
 */
export function architectureFromConfig(raw: unknown, hfModelId: string, source: string): ModelArchitecture {
  const c = parseOrThrow(HfConfig, raw, `config.json ${source}`);
  const architecture = c.architectures[0] as string;
  if (!(supportedArchitectures as readonly string[]).includes(architecture)) {
    throw new AppError(
      'invalidInput',
      `model: architecture ${architecture} of ${source} is not supported by the profile builder ` +
        `(dense decoders only: ${supportedArchitectures.join(', ')})`,
      { field: 'model', architecture },
    );
  }
  const heads = c.num_attention_heads;
  return parseOrThrow(
    ModelArchitecture,
    {
      name: shortName(hfModelId),
      hfModelId,
      architecture,
      layers: c.num_hidden_layers,
      hidden: c.hidden_size,
      heads,
      kvHeads: c.num_key_value_heads ?? heads,
      headDim: c.head_dim ?? c.hidden_size / heads,
      intermediate: c.intermediate_size,
      vocab: c.vocab_size,
      tiedEmbeddings: c.tie_word_embeddings ?? false,
      maxPositions: c.max_position_embeddings,
      dtype: c.torch_dtype ?? 'bfloat16',
      qkvBias: architecture === 'Qwen2ForCausalLM' || c.attention_bias === true,
      source,
    },
    `config.json ${source}`,
  );
}

/** vLLM's LoRA layers for this class include embed_tokens and lm_head (the Llama family's embedding_modules). */
export function hasEmbeddingLora(m: ModelArchitecture): boolean {
  return ['LlamaForCausalLM', 'MistralForCausalLM', 'Phi3ForCausalLM'].includes(m.architecture);
}

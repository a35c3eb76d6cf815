import { AppError } from '../../shared/errors.js';
import { ModelArchitecture } from './model-architecture.js';

/**
 * The dense decoder models commonly served with LoRA, by Hugging Face id (case-insensitive) and by the project's
 * short name. Every number is the model's config.json on the Hugging Face Hub (the `source` of each entry);
 * `profile build --model path/to/config.json` covers the rest.
 */
type Shape = Omit<ModelArchitecture, 'name' | 'hfModelId' | 'source' | 'maxPositions'>;

const llama2 = (hidden: number, layers: number, heads: number, kvHeads: number, intermediate: number): Shape => ({
  architecture: 'LlamaForCausalLM',
  layers,
  hidden,
  heads,
  kvHeads,
  headDim: hidden / heads,
  intermediate,
  vocab: 32000,
  tiedEmbeddings: false,
  dtype: 'float16',
  qkvBias: false,
});
const llama3 = (hidden: number, layers: number, heads: number, intermediate: number, tied = false): Shape => ({
  architecture: 'LlamaForCausalLM',
  layers,
  hidden,
  heads,
  kvHeads: 8,
  headDim: hidden / heads,
  intermediate,
  vocab: 128256,
  tiedEmbeddings: tied,
  dtype: 'bfloat16',
  qkvBias: false,
});
const mistral7b = (vocab: number): Shape => ({
  architecture: 'MistralForCausalLM',
  layers: 32,
  hidden: 4096,
  heads: 32,
  kvHeads: 8,
  headDim: 128,
  intermediate: 14336,
  vocab,
  tiedEmbeddings: false,
  dtype: 'bfloat16',
  qkvBias: false,
});
const qwen2 = (
  hidden: number,
  layers: number,
  heads: number,
  kvHeads: number,
  intermediate: number,
  vocab: number,
  tied: boolean,
): Shape => ({
  architecture: 'Qwen2ForCausalLM',
  layers,
  hidden,
  heads,
  kvHeads,
  headDim: hidden / heads,
  intermediate,
  vocab,
  tiedEmbeddings: tied,
  dtype: 'bfloat16',
  qkvBias: true,
});
const qwen3 = (hidden: number, layers: number, heads: number, intermediate: number, tied: boolean): Shape => ({
  architecture: 'Qwen3ForCausalLM',
  layers,
  hidden,
  heads,
  kvHeads: 8,
  headDim: 128,
  intermediate,
  vocab: 151936,
  tiedEmbeddings: tied,
  dtype: 'bfloat16',
  qkvBias: false,
});
const gemma = (
  architecture: 'GemmaForCausalLM' | 'Gemma2ForCausalLM',
  hidden: number,
  layers: number,
  heads: number,
  kvHeads: number,
  headDim: number,
  intermediate: number,
): Shape => ({
  architecture,
  layers,
  hidden,
  heads,
  kvHeads,
  headDim,
  intermediate,
  vocab: 256000,
  tiedEmbeddings: true,
  dtype: 'bfloat16',
  qkvBias: false,
});
const phi3 = (hidden: number, layers: number, heads: number, kvHeads: number, intermediate: number): Shape => ({
  architecture: 'Phi3ForCausalLM',
  layers,
  hidden,
  heads,
  kvHeads,
  headDim: hidden / heads,
  intermediate,
  vocab: 32064,
  tiedEmbeddings: false,
  dtype: 'bfloat16',
  qkvBias: false,
});

/** [Hugging Face id, short name, max_position_embeddings, shape] */
const entries: [string, string, number, Shape][] = [
  ['meta-llama/Llama-2-7b-hf', 'llama-2-7b', 4096, llama2(4096, 32, 32, 32, 11008)],
  ['meta-llama/Llama-2-7b-chat-hf', 'llama-2-7b-chat', 4096, llama2(4096, 32, 32, 32, 11008)],
  ['meta-llama/Llama-2-13b-hf', 'llama-2-13b', 4096, llama2(5120, 40, 40, 40, 13824)],
  ['meta-llama/Llama-2-13b-chat-hf', 'llama-2-13b-chat', 4096, llama2(5120, 40, 40, 40, 13824)],
  ['meta-llama/Llama-2-70b-hf', 'llama-2-70b', 4096, llama2(8192, 80, 64, 8, 28672)],
  ['meta-llama/Llama-2-70b-chat-hf', 'llama-2-70b-chat', 4096, llama2(8192, 80, 64, 8, 28672)],
  ['meta-llama/Meta-Llama-3-8B', 'llama-3-8b', 8192, llama3(4096, 32, 32, 14336)],
  ['meta-llama/Meta-Llama-3-8B-Instruct', 'llama-3-8b-instruct', 8192, llama3(4096, 32, 32, 14336)],
  ['meta-llama/Meta-Llama-3-70B', 'llama-3-70b', 8192, llama3(8192, 80, 64, 28672)],
  ['meta-llama/Meta-Llama-3-70B-Instruct', 'llama-3-70b-instruct', 8192, llama3(8192, 80, 64, 28672)],
  ['meta-llama/Llama-3.1-8B', 'llama-3.1-8b', 131072, llama3(4096, 32, 32, 14336)],
  ['meta-llama/Llama-3.1-8B-Instruct', 'llama-3.1-8b-instruct', 131072, llama3(4096, 32, 32, 14336)],
  ['meta-llama/Llama-3.1-70B', 'llama-3.1-70b', 131072, llama3(8192, 80, 64, 28672)],
  ['meta-llama/Llama-3.1-70B-Instruct', 'llama-3.1-70b-instruct', 131072, llama3(8192, 80, 64, 28672)],
  ['meta-llama/Llama-3.2-1B', 'llama-3.2-1b', 131072, llama3(2048, 16, 32, 8192, true)],
  ['meta-llama/Llama-3.2-1B-Instruct', 'llama-3.2-1b-instruct', 131072, llama3(2048, 16, 32, 8192, true)],
  ['meta-llama/Llama-3.2-3B', 'llama-3.2-3b', 131072, llama3(3072, 28, 24, 8192, true)],
  ['meta-llama/Llama-3.2-3B-Instruct', 'llama-3.2-3b-instruct', 131072, llama3(3072, 28, 24, 8192, true)],
  ['meta-llama/Llama-3.3-70B-Instruct', 'llama-3.3-70b-instruct', 131072, llama3(8192, 80, 64, 28672)],
  ['mistralai/Mistral-7B-v0.1', 'mistral-7b-v0.1', 32768, mistral7b(32000)],
  ['mistralai/Mistral-7B-Instruct-v0.1', 'mistral-7b-instruct-v0.1', 32768, mistral7b(32000)],
  ['mistralai/Mistral-7B-Instruct-v0.2', 'mistral-7b-instruct-v0.2', 32768, mistral7b(32000)],
  ['mistralai/Mistral-7B-v0.3', 'mistral-7b-v0.3', 32768, mistral7b(32768)],
  ['mistralai/Mistral-7B-Instruct-v0.3', 'mistral-7b-instruct-v0.3', 32768, mistral7b(32768)],
  ['Qwen/Qwen2-0.5B-Instruct', 'qwen-2-0.5b-instruct', 32768, qwen2(896, 24, 14, 2, 4864, 151936, true)],
  ['Qwen/Qwen2-1.5B-Instruct', 'qwen-2-1.5b-instruct', 32768, qwen2(1536, 28, 12, 2, 8960, 151936, true)],
  ['Qwen/Qwen2-7B-Instruct', 'qwen-2-7b-instruct', 32768, qwen2(3584, 28, 28, 4, 18944, 152064, false)],
  ['Qwen/Qwen2-72B-Instruct', 'qwen-2-72b-instruct', 32768, qwen2(8192, 80, 64, 8, 29568, 152064, false)],
  ['Qwen/Qwen2.5-0.5B-Instruct', 'qwen-2.5-0.5b-instruct', 32768, qwen2(896, 24, 14, 2, 4864, 151936, true)],
  ['Qwen/Qwen2.5-1.5B-Instruct', 'qwen-2.5-1.5b-instruct', 32768, qwen2(1536, 28, 12, 2, 8960, 151936, true)],
  ['Qwen/Qwen2.5-3B-Instruct', 'qwen-2.5-3b-instruct', 32768, qwen2(2048, 36, 16, 2, 11008, 151936, true)],
  ['Qwen/Qwen2.5-7B', 'qwen-2.5-7b', 131072, qwen2(3584, 28, 28, 4, 18944, 152064, false)],
  ['Qwen/Qwen2.5-7B-Instruct', 'qwen-2.5-7b-instruct', 32768, qwen2(3584, 28, 28, 4, 18944, 152064, false)],
  ['Qwen/Qwen2.5-14B-Instruct', 'qwen-2.5-14b-instruct', 32768, qwen2(5120, 48, 40, 8, 13824, 152064, false)],
  ['Qwen/Qwen2.5-32B-Instruct', 'qwen-2.5-32b-instruct', 32768, qwen2(5120, 64, 40, 8, 27648, 152064, false)],
  ['Qwen/Qwen2.5-72B-Instruct', 'qwen-2.5-72b-instruct', 32768, qwen2(8192, 80, 64, 8, 29568, 152064, false)],
  ['Qwen/Qwen3-0.6B', 'qwen-3-0.6b', 40960, qwen3(1024, 28, 16, 3072, true)],
  ['Qwen/Qwen3-1.7B', 'qwen-3-1.7b', 40960, qwen3(2048, 28, 16, 6144, true)],
  ['Qwen/Qwen3-4B', 'qwen-3-4b', 40960, qwen3(2560, 36, 32, 9728, true)],
  ['Qwen/Qwen3-8B', 'qwen-3-8b', 40960, qwen3(4096, 36, 32, 12288, false)],
  ['Qwen/Qwen3-14B', 'qwen-3-14b', 40960, qwen3(5120, 40, 40, 17408, false)],
  ['Qwen/Qwen3-32B', 'qwen-3-32b', 40960, qwen3(5120, 64, 64, 25600, false)],
  ['google/gemma-2b-it', 'gemma-2b-it', 8192, gemma('GemmaForCausalLM', 2048, 18, 8, 1, 256, 16384)],
  ['google/gemma-7b-it', 'gemma-7b-it', 8192, gemma('GemmaForCausalLM', 3072, 28, 16, 16, 256, 24576)],
  ['google/gemma-2-2b-it', 'gemma-2-2b-it', 8192, gemma('Gemma2ForCausalLM', 2304, 26, 8, 4, 256, 9216)],
  ['google/gemma-2-9b-it', 'gemma-2-9b-it', 8192, gemma('Gemma2ForCausalLM', 3584, 42, 16, 8, 256, 14336)],
  ['google/gemma-2-27b-it', 'gemma-2-27b-it', 8192, gemma('Gemma2ForCausalLM', 4608, 46, 32, 16, 128, 36864)],
  ['microsoft/Phi-3-mini-4k-instruct', 'phi-3-mini-4k-instruct', 4096, phi3(3072, 32, 32, 32, 8192)],
  ['microsoft/Phi-3-mini-128k-instruct', 'phi-3-mini-128k-instruct', 131072, phi3(3072, 32, 32, 32, 8192)],
  ['microsoft/Phi-3-medium-4k-instruct', 'phi-3-medium-4k-instruct', 4096, phi3(5120, 40, 40, 10, 17920)],
  ['microsoft/Phi-3.5-mini-instruct', 'phi-3.5-mini-instruct', 131072, phi3(3072, 32, 32, 32, 8192)],
];

const catalog: ModelArchitecture[] = entries.map(([hfModelId, name, maxPositions, shape]) =>
  ModelArchitecture.parse({ ...shape, name, hfModelId, maxPositions, source: `config.json of ${hfModelId}` }),
);

/** Every catalog model (a copy). */
export function catalogModels(): ModelArchitecture[] {
  return catalog.map((m) => ({ ...m }));
}

/** The catalog model with this Hugging Face id (any case) or short name, or undefined. */
export function findCatalogModel(idOrName: string): ModelArchitecture | undefined {
  const key = idOrName.trim().toLowerCase();
  const found = catalog.find((m) => m.hfModelId.toLowerCase() === key || m.name === key);
  return found && { ...found };
}

/** Like findCatalogModel, or bad input naming the field and a few known names. */
export function catalogModel(idOrName: string, field = 'model'): ModelArchitecture {
  const found = findCatalogModel(idOrName);
  if (found) return found;
  throw new AppError(
    'invalidInput',
    `${field}: "${idOrName}" is not in the model catalog ` +
      '(a Hugging Face id such as meta-llama/Llama-3.1-8B-Instruct, ' +
      'a short name such as llama-3.1-8b-instruct, or the path of a config.json)',
    { field, known: catalog.map((m) => m.hfModelId) },
  );
}

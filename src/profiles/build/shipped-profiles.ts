/**
 * The built profiles shipped in models/profiles beside the two calibrated H100 64 GB ones (issue 23): what
 * `profile build --shipped` (re)builds and `--shipped --check` compares byte for byte. Each is built at the newest
 * vLLM version ../shared has kernel tables of for its GPU (0.24.0 for H100 SXM, H200 and L40S; 0.14.0 for the
 * A100 SXM) with that version's engine defaults.
 */
export interface ShippedProfile {
  /** Hugging Face id (the catalog's) */
  model: string;
  gpu: string;
  tp: number;
  vllmVersion: string;
}

/** GPU -> the newest vLLM version of its kernel tables in ../shared/data/operator-profiles/aiconfigurator. */
const newestTables: Record<string, string> = {
  'h100-80gb': '0.24.0',
  h200: '0.24.0',
  l40s: '0.24.0',
  'a100-80gb': '0.14.0',
};

const smallModels = [
  'meta-llama/Llama-3.1-8B-Instruct',
  'Qwen/Qwen2.5-7B-Instruct',
  'mistralai/Mistral-7B-Instruct-v0.3',
];
const oneGpu = ['h100-80gb', 'a100-80gb', 'l40s', 'h200'];
/** Llama-3.1-70B: 141 GB of bf16 weights span four 80 GB cards, two H200s. */
const seventyB: [gpu: string, tp: number][] = [
  ['h100-80gb', 4],
  ['a100-80gb', 4],
  ['h200', 2],
];

const shipped = (model: string, gpu: string, tp: number): ShippedProfile => ({
  model,
  gpu,
  tp,
  vllmVersion: newestTables[gpu]!,
});

export const shippedProfiles: readonly ShippedProfile[] = [
  ...smallModels.flatMap((model) => oneGpu.map((gpu) => shipped(model, gpu, 1))),
  ...seventyB.map(([gpu, tp]) => shipped('meta-llama/Llama-3.1-70B-Instruct', gpu, tp)),
];

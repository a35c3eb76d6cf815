import type { Profile } from './schema.js';

/**
 * Hugging Face ids of the calibrated profiles' base models (what `vllm serve` is given). A profile's own
 * `hfModelId` takes precedence; this map covers the profiles written before that field existed.
 */
export const hubModelIds: Readonly<Record<string, string>> = Object.freeze({
  'llama-3.1-8b-instruct': 'meta-llama/Llama-3.1-8B-Instruct',
  'qwen-2.5-7b-instruct': 'Qwen/Qwen2.5-7B-Instruct',
});

/** The Hugging Face id vLLM serves for this profile's model, or null when neither the profile nor the map knows it. */
export function hfModelIdOf(profile: Pick<Profile, 'model' | 'hfModelId'>): string | null {
  return profile.hfModelId ?? hubModelIds[profile.model] ?? null;
}

import type { Profile } from '../profiles/index.js';

/** The one adapter a server without LoRA is simulated with (see baseModelProfile). */
export const baseModelAdapter = { id: 'base-model', rank: 8 } as const;

/**
 * A profile for simulating a server started without --enable-lora: the Twin's scenarios always name adapters,
 * so its traffic goes to one stand-in adapter whose LoRA costs (step terms, loads) are zero. Once scenarios
 * carry `engine.enableLora: false` (issue 23, "a Scenario without LoRA"), that replaces this.
 */
export function baseModelProfile(profile: Profile): Profile {
  const lora = profile.forward.lora;
  return {
    ...profile,
    forward: {
      ...profile.forward,
      lora: {
        ...lora,
        enabledMs: 0,
        firstAdapterMs: 0,
        perSlotMs: 0,
        perSlotDecodeMs: 0,
        perSlotPrefillTokenMs: 0,
        perAdapterMs: 0,
      },
    },
    adapterLoad: {
      ...profile.adapterLoad,
      gpuFromCpu: [{ maxRank: baseModelAdapter.rank, rank: baseModelAdapter.rank, ms: 0 }],
      diskToCpuMsPerRank: 0,
    },
  };
}

/** KV capacity of a server without LoRA: the profile's capacity with no adapter slot reserved. */
export function baseKvRank(profile: Profile): number {
  return Math.min(...profile.kvCapacity.ranks.map((r) => r.rank));
}

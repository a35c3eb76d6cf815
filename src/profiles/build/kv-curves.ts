import { leastSquares } from '../../shared/least-squares.js';
import type { KvRankCurve } from '../schema.js';
import { kvMemory, type MemorySettings } from './kv-memory.js';
import type { ModelArchitecture } from './model-architecture.js';
import type { VllmVersionTraits } from './vllm-version.js';

/** Ranks vLLM accepts for --max-lora-rank, and the slot counts each curve is computed at. */
export const curveRanks = [8, 16, 32, 64, 128, 256, 320, 512];
export const curveSlots = [1, 2, 4, 8, ...Array.from({ length: 32 }, (_, i) => 16 * (i + 1))];

/**
 * The profile's KV capacity curves: vLLM's KV tokens at every (rank, slots) point from the memory arithmetic,
 * the least-squares tokens lost per slot of each rank, and the points where vLLM refuses to start (KV cache
 * smaller than max_model_len, or no room for a block).
 */
export function kvCurves(m: ModelArchitecture, s: MemorySettings, v: VllmVersionTraits): KvRankCurve[] {
  return curveRanks.map((rank) => {
    const points = curveSlots.map((slots) => ({ slots, tokens: kvMemory(m, s, v, slots, rank).kvTokens }));
    const fit = leastSquares(
      points.map((p) => [1, p.slots]),
      points.map((p) => p.tokens),
    );
    const failures = points
      .filter((p) => p.tokens < s.maxModelLen)
      .map((p) => ({ slots: p.slots, status: p.tokens === 0 ? 'no_memory_for_cache_blocks' : 'kv_cache_too_small' }));
    return { rank, points, tokensPerSlot: Math.max(1e-9, -(fit.coefficients[1] as number)), failures };
  });
}

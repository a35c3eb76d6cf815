import { keyOf, type KvRankCurve, type Profile } from './schema.js';

/**
 * KV-cache capacity (tokens) that vLLM reports for --max-loras = slots and --max-lora-rank = rank.
 *
 * Within a measured rank: piecewise-linear interpolation between the measured slot counts; outside the
 * measured slot range, linear extrapolation with that rank's fitted tokens-per-slot. Between two
 * measured ranks: linear interpolation in rank of the two curves. Beyond the measured ranks: slot
 * cost scales with rank (a slot holds rank x (d_in + d_out) weights), anchored on the nearest rank.
 */
export function kvCapacityTokens(profile: Profile, slots: number, rank: number): number {
  const curves = [...profile.kvCapacity.ranks].sort((a, b) => a.rank - b.rank);
  const lowest = curves[0] as KvRankCurve;
  const highest = curves[curves.length - 1] as KvRankCurve;
  const exact = curves.find((c) => c.rank === rank);
  if (exact) return Math.round(onCurve(exact, slots));
  if (rank > highest.rank) {
    const extraPerSlot = (highest.tokensPerSlot / highest.rank) * (rank - highest.rank);
    return Math.round(onCurve(highest, slots) - extraPerSlot * slots);
  }
  if (rank < lowest.rank) {
    const savedPerSlot = (lowest.tokensPerSlot / lowest.rank) * (lowest.rank - rank);
    return Math.round(onCurve(lowest, slots) + savedPerSlot * slots);
  }
  const upperIdx = curves.findIndex((c) => c.rank > rank);
  const lo = curves[upperIdx - 1] as KvRankCurve;
  const hi = curves[upperIdx] as KvRankCurve;
  const f = (rank - lo.rank) / (hi.rank - lo.rank);
  return Math.round(onCurve(lo, slots) * (1 - f) + onCurve(hi, slots) * f);
}

function onCurve(curve: KvRankCurve, slots: number): number {
  const pts = curve.points;
  const first = pts[0];
  const last = pts[pts.length - 1];
  if (!first || !last) return 0;
  if (slots <= first.slots) return first.tokens + (first.slots - slots) * curve.tokensPerSlot;
  if (slots >= last.slots) return last.tokens - (slots - last.slots) * curve.tokensPerSlot;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (slots <= b.slots) {
      const f = (slots - a.slots) / (b.slots - a.slots);
      return a.tokens + f * (b.tokens - a.tokens);
    }
  }
  return last.tokens;
}

/**
 * KV-cache capacity (tokens) of a server started without --enable-lora: the profile's value when it has one,
 * else its lowest rank's curve extrapolated to 0 slots with that rank's tokensPerSlot. The extrapolation keeps
 * what an enabled LoRA reserves besides its slots, so it errs low: on the H100 64 GB profiles by 0.7 % (Qwen-2.5-7B:
 * 706,480 tokens vs 711,200 measured without LoRA at max_num_seqs 2048) and 0.6 % (Llama-3.1-8B: 308,309 vs about
 * 310,100, measured up to max_num_seqs 1000 and extended at its 14 tokens per sequence), both from
 * lat_model_base_latency_runs.csv: some 230-270 MB an enabled LoRA holds besides its slots.
 */
export function kvCapacityWithoutLora(profile: Profile): number {
  const measured = profile.kvCapacity.withoutLora;
  if (measured) return measured.tokens;
  const lowest = profile.kvCapacity.ranks.reduce((a, b) => (b.rank < a.rank ? b : a));
  return Math.round(onCurve(lowest, 0));
}

/**
 * Why vLLM would refuse to start with this KV capacity, or null when it starts. vLLM requires room
 * for at least one request of max_model_len tokens ("KV cache is needed, which is larger than the
 * available KV cache memory"); with no room at all it reports "No available memory for the cache blocks".
 */
export function memoryErrorReason(profile: Profile, kvTokens: number, slots: number, rank: number): string | null {
  return kvError(profile, kvTokens, `--max-loras ${slots} --max-lora-rank ${rank} on ${keyOf(profile)}`);
}

/** memoryErrorReason of a server started without --enable-lora. */
export function memoryErrorWithoutLora(profile: Profile, kvTokens: number): string | null {
  return kvError(profile, kvTokens, `no LoRA on ${keyOf(profile)}`);
}

function kvError(profile: Profile, kvTokens: number, where: string): string | null {
  if (kvTokens <= 0) return `no GPU memory left for KV cache blocks with ${where}`;
  if (kvTokens < profile.maxModelLen) {
    return `KV cache of ${kvTokens} tokens with ${where} is smaller than max_model_len ${profile.maxModelLen}`;
  }
  return null;
}

/** Largest --max-loras that still starts with this --max-lora-rank (at most `cap`). */
export function maxFeasibleSlots(profile: Profile, maxLoraRank: number, cap: number): number {
  let lo = 0;
  let hi = cap;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (memoryErrorReason(profile, kvCapacityTokens(profile, mid, maxLoraRank), mid, maxLoraRank) === null) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

import type { ForwardModel, Profile, SchedulerModel } from '../profiles/index.js';

/** What one engine step computes. */
export interface StepShape {
  /** requests producing one token each */
  decodes: number;
  /** prompt tokens computed (chunked prefill) */
  prefillTokens: number;
  /** KV tokens attended by the decoding requests */
  contextTokens: number;
  /** distinct adapters in the batch (base-model requests hold none) */
  adapters: number;
  /** --max-loras */
  slots: number;
  /** --max-lora-rank */
  maxLoraRank: number;
  /** --enable-lora (default true); false: the step has no LoRA term at all */
  enableLora?: boolean;
}

/**
 * Forward-pass time (ms) of one step: base + lora, where lora is 0 on a server without --enable-lora.
 *   base = c0 + cDecode*decodes + cContext*contextTokens/1000 + cPrefill*prefillTokens
 *   lora = enabled + first*[adapters > 0]
 *          + slots * (perSlot + perSlotDecode*decodes + perSlotPrefill*prefillTokens) * rankTile
 *          + perAdapter*adapters
 *   rankTile = 1 + rankTileFactor * (ceil(maxLoraRank / 16) - 1)
 * The slot terms reflect that vLLM's LoRA kernels launch work for every slot, whether or not an
 * adapter occupies it; the rank enters in tiles of 16 (rank 8 and 16 cost the same). Base-model requests
 * on a LoRA-enabled server go through the same kernels, so they pay the slot terms too.
 */
export function forwardMs(model: ForwardModel, s: StepShape): number {
  const base = baseForwardMs(model, s);
  return s.enableLora === false ? base : base + loraForwardMs(model, s);
}

/** The base-model part of forwardMs: what the step costs on a server without LoRA. */
export function baseForwardMs(model: ForwardModel, s: StepShape): number {
  const b = model.base;
  return (
    b.constantMs +
    b.perDecodeMs * s.decodes +
    (b.perContextKiloTokenMs * s.contextTokens) / 1000 +
    b.perPrefillTokenMs * s.prefillTokens
  );
}

/** The LoRA part of forwardMs. */
export function loraForwardMs(model: ForwardModel, s: StepShape): number {
  const l = model.lora;
  const tile = rankTile(model, s.maxLoraRank);
  const slotCost =
    s.slots * (l.perSlotMs + l.perSlotDecodeMs * s.decodes + l.perSlotPrefillTokenMs * s.prefillTokens) * tile;
  return l.enabledMs + (s.adapters > 0 ? l.firstAdapterMs : 0) + slotCost + l.perAdapterMs * s.adapters;
}

/** Cost multiplier of the slot terms for --max-lora-rank `maxLoraRank` (1 for ranks up to 16). */
export function rankTile(model: ForwardModel, maxLoraRank: number): number {
  return 1 + model.lora.rankTileFactor * (Math.ceil(maxLoraRank / 16) - 1);
}

/** Scheduler CPU time (ms) of one step. */
export function schedulerMs(model: SchedulerModel, running: number, waiting: number, skipped: number): number {
  return Math.max(
    0,
    model.constantMs + model.perRunningMs * running + model.perWaitingMs * waiting + model.perSkippedMs * skipped,
  );
}

/** CPU->GPU activation time (ms) of an adapter of `rank` under --max-lora-rank `maxLoraRank`. */
export function gpuLoadMs(profile: Profile, rank: number, maxLoraRank: number): number {
  const table = profile.adapterLoad.gpuFromCpu;
  const exact = table.find((e) => e.maxRank === maxLoraRank && e.rank === rank);
  if (exact) return exact.ms;
  // nearest measured (maxRank, rank) pair in log space: load time moves little with either
  let best = table[0]!;
  let bestD = Infinity;
  for (const e of table) {
    const d = Math.abs(Math.log2(e.maxRank / maxLoraRank)) + Math.abs(Math.log2(e.rank / rank));
    if (d < bestD) {
      best = e;
      bestD = d;
    }
  }
  return best.ms;
}

/** Disk->CPU load time (ms) of an adapter of `rank`. */
export function diskLoadMs(profile: Profile, rank: number): number {
  return profile.adapterLoad.diskToCpuMsPerRank * rank;
}

import type { PlacementContext } from './context.js';
import type { GpuBin, GpuVerdict } from './gpu-bin.js';
import { bestKnobs } from './knobs.js';

/**
 * The knobs of a GPU that already runs with `slots` (--max-loras): kept when the predictors accept
 * them for its new contents, since another value restarts its vLLM and every adapter on it goes cold;
 * else the best knobs the predictors accept; else (a GPU the Twin accepted beyond the predictors'
 * margins) kept for the Twin to judge. A new GPU (`slots` undefined) gets the best knobs, as in place.
 */
export function knobsKeepingSlots(
  ctx: PlacementContext,
  bin: GpuBin,
  slots: number | undefined,
  latencyFirst = false,
): GpuVerdict {
  const kept = slots === undefined ? null : ctx.evaluate(bin, Math.max(1, Math.min(slots, bin.count)));
  if (kept?.feasible) return kept;
  const best = bestKnobs(ctx, bin, latencyFirst);
  return best.feasible || kept === null ? best : kept;
}

/** Whether the predictors accept the GPU at its kept slots or at any others; sets its verdict when they do. */
export function predictorsAccept(ctx: PlacementContext, bin: GpuBin, slots: number | undefined): boolean {
  if (bin.count === 0) return true;
  const verdict = knobsKeepingSlots(ctx, bin, slots);
  if (verdict.feasible) bin.verdict = verdict;
  return verdict.feasible;
}

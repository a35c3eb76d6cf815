import { kvCapacityTokens, kvCapacityWithoutLora, type Profile } from '../profiles/index.js';
import { leastSquares, rms } from '../shared/least-squares.js';
import type { ServerSettings } from './bench-run.js';

/** One server's logged KV capacity against the profile's, before and after the refit. */
export interface KvPoint {
  server: string;
  /** --max-loras and --max-lora-rank; both 0 for a server without --enable-lora */
  slots: number;
  rank: number;
  measured: number;
  start: number;
  fitted: number;
}

export interface KvFit {
  kvCapacity: Profile['kvCapacity'];
  /** tokens added at every (slots, rank) */
  offsetTokens: number;
  /** tokens removed per slot and unit of rank, besides the profile's own slot cost */
  perSlotRankTokens: number;
  points: KvPoint[];
}

/**
 * Refits the KV capacity to the "GPU KV cache size" lines of the servers' logs. The capacity is what memory
 * leaves after weights, activations and the adapter slots, in tokens: a profile built from memory arithmetic
 * errs mostly by a fixed amount (the reserves it estimated), so one logged point moves every (slots, rank) of
 * the profile by the same number of tokens; logs at two or more slots x rank settings also correct the cost of
 * a slot (proportional to its rank: a slot holds rank x (d_in + d_out) weights per module). A server without
 * LoRA is the profile's capacity without LoRA (what the Twin gives it: kvCapacityWithoutLora), moved by the same
 * tokens. Null when no server's log was given.
 */
export function fitKvCapacity(start: Profile, servers: ServerSettings[], source: string[]): KvFit | null {
  const logged = servers.filter((s) => s.kvCacheTokens !== null);
  if (logged.length === 0) return null;
  const points = logged.map((s) => {
    const slots = s.lora?.maxLoras ?? 0;
    const rank = s.lora?.maxLoraRank ?? 0;
    return { server: s.name, slots, rank, measured: s.kvCacheTokens!, start: capacityAt(start, slots, rank) };
  });
  const settings = new Set(points.map((p) => p.slots * p.rank));
  let offset: number;
  let perSlotRank = 0;
  if (settings.size >= 2) {
    const fit = leastSquares(
      points.map((p) => [1, -p.slots * p.rank]),
      points.map((p) => p.measured - p.start),
    );
    [offset, perSlotRank] = fit.coefficients as [number, number];
  } else offset = points.reduce((s, p) => s + p.measured - p.start, 0) / points.length;
  const ranks = start.kvCapacity.ranks.map((curve) => ({
    ...curve,
    points: curve.points.map((p) => ({
      slots: p.slots,
      tokens: Math.max(0, Math.round(p.tokens + offset - perSlotRank * p.slots * curve.rank)),
    })),
    tokensPerSlot: Math.max(1e-6, curve.tokensPerSlot + perSlotRank * curve.rank),
  }));
  const measuredWithout = start.kvCapacity.withoutLora;
  const kvCapacity: Profile['kvCapacity'] = {
    ranks,
    // a capacity without LoRA the starting profile carries moves with the rest (else it follows the curves)
    ...(measuredWithout
      ? {
          withoutLora: {
            tokens: Math.max(0, Math.round(measuredWithout.tokens + offset)),
            source: `${measuredWithout.source}, refitted by calibrate --bench (${Math.round(offset)} tokens)`,
          },
        }
      : {}),
    fit: {
      source,
      rows: points.length,
      rmsError: 0,
      unit: 'KV tokens',
      note:
        `refitted by calibrate --bench to the logged "GPU KV cache size": ${Math.round(offset)} tokens at every ` +
        `setting${perSlotRank !== 0 ? `, ${perSlotRank.toFixed(3)} tokens less per slot and unit of rank` : ''}` +
        '; the measured start-up failures are those of the starting profile',
    },
  };
  const refitted: Profile = { ...start, kvCapacity };
  const withFit = points.map((p) => ({ ...p, fitted: capacityAt(refitted, p.slots, p.rank) }));
  kvCapacity.fit.rmsError = rms(withFit.map((p) => p.fitted - p.measured));
  return { kvCapacity, offsetTokens: offset, perSlotRankTokens: perSlotRank, points: withFit };
}

/** The Twin's KV capacity of a server: without LoRA when it has no slots (--enable-lora always has one). */
function capacityAt(profile: Profile, slots: number, rank: number): number {
  return slots === 0 ? kvCapacityWithoutLora(profile) : kvCapacityTokens(profile, slots, rank);
}

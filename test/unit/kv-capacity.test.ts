import { describe, expect, it } from 'vitest';
import { embeddedProfiles, kvCapacityTokens, maxFeasibleSlots, memoryErrorReason } from '../../src/profiles/index.js';
import { testProfile } from '../helpers/profile.js';

describe('KV capacity', () => {
  const p = testProfile();

  it('is exact at measured points and linear between them', () => {
    expect(kvCapacityTokens(p, 8, 8)).toBe(100_000);
    expect(kvCapacityTokens(p, 12, 8)).toBe(98_000);
    expect(kvCapacityTokens(p, 16, 16)).toBe(88_000);
  });

  it('extrapolates beyond the measured slots with the fitted tokens per slot', () => {
    expect(kvCapacityTokens(p, 26, 8)).toBe(96_000 - 10 * 500);
    expect(kvCapacityTokens(p, 4, 16)).toBe(96_000 + 4 * 1000);
  });

  it('interpolates between ranks and scales slot cost with rank beyond them', () => {
    expect(kvCapacityTokens(p, 8, 12)).toBe(98_000);
    // rank 32: rank-16 curve minus (1000 tokens/slot / 16) per rank unit x 16 more ranks, per slot
    expect(kvCapacityTokens(p, 16, 32)).toBe(88_000 - 16 * 1000);
  });

  it('reports a memory error exactly when KV falls below max_model_len or to nothing', () => {
    const q = testProfile({ maxModelLen: 90_000 });
    expect(memoryErrorReason(q, 90_000, 8, 8)).toBeNull();
    expect(memoryErrorReason(q, 89_999, 8, 8)).toMatch(/smaller than max_model_len/);
    expect(memoryErrorReason(q, 0, 8, 8)).toMatch(/no GPU memory left/);
  });

  it('reproduces every start-up failure and success of the shipped profiles (measured, or built)', () => {
    for (const profile of embeddedProfiles().list()) {
      for (const curve of profile.kvCapacity.ranks) {
        // a calibrated curve's points are measured starts; a built curve computes every point and lists the
        // ones below max_model_len among its failures too
        const failed = new Set(curve.failures.map((f) => f.slots));
        for (const point of curve.points.filter((p) => !failed.has(p.slots))) {
          expect(
            memoryErrorReason(profile, kvCapacityTokens(profile, point.slots, curve.rank), point.slots, curve.rank),
          ).toBeNull();
        }
        for (const failure of curve.failures) {
          expect(
            memoryErrorReason(profile, kvCapacityTokens(profile, failure.slots, curve.rank), failure.slots, curve.rank),
          ).not.toBeNull();
        }
      }
    }
  });

  it('finds the largest slot count that starts', () => {
    const profile = embeddedProfiles().get('llama-3.1-8b-instruct', 'h100-64gb');
    const perSlot = profile.kvCapacity.ranks.find((c) => c.rank === 16)!.tokensPerSlot;
    expect(maxFeasibleSlots(profile, 16, 1000)).toBe(224 + Math.floor((138_272 - 131_072) / perSlot));
    expect(maxFeasibleSlots(profile, 8, 50)).toBe(50);
  });
});

import { describe, expect, it } from 'vitest';
import { DriftDay, daySeconds } from '../../src/bench/drift-day.js';

/** A one-hour trace with a request every second. */
const arrivals = Float64Array.from({ length: 3601 }, (_, i) => i);
const trace = { name: 't', durationS: 3600, arrivals: arrivals.length, inputMean: 100, outputMean: 50 };
const day = (over: Partial<ConstructorParameters<typeof DriftDay>[2]> = {}): DriftDay =>
  new DriftDay(trace, arrivals, {
    model: 'm',
    gpu: 'g',
    adapters: 50,
    peakScale: 4,
    troughShare: 0.25,
    troughAtS: 4 * 3600,
    churn: 0.4,
    ranks: [8, 16],
    seed: 7,
    ...over,
  });
const total = (w: { adapters: { rate: number }[] }): number => w.adapters.reduce((s, a) => s + a.rate, 0);

describe('drift day', () => {
  it('follows the diurnal multiplier: the trough share at the trough, the peak 12 hours later', () => {
    const d = day();
    expect(d.multiplier(4 * 3600)).toBeCloseTo(0.25, 12);
    expect(d.multiplier(16 * 3600)).toBeCloseTo(1, 12);
    expect(d.multiplier(10 * 3600)).toBeCloseTo(0.625, 12);
    // a request a second, 4 copies at the peak: 4 req/s in all, 1 req/s at the trough (copies are whole)
    expect(total(d.window(16 * 3600 - 150, 300))).toBeCloseTo(4, 1);
    expect(total(d.window(4 * 3600 - 150, 300))).toBeCloseTo(1, 1);
  });

  it('tiles the trace: a window across the end of a replay counts both sides', () => {
    const d = day({ troughShare: 1, churn: 0 });
    // [3450, 3750) replays trace seconds 3450-3600 and 0-150: 300 requests, as inside one replay
    expect(total(d.window(3450, 300))).toBeCloseTo(1200 / 300, 4);
    expect(total(d.window(1000, 300))).toBeCloseTo(1200 / 300, 4);
  });

  it('adds and retires adapters during the day and keeps the live ones listed', () => {
    const d = day();
    const ids = (t: number): Set<string> => new Set(d.window(t, 300).adapters.map((a) => a.id));
    const morning = ids(0);
    const night = ids(daySeconds - 300);
    expect([...night].some((id) => !morning.has(id))).toBe(true);
    expect([...morning].some((id) => !night.has(id))).toBe(true);
    expect(d.window(0, 300).adapters.some((a) => a.rate === 0)).toBe(true);
  });

  it('draws the same windows from the same seed, and other ones from another', () => {
    expect(day().window(9000, 300)).toEqual(day().window(9000, 300));
    expect(day({ seed: 8 }).window(9000, 300)).not.toEqual(day().window(9000, 300));
  });
});

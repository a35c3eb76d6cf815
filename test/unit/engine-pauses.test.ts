import { describe, expect, it } from 'vitest';
import { EnginePauses } from '../../src/twin/engine-pauses.js';
import { testProfile } from '../helpers/profile.js';
import { ev, observe, withoutWall } from '../helpers/twin.js';

const pauses = { perStepProbability: 0.01, perHeldAdapterMs: 5, maxMs: 1000, source: 'test' };

describe('engine pauses', () => {
  it('pause about one step in 1/p, for perHeldAdapterMs per held adapter up to the cap', () => {
    const clock = new EnginePauses(pauses, 3);
    let paused = 0;
    const steps = 200_000;
    for (let i = 0; i < steps; ) {
      if (clock.pauseMs(4) > 0) {
        expect(clock.pauseMs(4)).toBe(20);
        expect(clock.pauseMs(1000)).toBe(1000);
        paused++;
        clock.advance(1);
        i++;
      } else {
        // a run of identical steps may only reach up to the step before the pause
        const run = Math.min(clock.stepsBeforePause, 37);
        expect(run).toBeGreaterThanOrEqual(1);
        clock.advance(run);
        i += run;
      }
    }
    expect(paused / steps).toBeGreaterThan(0.009);
    expect(paused / steps).toBeLessThan(0.011);
  });

  it('are off without the profile term', () => {
    const clock = new EnginePauses({ ...pauses, perStepProbability: 0 }, 3);
    expect(clock.stepsBeforePause).toBe(Infinity);
    expect(clock.pauseMs(100)).toBe(0);
  });

  it('stretch the step they fall on, by the adapters the server holds', () => {
    const events = Array.from({ length: 400 }, (_, i) => ev(i * 0.05, `a${i % 8}`, 16, 20));
    const scenario = {
      engine: { maxLoras: 8, maxCpuLoras: 8 },
      adapters: Array.from({ length: 8 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0 })),
      arrivals: { process: 'trace' as const, events },
      durationS: 60,
    };
    const plain = observe(testProfile(), scenario);
    const paused = observe(testProfile({ pauses }), scenario);
    // every step of the plain run costs 10 ms; with pauses some cost 10 ms + 5 ms x 8 held adapters
    expect(new Set(plain.steps.map((s) => Math.round(((s.endS - s.startS) * 1000) / s.steps)))).toEqual(new Set([10]));
    const long = paused.steps.filter((s) => Math.abs((s.endS - s.startS) * 1000 - 50) < 1e-6 && s.steps === 1);
    expect(long.length).toBeGreaterThan(0);
    expect(paused.result.ttftMs!.p99).toBeGreaterThan(plain.result.ttftMs!.p99);
    expect(paused.result.completedRequests).toBe(plain.result.completedRequests);
  });

  it('are drawn from the seed: same seed, same run; fast-forward and stepping one by one agree', () => {
    const scenario = {
      engine: { maxLoras: 4, maxCpuLoras: 10, kvCacheTokens: 30_000 },
      adapters: Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0.5 + (i % 3) })),
      durationS: 300,
      seed: 4,
    };
    const profile = testProfile({ pauses });
    const a = observe(profile, scenario, { fastForward: true }).result;
    const b = observe(profile, scenario, { fastForward: true }).result;
    expect(withoutWall(a)).toEqual(withoutWall(b));
    const slow = observe(profile, scenario, { fastForward: false }).result;
    expect(slow.completedRequests).toBe(a.completedRequests);
    expect(slow.steps).toBe(a.steps);
    expect(slow.ttftMs!.p99).toBeCloseTo(a.ttftMs!.p99, 6);
    expect(slow.itlMs!.mean).toBeCloseTo(a.itlMs!.mean, 6);
  });
});

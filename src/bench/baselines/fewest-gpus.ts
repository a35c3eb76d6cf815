import type { ParsedScenario, SimulationResult } from '../../twin/index.js';
import { runsClean, type GpuSimulator } from '../../placement/verify.js';

export interface VerifiedCount {
  /** the fewest GPU count that verified, or null when none up to the search limit did */
  gpus: number | null;
  /** GPU counts tried, in order, with their outcome */
  tried: { gpus: number; ok: boolean }[];
  simulated: number;
}

export interface SetVerdict {
  ok: boolean;
  starved: number;
  memoryErrors: number;
  simulated: number;
  results: (SimulationResult | null)[];
}

/** Whether one GPU's Twin run passes (default `runsClean`: the research rule, it starts and is not starved). */
export type GpuJudge = (r: SimulationResult) => boolean;

/**
 * Simulates a set of GPU scenarios, heaviest first, `batch` at a time, and (with `stopEarly`) stops at
 * the first batch with a GPU that fails `judge`: enough to reject a GPU count. `starved` counts the
 * GPUs that start but fail the judge.
 */
export async function verifySet(
  scenarios: ParsedScenario[],
  simulate: GpuSimulator,
  batch: number,
  stopEarly: boolean,
  judge: GpuJudge = runsClean,
): Promise<SetVerdict> {
  const demand = (s: ParsedScenario): number => s.adapters.reduce((sum, a) => sum + a.rate, 0);
  const order = scenarios.map((_, i) => i).sort((a, b) => demand(scenarios[b]!) - demand(scenarios[a]!) || a - b);
  const results: (SimulationResult | null)[] = scenarios.map(() => null);
  let starved = 0;
  let memoryErrors = 0;
  let simulated = 0;
  for (let i = 0; i < order.length; i += batch) {
    const chunk = order.slice(i, i + batch);
    const answers = await simulate(chunk.map((k) => scenarios[k]!));
    chunk.forEach((k, j) => {
      const r = answers[j]!;
      results[k] = r;
      simulated++;
      if (r.memoryError !== null) memoryErrors++;
      else if (!judge(r)) starved++;
    });
    if (stopEarly && starved + memoryErrors > 0) break;
  }
  return { ok: starved + memoryErrors === 0, starved, memoryErrors, simulated, results };
}

/**
 * The fewest GPUs, from `from` up to `max`, at which `build(k)` verifies (galloping search, then
 * bisection; assumes more GPUs never hurt, which holds for load-spreading baselines).
 */
export async function fewestVerifiedGpus(
  build: (gpus: number) => ParsedScenario[],
  from: number,
  max: number,
  simulate: GpuSimulator,
  batch: number,
  judge: GpuJudge = runsClean,
): Promise<VerifiedCount> {
  const tried: { gpus: number; ok: boolean }[] = [];
  let simulated = 0;
  const check = async (k: number): Promise<boolean> => {
    const v = await verifySet(build(k), simulate, batch, true, judge);
    simulated += v.simulated;
    tried.push({ gpus: k, ok: v.ok });
    return v.ok;
  };
  let lastBad = from - 1;
  let good: number | null = null;
  for (let step = 1, k = from; k <= max; step *= 2, k = Math.min(max, lastBad + step)) {
    if (await check(k)) {
      good = k;
      break;
    }
    lastBad = k;
    if (k === max) break;
  }
  if (good === null) return { gpus: null, tried, simulated };
  let best: number = good;
  while (best - lastBad > 1) {
    const mid: number = (lastBad + best) >> 1;
    if (await check(mid)) best = mid;
    else lastBad = mid;
  }
  return { gpus: best, tried, simulated };
}

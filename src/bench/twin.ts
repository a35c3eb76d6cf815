import { performance } from 'node:perf_hooks';
import type { ProfileStore } from '../profiles/index.js';
import { parseScenario, simulateParsed, type Scenario, type SimulationResult } from '../twin/index.js';

export interface BenchCase {
  name: string;
  scenario: Scenario;
}

/** Llama-3.1-8B on the H100 profile, `adapters` rank-8 adapters with rates cycled, one simulated hour. */
function llamaHour(name: string, adapters: number, rates: number[], slots: number): BenchCase {
  return {
    name,
    scenario: {
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      engine: { maxLoras: slots, maxNumSeqs: 2048 },
      adapters: Array.from({ length: adapters }, (_, i) => ({
        id: `adapter-${i}`,
        rank: 8,
        rate: rates[i % rates.length]!,
      })),
      durationS: 3600,
      seed: 0,
    },
  };
}

/**
 * The research twin's reference scenario (Llama-3.1-8B, 16 adapters, 16 slots, rates 3.2/1.6/0.8,
 * rank 8, one hour; it reports 14,360 tok/s and takes 7.6 s) and a heavily overloaded one.
 */
export function twinBenchCases(): BenchCase[] {
  return [
    llamaHour('reference: 16 adapters, 16 slots, 3.2/1.6/0.8 req/s', 16, [3.2, 1.6, 0.8], 16),
    llamaHour('heavy: 384 adapters, 128 slots, 1.6/0.8/0.4 req/s', 384, [1.6, 0.8, 0.4], 128),
  ];
}

export interface BenchRow {
  name: string;
  repeats: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** median absolute deviation / median */
  noise: number;
  simulatedSecondsPerWallSecond: number;
  result: SimulationResult;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs each case once to warm up, then `repeats` timed times in this thread (one core). */
export function benchTwin(profiles: ProfileStore, repeats: number, cases = twinBenchCases()): BenchRow[] {
  return cases.map((c) => {
    const scenario = parseScenario(c.scenario);
    const profile = profiles.get(scenario.model, scenario.gpu);
    let result = simulateParsed(scenario, profile);
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      result = simulateParsed(scenario, profile);
      times.push(performance.now() - t0);
    }
    const med = median(times);
    return {
      name: c.name,
      repeats,
      medianMs: med,
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
      noise: median(times.map((t) => Math.abs(t - med))) / med,
      simulatedSecondsPerWallSecond: (result.durationS * 1000) / med,
      result,
    };
  });
}

export function formatTwinBench(rows: BenchRow[]): string {
  const lines = [
    'scenario                                           runs  median ms   ' +
      'min ms   max ms  noise   sim s / wall s   tok/s total  completed  steps',
  ];
  for (const r of rows) {
    lines.push(
      `${r.name.padEnd(50)} ${String(r.repeats).padStart(4)} ${r.medianMs.toFixed(1).padStart(10)}` +
        ` ${r.minMs.toFixed(1).padStart(8)} ${r.maxMs.toFixed(1).padStart(8)} ` +
        `${(100 * r.noise).toFixed(1).padStart(5)}% ` +
        `${Math.round(r.simulatedSecondsPerWallSecond).toLocaleString('en-US').padStart(16)} ` +
        `${Math.round(r.result.throughput.total).toLocaleString('en-US').padStart(13)} ` +
        `${String(r.result.completedRequests).padStart(10)} ${String(r.result.steps).padStart(6)}`,
    );
  }
  lines.push('noise = median absolute deviation of the timed runs / median; one thread, after one warm-up run.');
  return lines.join('\n');
}

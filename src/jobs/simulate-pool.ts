import { Piscina } from 'piscina';
import { embeddedProfiles } from '../profiles/index.js';
import { simulateParsed, type ParsedScenario, type SimulationResult } from '../twin/index.js';
import { workerEntry } from './worker-file.js';

/**
 * Simulates scenarios on `workers` threads and hands each result to `emit` in input order
 * (results that finish early wait for their predecessors).
 */
export async function simulateInPool(scenarios: ParsedScenario[], workers: number, emit: (r: SimulationResult, index: number) => void): Promise<SimulationResult[]> {
  if (workers <= 1 || scenarios.length <= 1) {
    const profiles = embeddedProfiles();
    return scenarios.map((s, i) => {
      const r = simulateParsed(s, profiles.get(s.model, s.gpu));
      emit(r, i);
      return r;
    });
  }
  const entry = workerEntry(import.meta.url, 'simulate.worker');
  const pool = new Piscina({ ...entry, minThreads: Math.min(workers, scenarios.length), maxThreads: Math.min(workers, scenarios.length) });
  const results = new Array<SimulationResult | undefined>(scenarios.length);
  let next = 0;
  try {
    await Promise.all(
      scenarios.map(async (s, i) => {
        results[i] = (await pool.run(s)) as SimulationResult;
        while (next < results.length && results[next] !== undefined) {
          emit(results[next]!, next);
          next++;
        }
      }),
    );
  } finally {
    await pool.destroy();
  }
  return results as SimulationResult[];
}

import type { Piscina } from 'piscina';
import { embeddedProfiles, type ProfileStore } from '../profiles/index.js';
import { simulateParsed, type ParsedScenario, type SimulationResult } from '../twin/index.js';
import { workerEntry } from '../shared/worker-file.js';
import type { ProfiledScenario } from './simulate.worker.js';

/**
 * Twin runs on worker threads that live as long as the pool (placement verification and benchmarks
 * call it many times). With one worker it simulates in this thread, and piscina is not loaded.
 */
export class TwinPool {
  private pool: Piscina | null = null;

  private readonly profiles: ProfileStore;

  /**
   * `threadsOnly`: never simulate on the calling thread (the service keeps its event loop free);
   * `profiles`: where scenarios find their profile, here and on the threads (default: the embedded ones).
   */
  constructor(
    readonly workers: number,
    private readonly opts: { threadsOnly?: boolean; profiles?: ProfileStore } = {},
  ) {
    this.profiles = opts.profiles ?? embeddedProfiles();
  }

  /** Simulates `scenarios` and hands each result to `emit` in input order; answers in input order. */
  async run(
    scenarios: ParsedScenario[],
    emit: (r: SimulationResult, index: number) => void = () => {},
  ): Promise<SimulationResult[]> {
    if (!this.opts.threadsOnly && (this.workers <= 1 || scenarios.length <= 1)) {
      return scenarios.map((s, i) => {
        const r = simulateParsed(s, this.profiles.get(s.model, s.gpu, s.tensorParallelSize));
        emit(r, i);
        return r;
      });
    }
    // piscina loads with the first threaded run: a single simulation (simulate FILE, place) never needs it
    const { Piscina: Pool } = await import('piscina');
    this.pool ??= new Pool({
      ...workerEntry(import.meta.url, 'simulate.worker'),
      minThreads: Math.max(1, this.workers),
      maxThreads: Math.max(1, this.workers),
    });
    const pool = this.pool;
    const results = new Array<SimulationResult | undefined>(scenarios.length);
    let next = 0;
    await Promise.all(
      scenarios.map(async (s, i) => {
        // the profile travels with the scenario: a store built in memory has no directory a thread could read
        const task: ProfiledScenario = {
          scenario: s,
          profile: this.profiles.get(s.model, s.gpu, s.tensorParallelSize),
        };
        results[i] = (await pool.run(task)) as SimulationResult;
        while (next < results.length && results[next] !== undefined) {
          emit(results[next]!, next);
          next++;
        }
      }),
    );
    return results as SimulationResult[];
  }

  async destroy(): Promise<void> {
    await this.pool?.destroy();
    this.pool = null;
  }
}

/** Simulates scenarios on a pool of `workers` threads made for this call. */
export async function simulateInPool(
  scenarios: ParsedScenario[],
  workers: number,
  emit: (r: SimulationResult, index: number) => void,
  profiles?: ProfileStore,
): Promise<SimulationResult[]> {
  const pool = new TwinPool(Math.min(workers, scenarios.length), profiles ? { profiles } : {});
  try {
    return await pool.run(scenarios, emit);
  } finally {
    await pool.destroy();
  }
}

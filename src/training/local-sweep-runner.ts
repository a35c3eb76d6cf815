import { Piscina } from 'piscina';
import type { DatasetRow } from '../ml/dataset.js';
import type { ProfileStore } from '../profiles/index.js';
import { workerEntry } from '../shared/worker-file.js';
import { profilesWorkerData } from '../jobs/worker-profiles.js';
import { InlineSweepRunner } from './inline-sweep-runner.js';
import type { SweepJob, SweepRunner } from './sweep-runner.js';

/**
 * Local worker threads for `threads` > 1, this thread otherwise; this thread too for a store built in memory,
 * whose profiles no thread could read (worker-profiles.ts).
 */
export function localSweepRunner(threads: number, profiles: ProfileStore): SweepRunner {
  return threads > 1 && profiles.dirs.length > 0
    ? new LocalSweepRunner(threads, profiles)
    : new InlineSweepRunner(profiles);
}

/**
 * Worker-thread pool (piscina) running src/training/sweep.worker (next to this file, .ts or .js); the threads
 * read the profiles of `profiles`' directories (default: the embedded ones).
 */
export class LocalSweepRunner implements SweepRunner {
  private readonly pool: Piscina;

  constructor(threads: number, profiles?: ProfileStore) {
    // the threads would silently simulate with the embedded profiles instead
    if (profiles && profiles.dirs.length === 0)
      throw new Error('LocalSweepRunner: a store built in memory has no directories for its threads to read');
    this.pool = new Piscina({
      ...workerEntry(import.meta.url, 'sweep.worker'),
      minThreads: threads,
      maxThreads: threads,
      ...(profiles ? { workerData: profilesWorkerData(profiles) } : {}),
    });
  }

  async run(
    jobs: SweepJob[],
    onRow: (job: SweepJob, row: DatasetRow | null) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    await Promise.all(
      jobs.map(async (job) => {
        const row = (await this.pool.run(job, signal ? { signal } : {})) as DatasetRow | null;
        onRow(job, row);
      }),
    );
  }

  async close(): Promise<void> {
    await this.pool.destroy();
  }
}

import { Piscina } from 'piscina';
import type { DatasetRow } from '../ml/dataset.js';
import { sweepRow } from '../ml/sweep-row.js';
import type { ProfileStore } from '../profiles/index.js';
import { workerEntry } from './worker-file.js';

/** A row of a sweep to compute: workload `index` of the sweep seeded `seed` on profile model@gpu. */
export interface SweepJob {
  model: string;
  gpu: string;
  seed: number;
  index: number;
}

/**
 * Runs sweep jobs somewhere and reports each finished row (null: infeasible workload). The default
 * runs them on local worker threads; a distributed runner (e.g. a queue) implements the same contract.
 */
export interface SweepRunner {
  run(jobs: SweepJob[], onRow: (job: SweepJob, row: DatasetRow | null) => void, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Runs the jobs one after the other in this thread (tests, --workers 1). */
export class InlineSweepRunner implements SweepRunner {
  constructor(private readonly profiles: ProfileStore) {}

  async run(jobs: SweepJob[], onRow: (job: SweepJob, row: DatasetRow | null) => void, signal?: AbortSignal): Promise<void> {
    for (const job of jobs) {
      signal?.throwIfAborted();
      onRow(job, sweepRow(this.profiles.get(job.model, job.gpu), job.seed, job.index));
    }
  }

  async close(): Promise<void> {}
}

/** Local worker threads for `threads` > 1, this thread otherwise. */
export function localSweepRunner(threads: number, profiles: ProfileStore): SweepRunner {
  return threads > 1 ? new LocalSweepRunner(threads) : new InlineSweepRunner(profiles);
}

/** Worker-thread pool (piscina) running src/jobs/sweep.worker. */
export class LocalSweepRunner implements SweepRunner {
  private readonly pool: Piscina;

  constructor(threads: number) {
    this.pool = new Piscina({ ...workerEntry(import.meta.url, 'sweep.worker'), minThreads: threads, maxThreads: threads });
  }

  async run(jobs: SweepJob[], onRow: (job: SweepJob, row: DatasetRow | null) => void, signal?: AbortSignal): Promise<void> {
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

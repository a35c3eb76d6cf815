import type { DatasetRow } from '../ml/dataset.js';
import { sweepRow } from '../ml/sweep-row.js';
import type { ProfileStore } from '../profiles/index.js';
import type { SweepJob, SweepRunner } from './sweep-runner.js';

/** Runs the jobs one after the other in this thread (tests, --workers 1). */
export class InlineSweepRunner implements SweepRunner {
  constructor(private readonly profiles: ProfileStore) {}

  async run(
    jobs: SweepJob[],
    onRow: (job: SweepJob, row: DatasetRow | null) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    for (const job of jobs) {
      signal?.throwIfAborted();
      onRow(job, sweepRow(this.profiles.get(job.model, job.gpu, job.tensorParallelSize), job.seed, job.index));
    }
  }

  async close(): Promise<void> {}
}

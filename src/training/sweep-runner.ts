import type { DatasetRow } from '../ml/dataset.js';

/** A row of a sweep to compute: workload `index` of the sweep seeded `seed` on profile model@gpu. */
export interface SweepJob {
  model: string;
  gpu: string;
  /** the profile's GPUs per server, when above 1 */
  tensorParallelSize?: number;
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

import type { DatasetRow } from '../ml/dataset.js';
import { sweepRow } from '../ml/sweep-row.js';
import { workerProfiles } from '../jobs/worker-profiles.js';
import type { SweepJob } from './sweep-runner.js';

/** Worker-thread entry: one sweep row with its pool's profiles (those of the caller). */
export default function sweepTask(job: SweepJob): DatasetRow | null {
  return sweepRow(workerProfiles().get(job.model, job.gpu, job.tensorParallelSize), job.seed, job.index);
}

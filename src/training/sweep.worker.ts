import { embeddedProfiles } from '../profiles/index.js';
import type { DatasetRow } from '../ml/dataset.js';
import { sweepRow } from '../ml/sweep-row.js';
import type { SweepJob } from './sweep-runner.js';

/** Worker-thread entry: one sweep row with the embedded profiles. */
export default function sweepTask(job: SweepJob): DatasetRow | null {
  return sweepRow(embeddedProfiles().get(job.model, job.gpu, job.tensorParallelSize), job.seed, job.index);
}

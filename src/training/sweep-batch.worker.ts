import { sweepRow } from '../ml/sweep-row.js';
import type { OpenedBatch, BatchRow } from './sweep-batch.js';

/** Worker-thread entry of a queue worker: the rows of one checked batch, in its order (infeasible marked). */
export default function sweepBatchTask({ profile, seed, indices }: OpenedBatch): BatchRow[] {
  return indices.map((index) => sweepRow(profile, seed, index) ?? { index, infeasible: true as const });
}

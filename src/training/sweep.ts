import { createHash } from 'node:crypto';
import { keyOf, tensorParallelSizeOf, type Profile } from '../profiles/index.js';
import { appendLines, headerFor, openDataset, rewriteDataset, type DatasetRow } from '../ml/dataset.js';
import { sweepFeatures } from '../ml/sweep-row.js';
import { Progress } from './progress.js';
import type { SweepRunner } from './sweep-runner.js';

export interface SweepOptions {
  profile: Profile;
  seed: number;
  /** workloads 0..rows-1 of the seeded sweep */
  rows: number;
  /** append-only JSONL; a rerun resumes it */
  datasetFile: string;
  runner: SweepRunner;
  signal?: AbortSignal;
  progress?: boolean;
  /** called after every finished row (background refreshes report progress through it) */
  onProgress?: (done: number, total: number) => void;
}

/** Simulates every workload of the sweep not yet in the dataset file; returns all rows in index order. */
export async function runSweep(opts: SweepOptions): Promise<DatasetRow[]> {
  const { model, gpu } = opts.profile;
  const tp = tensorParallelSizeOf(opts.profile);
  const header = headerFor(model, gpu, opts.seed, profileSha256(opts.profile));
  const existing = openDataset(opts.datasetFile, header);
  if (existing.staleFeatures) {
    for (const row of existing.rows) row.features = sweepFeatures(opts.profile, opts.seed, row.index)!;
    const feasible = new Set(existing.rows.map((r) => r.index));
    rewriteDataset(
      opts.datasetFile,
      header,
      existing.rows,
      [...existing.done].filter((i) => !feasible.has(i)).sort((a, b) => a - b),
    );
  }
  const jobs = [];
  for (let index = 0; index < opts.rows; index++) {
    if (!existing.done.has(index))
      jobs.push({ model, gpu, ...(tp > 1 ? { tensorParallelSize: tp } : {}), seed: opts.seed, index });
  }
  const progress = opts.progress === false ? null : new Progress(`sweep ${keyOf(opts.profile)}`, jobs.length);
  const fresh: DatasetRow[] = [];
  const seen = new Set(existing.done);
  let pending: unknown[] = [];
  let done = 0;
  const flush = (): void => {
    appendLines(opts.datasetFile, pending);
    pending = [];
  };
  try {
    await opts.runner.run(
      jobs,
      (job, row) => {
        // rows are keyed by index: a runner reporting one twice (a job run again) changes nothing
        if (seen.has(job.index) || job.index >= opts.rows) return;
        seen.add(job.index);
        pending.push(row ?? { index: job.index, infeasible: true });
        if (row) fresh.push(row);
        if (pending.length >= 50) flush();
        progress?.tick();
        opts.onProgress?.(++done, jobs.length);
      },
      opts.signal,
    );
  } finally {
    flush();
    progress?.finish();
  }
  return [...existing.rows, ...fresh].filter((r) => r.index < opts.rows).sort((a, b) => a.index - b.index);
}

/** Identity of a profile's constants (a recalibration invalidates cached simulations). */
export function profileSha256(profile: Profile): string {
  return createHash('sha256').update(JSON.stringify(profile)).digest('hex');
}

import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { featureCount, featureNames, featureVersion } from './features.js';
import { samplerVersion } from './workload-sampler.js';

/** First line of a sweep dataset: what the rows belong to (a rerun only resumes a matching file). */
export const DatasetHeader = z.object({
  kind: z.literal('lora-placer-sweep'),
  model: z.string(),
  gpu: z.string(),
  seed: z.number().int(),
  /** workloads are a function of (sampler version, seed, index); simulations of the profile */
  sampler: z.number().int(),
  profileSha256: z.string(),
  features: z.array(z.string()),
  /** how the features were computed (featureVersion); absent in files written before it existed */
  featureVersion: z.number().int().optional(),
});
export type DatasetHeader = z.infer<typeof DatasetHeader>;

/** One simulated workload: its features and what the Twin measured. */
export const DatasetRow = z.object({
  index: z.number().int().nonnegative(),
  features: z.array(z.number()).length(featureCount),
  throughput: z.number(),
  idealThroughput: z.number(),
  itlMs: z.number().nullable(),
  ttftMs: z.number().nullable(),
  starved: z.boolean(),
  wallMs: z.number(),
});
export type DatasetRow = z.infer<typeof DatasetRow>;

/** An index whose sampled workload fits no slot count: kept so a resumed sweep does not retry it. */
export const InfeasibleRow = z.object({ index: z.number().int().nonnegative(), infeasible: z.literal(true) });

export function headerFor(model: string, gpu: string, seed: number, profileSha256: string): DatasetHeader {
  return { kind: 'lora-placer-sweep', model, gpu, seed, sampler: samplerVersion, profileSha256, features: [...featureNames], featureVersion };
}

export interface DatasetContents {
  rows: DatasetRow[];
  /** every index already computed, feasible or not */
  done: Set<number>;
  /** the rows' features follow an older feature list or computation: recompute them (the simulations stay valid) */
  staleFeatures: boolean;
}

/** Rows already in `file` (sorted by index), creating the file with its header when absent. */
export function openDataset(file: string, header: DatasetHeader): DatasetContents {
  if (!existsSync(file)) {
    writeFileSync(file, `${JSON.stringify(header)}\n`);
    return { rows: [], done: new Set(), staleFeatures: false };
  }
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const found = DatasetHeader.safeParse(JSON.parse(lines[0] ?? 'null'));
  const sameSweep =
    found.success &&
    found.data.model === header.model &&
    found.data.gpu === header.gpu &&
    found.data.seed === header.seed &&
    found.data.sampler === header.sampler &&
    found.data.profileSha256 === header.profileSha256;
  if (!sameSweep) {
    throw new AppError('invalidInput', `--dataset: ${file} belongs to another sweep (header ${lines[0] ?? 'missing'}); choose another file`);
  }
  const staleFeatures = JSON.stringify(found.data.features) !== JSON.stringify(header.features) || found.data.featureVersion !== header.featureVersion;
  const byIndex = new Map<number, DatasetRow>();
  const done = new Set<number>();
  lines.slice(1).forEach((line, i) => {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      // a line cut short by an interrupted run is dropped and simulated again
      if (i === lines.length - 2) return;
      throw new AppError('dataFile', `${file} line ${i + 2}: not JSON`);
    }
    const infeasible = InfeasibleRow.safeParse(value);
    if (infeasible.success) {
      done.add(infeasible.data.index);
      return;
    }
    const row = (staleFeatures ? DatasetRow.extend({ features: z.array(z.number()) }) : DatasetRow).safeParse(value);
    if (!row.success) throw new AppError('dataFile', `${file} line ${i + 2}: not a dataset row`);
    byIndex.set(row.data.index, row.data);
    done.add(row.data.index);
  });
  return { rows: [...byIndex.values()].sort((a, b) => a.index - b.index), done, staleFeatures };
}

/** Rewrites a dataset with a new header and rows (after recomputing features), atomically. */
export function rewriteDataset(file: string, header: DatasetHeader, rows: DatasetRow[], infeasible: number[]): void {
  const lines = [header, ...rows, ...infeasible.map((index) => ({ index, infeasible: true }))].map((v) => JSON.stringify(v));
  writeFileSync(`${file}.tmp`, `${lines.join('\n')}\n`);
  renameSync(`${file}.tmp`, file);
}

export function appendLines(file: string, values: unknown[]): void {
  if (values.length > 0) appendFileSync(file, values.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

/** sha256 of the rows in index order, without wall times (they vary between machines). */
export function datasetHash(rows: DatasetRow[]): string {
  const h = createHash('sha256');
  for (const { wallMs: _w, ...r } of rows) h.update(`${JSON.stringify(r)}\n`);
  return h.digest('hex');
}

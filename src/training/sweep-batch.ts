import { z } from 'zod';
import { DatasetHeader, DatasetRow, headerFor, InfeasibleRow } from '../ml/dataset.js';
import { Profile } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { profileSha256 } from './sweep.js';

/**
 * A sweep batch: the unit of work a queue carries (a job's data and its result), apart from the queue.
 * It is self-contained: the profile travels as JSON beside the dataset header (profileSha256, seed,
 * sampler, feature and label versions), so a worker needs no profile file, and refuses a batch whose
 * profile does not hash to what the header names or whose rows it would compute differently.
 */

/** Most rows one batch may ask for: bounds a job's work (a row is at most a few seconds of a thread) and result. */
export const maxBatchRows = 256;
/** Most bytes of the profile a batch carries (the calibrated profiles are about 9 KB). */
export const maxProfileBytes = 256 * 1024;
/** Most bytes of one row of a result, as JSON (a row is about 400): a result is bounded by rows x this. */
export const maxRowBytes = 4096;
/** Highest workload index a batch may ask for (sweeps are thousands of rows; REFRESH_MAX_WORKLOADS is 1e6 at most). */
export const maxSweepIndex = 100_000_000;

export const SweepBatch = z.strictObject({
  kind: z.literal('lora-placer-sweep-batch'),
  /** the dataset header the rows belong to (model, gpu, seed, sampler, profileSha256, features, versions) */
  header: DatasetHeader,
  /** the profile, JSON.stringify of the parsed profile: its sha256 is header.profileSha256 */
  profile: z.string().max(maxProfileBytes),
  /** workload indices of the sweep, ascending, each once */
  indices: z.array(z.number().int().nonnegative().max(maxSweepIndex)).min(1).max(maxBatchRows),
});
export type SweepBatch = z.infer<typeof SweepBatch>;

/** One row of a result: a dataset row, or an index whose workload fits no slot count. */
export const BatchRow = z.union([DatasetRow, InfeasibleRow]);
export type BatchRow = z.infer<typeof BatchRow>;

export const SweepBatchResult = z.strictObject({ rows: z.array(BatchRow).max(maxBatchRows) });
export type SweepBatchResult = z.infer<typeof SweepBatchResult>;

/** What a worker simulates: the checked contents of a batch. */
export interface OpenedBatch {
  profile: Profile;
  seed: number;
  indices: number[];
}

/** The batch asking for rows `indices` of the sweep (profile, seed). */
export function sweepBatch(profile: Profile, seed: number, indices: number[]): SweepBatch {
  const sha = profileSha256(profile);
  return {
    kind: 'lora-placer-sweep-batch',
    header: headerFor(profile.model, profile.gpu, seed, sha),
    profile: JSON.stringify(profile),
    indices,
  };
}

/**
 * Checks a batch before any simulation: its shape, its profile (valid, hashing to the header's
 * profileSha256) and the header (the rows this code computes for it). AppError 'invalidInput' naming
 * what is wrong otherwise: retrying such a batch cannot help.
 */
export function openSweepBatch(data: unknown): OpenedBatch {
  const batch = parseOrThrow(SweepBatch, data, 'sweep batch');
  for (let i = 1; i < batch.indices.length; i++) {
    if (batch.indices[i]! <= batch.indices[i - 1]!)
      throw new AppError('invalidInput', `invalid sweep batch: indices must ascend, each once (at ${i})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(batch.profile);
  } catch {
    throw new AppError('invalidInput', 'invalid sweep batch: its profile is not JSON');
  }
  const profile = parseOrThrow(Profile, json, 'sweep batch profile', 'profile');
  const sha = profileSha256(profile);
  if (sha !== batch.header.profileSha256) {
    throw new AppError(
      'invalidInput',
      `sweep batch refused: its profile hashes to ${sha}, not to the profileSha256 ${batch.header.profileSha256} ` +
        'of its header',
    );
  }
  const mine = headerFor(profile.model, profile.gpu, batch.header.seed, sha);
  if (JSON.stringify(mine) !== JSON.stringify(batch.header)) {
    throw new AppError(
      'invalidInput',
      `sweep batch refused: it asks for rows of ${headerText(batch.header)}; this lora-placer computes ` +
        `${headerText(mine)} (run the same version of lora-placer on both sides)`,
    );
  }
  return { profile, seed: batch.header.seed, indices: batch.indices };
}

function headerText(h: DatasetHeader): string {
  return (
    `${h.model}@${h.gpu} with sampler ${h.sampler}, features v${h.featureVersion ?? 0} ` +
    `(${h.features.length}), labels v${h.labels ?? 1}`
  );
}

/** Bytes a batch's result may take as JSON. */
export const maxResultBytes = (rows: number): number => rows * maxRowBytes + 64;

/**
 * A result checked against the batch it answers: every index of the batch exactly once, nothing else,
 * within maxResultBytes. The rows by index (null: infeasible); AppError 'internal' otherwise.
 */
export function checkBatchResult(indices: readonly number[], value: unknown): Map<number, DatasetRow | null> {
  const bytes = JSON.stringify(value ?? null).length;
  if (bytes > maxResultBytes(indices.length))
    throw new AppError('internal', `sweep batch result of ${bytes} bytes is over its bound for ${indices.length} rows`);
  const parsed = SweepBatchResult.safeParse(value);
  if (!parsed.success) throw new AppError('internal', 'sweep batch result is not a list of dataset rows');
  const asked = new Set(indices);
  const rows = new Map<number, DatasetRow | null>();
  for (const row of parsed.data.rows) {
    if (!asked.has(row.index) || rows.has(row.index))
      throw new AppError('internal', `sweep batch result has row ${row.index}, not asked for or twice`);
    rows.set(row.index, 'infeasible' in row ? null : row);
  }
  if (rows.size !== asked.size)
    throw new AppError('internal', `sweep batch result has ${rows.size} rows of the ${asked.size} asked for`);
  return rows;
}

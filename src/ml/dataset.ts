import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
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
  /** which measurements a row carries (labelsVersion); absent in files written before the latency tails */
  labels: z.number().int().optional(),
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
  /** the GPU's p99 TTFT and p99 ITL, ms */
  ttftP99Ms: z.number().nullable(),
  itlP99Ms: z.number().nullable(),
  /** the largest mean TTFT of any adapter with arrivals (the window, for one that completed nothing), ms */
  worstAdapterTtftMs: z.number().nullable(),
  starved: z.boolean(),
  wallMs: z.number(),
});
export type DatasetRow = z.infer<typeof DatasetRow>;

/** Version of what a row measures: 2 added the latency tails (rows of version 1 cannot be reused). */
export const labelsVersion = 2;

/** An index whose sampled workload fits no slot count: kept so a resumed sweep does not retry it. */
export const InfeasibleRow = z.object({ index: z.number().int().nonnegative(), infeasible: z.literal(true) });

export function headerFor(model: string, gpu: string, seed: number, profileSha256: string): DatasetHeader {
  return {
    kind: 'lora-placer-sweep',
    model,
    gpu,
    seed,
    sampler: samplerVersion,
    profileSha256,
    features: [...featureNames],
    featureVersion,
    labels: labelsVersion,
  };
}

export interface DatasetContents {
  rows: DatasetRow[];
  /** every index already computed, feasible or not */
  done: Set<number>;
  /** the rows' features follow an older feature list or computation: recompute them (the simulations stay valid) */
  staleFeatures: boolean;
}

/**
 * Rows already in `file` (sorted by index), creating the file with its header when absent or empty.
 * A torn last line (no "\n", or not JSON: a run killed mid-append) is cut off the file here, before
 * the sweep appends, so the next row starts on a line of its own; its workload is simulated again.
 * A bad line anywhere else is an error, as is a header that is not JSON (AppError 'dataFile').
 */
export function openDataset(file: string, header: DatasetHeader): DatasetContents {
  if (!existsSync(file) || statSync(file).size === 0) return createDataset(file, header);
  const bytes = readFileSync(file);
  const lines = datasetLines(bytes);
  const found = readHeader(file, lines[0]!.text);
  const sameSweep =
    found !== null &&
    found.model === header.model &&
    found.gpu === header.gpu &&
    found.seed === header.seed &&
    found.sampler === header.sampler &&
    found.profileSha256 === header.profileSha256;
  if (!sameSweep) {
    throw new AppError(
      'invalidInput',
      `--dataset: ${file} belongs to another sweep (header ${lines[0]!.text.slice(0, 500)}); choose another file`,
    );
  }
  // the header alone, its newline never written: nothing to resume; rows measuring less than this
  // version's labels cannot be completed either: the sweep starts over in the same file
  if (lines[0]!.torn || (found.labels ?? 1) !== header.labels) return createDataset(file, header);
  const staleFeatures =
    JSON.stringify(found.features) !== JSON.stringify(header.features) ||
    found.featureVersion !== header.featureVersion;
  const contents = readRows(file, lines, staleFeatures);
  if (contents.tornAt !== null) truncateSync(file, contents.tornAt);
  return { rows: [...contents.byIndex.values()].sort((a, b) => a.index - b.index), done: contents.done, staleFeatures };
}

/** The header and no rows, written whole (temp + rename) so a crash cannot leave half a header. */
function createDataset(file: string, header: DatasetHeader): DatasetContents {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(header)}\n`);
  renameSync(`${file}.tmp`, file);
  return { rows: [], done: new Set(), staleFeatures: false };
}

interface DatasetLine {
  text: string;
  /** byte offset where the line starts */
  start: number;
  /** no "\n" after it: the write was cut short */
  torn: boolean;
}

function datasetLines(bytes: Buffer): DatasetLine[] {
  const lines: DatasetLine[] = [];
  for (let start = 0; start < bytes.length; ) {
    const nl = bytes.indexOf(0x0a, start);
    const end = nl === -1 ? bytes.length : nl;
    lines.push({ text: bytes.toString('utf8', start, end), start, torn: nl === -1 });
    start = end + 1;
  }
  return lines;
}

/** The header of line 1, or null when it is JSON but not a sweep header. */
function readHeader(file: string, line: string): DatasetHeader | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new AppError('dataFile', `${file} line 1: not JSON, so not a sweep dataset header; choose another file`);
  }
  const found = DatasetHeader.safeParse(value);
  return found.success ? found.data : null;
}

/** The rows and done indices of lines 2.., and the byte offset of a torn last line (null: none). */
function readRows(
  file: string,
  lines: DatasetLine[],
  staleFeatures: boolean,
): { byIndex: Map<number, DatasetRow>; done: Set<number>; tornAt: number | null } {
  const schema = staleFeatures ? DatasetRow.extend({ features: z.array(z.number()) }) : DatasetRow;
  const byIndex = new Map<number, DatasetRow>();
  const done = new Set<number>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const value = line.torn ? notJson : parseLine(line.text);
    if (value === notJson) {
      // only the last line can be cut short by an interrupted append: drop it from the file
      if (i === lines.length - 1) return { byIndex, done, tornAt: line.start };
      throw new AppError('dataFile', `${file} line ${i + 1}: not JSON`);
    }
    if (value === blank) continue;
    const infeasible = InfeasibleRow.safeParse(value);
    if (infeasible.success) {
      done.add(infeasible.data.index);
      continue;
    }
    const row = schema.safeParse(value);
    if (!row.success) throw new AppError('dataFile', `${file} line ${i + 1}: not a dataset row`);
    byIndex.set(row.data.index, row.data);
    done.add(row.data.index);
  }
  return { byIndex, done, tornAt: null };
}

const blank = Symbol('blank line');
const notJson = Symbol('not JSON');

function parseLine(text: string): unknown {
  if (text.trim() === '') return blank;
  try {
    return JSON.parse(text);
  } catch {
    return notJson;
  }
}

/** Rewrites a dataset with a new header and rows (after recomputing features), atomically. */
export function rewriteDataset(file: string, header: DatasetHeader, rows: DatasetRow[], infeasible: number[]): void {
  const lines = [header, ...rows, ...infeasible.map((index) => ({ index, infeasible: true }))].map((v) =>
    JSON.stringify(v),
  );
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

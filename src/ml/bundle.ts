import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TreeJson } from './tree.js';
import { targetNames, type TargetName } from './targets.js';

const ErrorPair = z.object({ smapeResearch: z.number(), smapeStandard: z.number() });
export const PredictorMetrics = z.object({
  throughput: ErrorPair.extend({ r2: z.number() }),
  itl: ErrorPair,
  ttft: ErrorPair,
  starved: z.object({ accuracy: z.number(), macroF1: z.number() }),
  /** the tail students (absent where the cases did not measure the figure, e.g. per-adapter TTFT of real runs) */
  ttftP99: ErrorPair.optional(),
  itlP99: ErrorPair.optional(),
  worstAdapterTtft: ErrorPair.optional(),
  rows: z.number().int(),
});
export type PredictorMetrics = z.infer<typeof PredictorMetrics>;

const StudentInfo = z.object({
  file: z.string(),
  maxDepth: z.number().int(),
  maxLeaves: z.number().int(),
  depth: z.number().int(),
  leaves: z.number().int(),
  bytes: z.number().int(),
});
const TeacherChoice = z.object({
  featureFraction: z.number(),
  minSamplesLeaf: z.number().int(),
  holdoutError: z.number(),
});

export const PredictorMetadata = z.object({
  schemaVersion: z.literal(1),
  model: z.string(),
  gpu: z.string(),
  tensorParallelSize: z
    .number()
    .int()
    .positive()
    .optional()
    .describe("the profile's GPUs per server; absent: 1 (the bundle's folder is profileKey(model, gpu, size))"),
  version: z.string().describe('sha256 prefix of the student trees: changes whenever a prediction can'),
  created: z.string(),
  seed: z.number().int(),
  features: z.array(z.string()),
  profileSha256: z.string(),
  protocol: z.object({ durationS: z.number(), maxInFlight: z.number().int() }),
  dataset: z.object({
    workloads: z.number().int(),
    rows: z.number().int(),
    sha256: z.string(),
    holdoutRows: z.number().int(),
  }),
  teacher: z.object({
    algorithm: z.string(),
    trees: z.number().int(),
    maxDepth: z.number().int(),
    selected: z.record(z.string(), TeacherChoice),
  }),
  distillation: z.object({ samples: z.number().int(), seed: z.number().int() }),
  students: z.record(z.string(), StudentInfo),
  metrics: z.object({
    twinHoldout: z.object({ teacher: PredictorMetrics, student: PredictorMetrics }),
    realRuns: z
      .object({ file: z.string(), sha256: z.string(), teacher: PredictorMetrics, student: PredictorMetrics })
      .nullable(),
  }),
});
export type PredictorMetadata = z.infer<typeof PredictorMetadata>;

export interface PredictorBundle {
  metadata: PredictorMetadata;
  trees: Record<TargetName, TreeJson>;
}

/** The files of a bundle as text, in the byte-exact form they are stored and compared in. */
export function bundleFiles(bundle: PredictorBundle): Map<string, string> {
  const files = new Map<string, string>();
  for (const t of targetNames) files.set(`${t}.json`, `${JSON.stringify(bundle.trees[t])}\n`);
  files.set('metadata.json', `${JSON.stringify(bundle.metadata, null, 2)}\n`);
  return files;
}

export function studentVersion(trees: Record<TargetName, TreeJson>): string {
  const h = createHash('sha256');
  for (const t of targetNames) h.update(JSON.stringify(trees[t]));
  return h.digest('hex').slice(0, 12);
}

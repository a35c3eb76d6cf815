import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { tensorParallelSizeOf, type Profile } from '../profiles/index.js';
import { Rng } from '../shared/rng.js';
import { studentVersion, type PredictorBundle, type PredictorMetadata, type PredictorMetrics } from '../ml/bundle.js';
import { datasetHash, type DatasetRow } from '../ml/dataset.js';
import { denseSample, fitStudent, type StudentSize } from '../ml/distill.js';
import { evaluate, type EvalCase, type PointPrediction } from '../ml/evaluate.js';
import { featureCount, featureNames } from '../ml/features.js';
import { predictForest, trainForest, type Forest } from '../ml/forest.js';
import { benchmarkClientMaxInFlight, protocolDurationS } from '../ml/protocol.js';
import { targetNames, targets, type TargetName } from '../ml/targets.js';
import { flatten, treeStats, walk, type TreeJson } from '../ml/tree.js';
import { realRunCases } from '../validation/predictor-cases.js';
import { profileSha256, runSweep } from './sweep.js';
import type { SweepRunner } from './sweep-runner.js';

export interface TrainOptions {
  profile: Profile;
  seed: number;
  /** workloads simulated for the dataset */
  workloads: number;
  datasetFile: string;
  runner: SweepRunner;
  /** real runs to score on (never trained on); null to skip */
  realRunsFile: string | null;
  created: string;
  progress?: boolean;
  log: (line: string) => void;
  /** size of the teacher-labelled sample the students are fitted on (default 100,000) */
  denseSamples?: number;
  /** trees per teacher forest (default 100) */
  teacherTrees?: number;
  /** sweep progress (rows done of the rows still to simulate) */
  onProgress?: (done: number, total: number) => void;
  /** receives the Twin hold-out cases, so a caller can score another model on the same rows */
  onHoldout?: (cases: EvalCase[]) => void;
  signal?: AbortSignal;
}

const defaultTeacherTrees = 100;
const teacherMaxDepth = 24;
const teacherGrid = [
  { featureFraction: 0.5, minSamplesLeaf: 1 },
  { featureFraction: 0.5, minSamplesLeaf: 4 },
  { featureFraction: 0.8, minSamplesLeaf: 1 },
  { featureFraction: 0.8, minSamplesLeaf: 4 },
];
/** depth bounded so every path can be read; 1,024 leaves stay near 100 KB of JSON */
const studentSizes: StudentSize[] = [
  { maxDepth: 8, maxLeaves: 256 },
  { maxDepth: 10, maxLeaves: 512 },
  { maxDepth: 12, maxLeaves: 1024 },
];
const defaultDenseSamples = 100_000;
const holdoutShare = 0.2;

/**
 * sweep -> split -> teacher forests (hyper-parameters chosen on the Twin hold-out) -> dense sample
 * labelled by the teachers -> one student tree per target (size chosen on the hold-out) -> metrics.
 * Deterministic in (profile, seed, workloads, real runs file).
 */
export async function trainPredictors(o: TrainOptions): Promise<PredictorBundle> {
  const { profile, seed, log } = o;
  const teacherTrees = o.teacherTrees ?? defaultTeacherTrees;
  const denseSamples = o.denseSamples ?? defaultDenseSamples;
  const rows = await runSweep({
    profile,
    seed,
    rows: o.workloads,
    datasetFile: o.datasetFile,
    runner: o.runner,
    progress: o.progress ?? true,
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  log(`dataset: ${rows.length} rows of ${o.workloads} workloads`);
  const { train, holdout } = split(rows, seed);
  const holdoutCases = holdout.map(caseOf);
  o.onHoldout?.(holdoutCases);

  const teachers = {} as Record<TargetName, Forest>;
  const selected: PredictorMetadata['teacher']['selected'] = {};
  for (const t of targetNames) {
    const { columns, labels } = trainingArrays(train, t);
    let best: { forest: Forest; error: number; featureFraction: number; minSamplesLeaf: number } | null = null;
    for (const g of teacherGrid) {
      const forest = trainForest(columns, labels, {
        trees: teacherTrees,
        maxDepth: teacherMaxDepth,
        seed: seed + 17,
        ...g,
      });
      const error = targetError(t, holdoutCases, (x) => predictForest(forest, x));
      if (!best || error < best.error) best = { forest, error, ...g };
    }
    teachers[t] = best!.forest;
    selected[t] = {
      featureFraction: best!.featureFraction,
      minSamplesLeaf: best!.minSamplesLeaf,
      holdoutError: sig(best!.error),
    };
    log(
      `teacher ${t}: ${teacherTrees} trees, features/split ${best!.featureFraction}, min leaf ` +
        `${best!.minSamplesLeaf}, hold-out ${errorName(t)} ${best!.error.toFixed(4)}`,
    );
  }

  const distillSeed = seed + 1;
  const dense = denseSample(profile, distillSeed, denseSamples);
  const x = new Float64Array(featureCount);
  const trees = {} as Record<TargetName, TreeJson>;
  const students: PredictorMetadata['students'] = {};
  for (const t of targetNames) {
    const labels = new Float64Array(denseSamples);
    for (let i = 0; i < denseSamples; i++) {
      for (let j = 0; j < featureCount; j++) x[j] = dense[j]![i]!;
      labels[i] = predictForest(teachers[t], x);
    }
    let best: { tree: TreeJson; error: number; size: StudentSize } | null = null;
    for (const size of studentSizes) {
      const tree = fitStudent(dense, labels, size, targets[t].kind);
      const flat = flatten(tree.root);
      const error = targetError(t, holdoutCases, (v) => walk(flat, v));
      // a larger tree must earn its size: keep the smaller one unless the error drops by 1 % of itself
      if (!best || error < best.error * 0.99) best = { tree, error, size };
    }
    trees[t] = best!.tree;
    const stats = treeStats(best!.tree.root);
    students[t] = {
      file: `${t}.json`,
      ...best!.size,
      depth: stats.depth,
      leaves: stats.leaves,
      bytes: JSON.stringify(best!.tree).length + 1,
    };
    log(
      `student ${t}: depth ${stats.depth}, ${stats.leaves} leaves, hold-out ${errorName(t)} ${best!.error.toFixed(4)}`,
    );
  }

  const studentPredict = studentPointPredictor(trees);
  const teacherPredict = pointPredictor((t) => (v) => predictForest(teachers[t], v));
  const realCases = o.realRunsFile ? realRunCases(profile, o.realRunsFile) : null;
  const metrics: PredictorMetadata['metrics'] = {
    twinHoldout: { teacher: evaluate(holdoutCases, teacherPredict), student: evaluate(holdoutCases, studentPredict) },
    realRuns:
      realCases && o.realRunsFile
        ? {
            file: basename(o.realRunsFile),
            sha256: sha256File(o.realRunsFile),
            teacher: evaluate(realCases, teacherPredict),
            student: evaluate(realCases, studentPredict),
          }
        : null,
  };
  const metadata: PredictorMetadata = {
    schemaVersion: 1,
    model: profile.model,
    gpu: profile.gpu,
    ...(tensorParallelSizeOf(profile) > 1 ? { tensorParallelSize: tensorParallelSizeOf(profile) } : {}),
    version: studentVersion(trees),
    created: o.created,
    seed,
    features: [...featureNames],
    profileSha256: profileSha256(profile),
    protocol: { durationS: protocolDurationS, maxInFlight: benchmarkClientMaxInFlight },
    dataset: { workloads: o.workloads, rows: rows.length, sha256: datasetHash(rows), holdoutRows: holdout.length },
    teacher: {
      algorithm: 'random forest: bootstrap + per-split feature sampling, histogram CART trees (ml-random-forest JSON)',
      trees: teacherTrees,
      maxDepth: teacherMaxDepth,
      selected,
    },
    distillation: { samples: denseSamples, seed: distillSeed },
    students,
    metrics,
  };
  return { metadata, trees };
}

function split(rows: DatasetRow[], seed: number): { train: DatasetRow[]; holdout: DatasetRow[] } {
  const rng = new Rng(seed, 0x5b117);
  const order = rows.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const cut = Math.round(rows.length * (1 - holdoutShare));
  return { train: order.slice(0, cut).map((i) => rows[i]!), holdout: order.slice(cut).map((i) => rows[i]!) };
}

function trainingArrays(rows: DatasetRow[], t: TargetName): { columns: Float64Array[]; labels: Float64Array } {
  const kept = rows.filter((r) => targets[t].label(r) !== null);
  return {
    columns: Array.from({ length: featureCount }, (_, j) => Float64Array.from(kept, (r) => r.features[j]!)),
    labels: Float64Array.from(kept, (r) => targets[t].label(r)!),
  };
}

const caseOf = (r: DatasetRow): EvalCase => ({
  x: r.features,
  throughput: r.throughput,
  itlMs: r.itlMs,
  ttftMs: r.ttftMs,
  ttftP99Ms: r.ttftP99Ms,
  itlP99Ms: r.itlP99Ms,
  worstAdapterTtftMs: r.worstAdapterTtftMs,
  starved: r.starved,
});

/** The error a target's model is chosen by: SMAPE of the decoded value, or 1 - macro-F1 for starvation. */
function targetError(t: TargetName, cases: EvalCase[], raw: (x: ArrayLike<number>) => number): number {
  const m = evaluate(
    cases,
    pointPredictor((target) => (target === t ? raw : () => 0)),
  );
  if (t === 'starved') return 1 - m.starved.macroF1;
  if (t === 'throughput') return m.throughput.smapeResearch;
  return (t === 'itl' || t === 'ttft' ? m[t] : m[t]!).smapeResearch;
}

const errorName = (t: TargetName): string => (t === 'starved' ? '1 - macro-F1' : 'SMAPE %');

/** The decoded answers of a set of student trees (plain walk: also scores a model being replaced). */
export function studentPointPredictor(trees: Record<TargetName, TreeJson>): (x: ArrayLike<number>) => PointPrediction {
  return pointPredictor((t) => {
    const flat = flatten(trees[t].root);
    return (v) => walk(flat, v);
  });
}

function pointPredictor(
  make: (t: TargetName) => (x: ArrayLike<number>) => number,
): (x: ArrayLike<number>) => PointPrediction {
  const f = Object.fromEntries(targetNames.map((t) => [t, make(t)])) as Record<
    TargetName,
    (x: ArrayLike<number>) => number
  >;
  return (x) => ({
    throughput: targets.throughput.decode(f.throughput(x), x),
    itlMs: targets.itl.decode(f.itl(x)),
    ttftMs: targets.ttft.decode(f.ttft(x)),
    ttftP99Ms: targets.ttftP99.decode(f.ttftP99(x)),
    itlP99Ms: targets.itlP99.decode(f.itlP99(x)),
    worstAdapterTtftMs: targets.worstAdapterTtft.decode(f.worstAdapterTtft(x)),
    starvationProbability: targets.starved.decode(f.starved(x)),
  });
}

function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

const sig = (v: number): number => Number(v.toPrecision(6));

export type { PredictorMetrics };

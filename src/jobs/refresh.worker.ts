import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import type { PredictorBundle, PredictorMetrics } from '../ml/bundle.js';
import { evaluate, type EvalCase } from '../ml/evaluate.js';
import { featureNames } from '../ml/features.js';
import { embeddedProfiles, profilesFrom } from '../profiles/index.js';
import { localSweepRunner } from '../training/local-sweep-runner.js';
import { QueueSweepRunner } from '../training/queue-sweep-runner.js';
import type { SweepQueueAddress } from '../training/sweep-queue.js';
import { studentPointPredictor, trainPredictors } from '../training/train.js';

/** What the service hands a refresh thread. */
export interface RefreshWorkerInput {
  model: string;
  gpu: string;
  tensorParallelSize: number;
  seed: number;
  workloads: number;
  threads: number;
  /** the sweep goes to this queue instead of `threads` threads */
  sweepQueue?: SweepQueueAddress;
  datasetFile: string;
  created: string;
  teacherTrees?: number;
  denseSamples?: number;
  /** the service's profile directories (default: the embedded profiles) */
  profileDirs?: readonly string[];
  /** the model being served, scored on the candidate's hold-out rows */
  current: PredictorBundle | null;
}

/** Sent on the task's port while it runs. */
export type RefreshProgress = { type: 'progress'; done: number; total: number } | { type: 'log'; line: string };

export interface RefreshWorkerResult {
  bundle: PredictorBundle;
  candidate: PredictorMetrics;
  current: PredictorMetrics | null;
}

/**
 * Thread entry of a background refresh: sweep -> train -> distill -> evaluate, all off the service's
 * event loop. The served model is scored on the same hold-out rows so the service can compare.
 */
export default async function refreshTask({
  input,
  port,
}: {
  input: RefreshWorkerInput;
  port: MessagePort;
}): Promise<RefreshWorkerResult> {
  const post = (m: RefreshProgress): void => port.postMessage(m);
  const profiles = input.profileDirs ? profilesFrom(input.profileDirs) : embeddedProfiles();
  // a static import: tsx (tests, npm run dev) does not resolve a dynamic one in a thread
  const runner = input.sweepQueue
    ? new QueueSweepRunner(profiles, { address: input.sweepQueue, log: (line) => post({ type: 'log', line }) })
    : localSweepRunner(input.threads, profiles);
  let holdout: EvalCase[] = [];
  try {
    mkdirSync(dirname(input.datasetFile), { recursive: true });
    const bundle = await trainPredictors({
      profile: profiles.get(input.model, input.gpu, input.tensorParallelSize),
      seed: input.seed,
      workloads: input.workloads,
      datasetFile: input.datasetFile,
      runner,
      realRunsFile: null,
      created: input.created,
      progress: false,
      log: (line) => post({ type: 'log', line }),
      onProgress: (done, total) => {
        if (done === total || done % 25 === 0) post({ type: 'progress', done, total });
      },
      onHoldout: (cases) => {
        holdout = cases;
      },
      ...(input.teacherTrees ? { teacherTrees: input.teacherTrees } : {}),
      ...(input.denseSamples ? { denseSamples: input.denseSamples } : {}),
    });
    const comparable = input.current !== null && input.current.metadata.features.join() === featureNames.join();
    const current = comparable ? evaluate(holdout, studentPointPredictor(input.current!.trees)) : null;
    return { bundle, candidate: bundle.metadata.metrics.twinHoldout.student, current };
  } finally {
    await runner.close();
    port.close();
  }
}

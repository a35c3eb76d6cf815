import type { Profile } from '../profiles/index.js';
import { parseScenario, resolveScenario } from '../twin/index.js';
import type { EvalCase } from '../ml/evaluate.js';
import { computeFeatures } from '../ml/features.js';
import { workloadShape } from '../ml/workload-shape.js';
import { readRealRuns, scenarioOf, type RealRun } from './real-runs.js';

/**
 * Real runs of this model that started, as evaluation cases: features of the replayed configuration, measured outcomes.
 */
export function realRunCases(profile: Profile, file: string): EvalCase[] {
  return casesOf(profile, readRealRuns(file));
}

export function casesOf(profile: Profile, runs: RealRun[]): EvalCase[] {
  return runs
    .filter((r) => r.model === profile.model && r.real !== null && !r.memoryError)
    .map((r) => {
      const resolved = resolveScenario(parseScenario(scenarioOf(r, profile.gpu, 0)), profile);
      const real = r.real!;
      return {
        x: computeFeatures(profile, workloadShape(resolved)),
        throughput: real.throughput,
        itlMs: real.itlMs,
        ttftMs: real.ttftMs,
        ttftP99Ms: real.ttftP99Ms,
        itlP99Ms: real.itlP99Ms,
        // the real runs report no per-adapter TTFT
        worstAdapterTtftMs: null,
        starved: real.starved,
      };
    });
}

/**
 * The research system's predictors on its test set built from the same real runs, as its authors reported
 * them (RandomForest and the single "fast" tree; SMAPE without the factor 2; the source is named in
 * docs/accuracy.md, section Where the real runs come from).
 */
export const researchPredictorScores: Record<
  string,
  { forest: ResearchScore; fastTree: ResearchScore; testRows: number }
> = {
  'llama-3.1-8b-instruct': {
    forest: { throughputSmape: 4.39, r2: 0.95, itlSmape: 10.99, accuracy: 0.95, macroF1: 0.95 },
    fastTree: { throughputSmape: 10.25, r2: 0.85, itlSmape: 18.16, accuracy: 0.92, macroF1: 0.92 },
    testRows: 133,
  },
  'qwen-2.5-7b-instruct': {
    forest: { throughputSmape: 5.28, r2: 0.93, itlSmape: 8.96, accuracy: 0.99, macroF1: 0.99 },
    fastTree: { throughputSmape: 12.89, r2: 0.67, itlSmape: 23.97, accuracy: 0.97, macroF1: 0.97 },
    testRows: 164,
  },
};

export interface ResearchScore {
  throughputSmape: number;
  r2: number;
  itlSmape: number;
  accuracy: number;
  macroF1: number;
}

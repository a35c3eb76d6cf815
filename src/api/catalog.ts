import type { Predictor } from '../ml/predictor.js';
import type { PredictorRegistry } from '../ml/registry.js';
import {
  hfModelIdOf,
  sourceOf,
  tensorParallelSizeOf,
  type Profile,
  type ProfileSource,
  type ProfileStore,
} from '../profiles/index.js';

/**
 * What GET /v1/profiles and GET /v1/models say about a profile and a predictor, without HTTP: the
 * CLI's `lora-placer profiles` prints the same (the route adds when the predictor was loaded).
 */
export function profileSummary(
  p: Profile,
  store: ProfileStore,
  predictors: PredictorRegistry,
): {
  model: string;
  gpu: string;
  description: string;
  vllmVersion: string;
  maxModelLen: number;
  engineDefaults: { maxNumBatchedTokens: number; maxNumSeqs: number };
  hfModelId: string | null;
  source: ProfileSource;
  tensorParallelSize: number;
  file: string | null;
  hasPredictors: boolean;
} {
  return {
    model: p.model,
    gpu: p.gpu,
    description: p.description,
    vllmVersion: p.vllmVersion,
    maxModelLen: p.maxModelLen,
    engineDefaults: p.engineDefaults,
    hfModelId: hfModelIdOf(p),
    source: sourceOf(p),
    tensorParallelSize: tensorParallelSizeOf(p),
    file: store.fileOf(p),
    hasPredictors: predictors.has(p.model, p.gpu),
  };
}

export function predictorSummary(p: Predictor) {
  const m = p.bundle.metadata;
  return {
    model: m.model,
    gpu: m.gpu,
    ...(m.tensorParallelSize !== undefined && m.tensorParallelSize > 1
      ? { tensorParallelSize: m.tensorParallelSize }
      : {}),
    version: m.version,
    created: m.created,
    trainingRows: m.dataset.rows,
    seed: m.seed,
    features: m.features,
    metrics: { twinHoldout: m.metrics.twinHoldout.student, realRuns: m.metrics.realRuns?.student ?? null },
  };
}

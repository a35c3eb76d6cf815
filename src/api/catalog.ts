import type { Predictor } from '../ml/predictor.js';
import type { Profile } from '../profiles/index.js';

/**
 * What GET /v1/profiles and GET /v1/models say about a profile and a predictor, without HTTP: the
 * CLI's `lora-placer profiles` prints the same (the route adds when the predictor was loaded).
 */
export function profileSummary(p: Profile): {
  model: string;
  gpu: string;
  tensorParallelSize?: number;
  description: string;
  vllmVersion: string;
  maxModelLen: number;
  engineDefaults: { maxNumBatchedTokens: number; maxNumSeqs: number };
} {
  return {
    model: p.model,
    gpu: p.gpu,
    // only above 1, as in the profile: a one-GPU profile's summary stays what it was
    ...(p.tensorParallelSize !== undefined && p.tensorParallelSize > 1
      ? { tensorParallelSize: p.tensorParallelSize }
      : {}),
    description: p.description,
    vllmVersion: p.vllmVersion,
    maxModelLen: p.maxModelLen,
    engineDefaults: p.engineDefaults,
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

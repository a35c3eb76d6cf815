import { z } from 'zod';
import type { Profile } from '../profiles/index.js';
import type { ParsedScenario } from '../twin/index.js';
import type { WorkloadShape } from './features.js';
import type { Prediction } from './prediction.js';

/** What answers placement's questions about one GPU: the distilled predictors, or the Twin itself (slower). */
export const EstimatorKind = z
  .enum(['predictors', 'twin'])
  .describe('"predictors": the distilled trees; "twin": short Twin runs (the profile has no predictors yet)');
export type EstimatorKind = z.infer<typeof EstimatorKind>;

/** What a Twin-estimated answer cost, said in the answer (Placement, Prediction). */
export const TwinEstimateCost = z
  .object({
    runs: z.number().int().describe('short Twin runs made'),
    reused: z.number().int().describe('questions answered by an earlier run of the same GPU shape'),
    simulatedRequests: z.number().int().describe('requests those runs simulated'),
    simulatedS: z.number().describe('simulated seconds, summed over the runs'),
    wallMs: z.number().describe('time the runs took'),
    note: z.string(),
  })
  .describe('the cost of answering with the Twin alone (a profile without predictors)');
export type TwinEstimateCost = z.infer<typeof TwinEstimateCost>;

/** What an estimator answers for one GPU: throughput, starvation, mean and tail latencies (ms). */
export interface PredictedFigures {
  throughput: number;
  starvationProbability: number;
  starved: boolean;
  itlMs: number;
  ttftMs: number;
  ttftP99Ms: number;
  itlP99Ms: number;
  worstAdapterTtftMs: number;
}

/**
 * The questions `/v1/predict` and placement ask about one GPU of a profile. The predictors answer them in
 * microseconds; a profile without predictors answers them with short Twin runs (TwinEstimator).
 */
export interface GpuEstimator {
  readonly kind: EstimatorKind;
  readonly profile: Profile;
  /** the predictor bundle's version, or the Twin estimator's (method and profile hash) */
  readonly version: string;
  /** the answer of /v1/predict for a scenario of this profile */
  predict(scenario: ParsedScenario): Prediction;
  /** placement's question: the figures of a GPU of this shape, whose feature vector is `x` */
  estimate(shape: WorkloadShape, x: ArrayLike<number>): PredictedFigures;
  /** what the answers so far cost, for an estimator that is slower than the trees (the Twin's) */
  cost?(): TwinEstimateCost;
}

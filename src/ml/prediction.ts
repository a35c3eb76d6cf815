import { z } from 'zod';
import { regimeFactorsOf, upperBoundsOf, Warnings, type UpperBounds } from '../twin/index.js';
import { EstimatorKind, TwinEstimateCost, type GpuEstimator, type PredictedFigures } from './estimator.js';

/** An upper bound (ms), null where its estimate is; optional so that stored answers without it parse. */
const UpperBound = z.number().nullable().optional();

/** Answer of /v1/predict and `lora-placer predict` (docs/design.md, section Prediction). */
export const Prediction = z.object({
  throughput: z.number().nullable().describe('tokens/s (input + output) of completed requests; null on a memory error'),
  idealThroughput: z.number().describe('tokens/s demanded by the workload'),
  starvationProbability: z.number().min(0).max(1).nullable(),
  starved: z.boolean().nullable(),
  memoryError: z.boolean(),
  memoryErrorReason: z.string().nullable(),
  itlMs: z.number().nullable().describe('mean inter-token latency'),
  ttftMs: z.number().nullable().describe('mean time to first token of completed requests'),
  ttftP99Ms: z.number().nullable().describe('p99 time to first token of completed requests'),
  itlP99Ms: z.number().nullable().describe('p99 inter-token latency'),
  worstAdapterTtftMs: z
    .number()
    .nullable()
    .describe('largest mean TTFT of any adapter (cold adapters wait for a slot)'),
  ttftP99UpperMs: UpperBound.describe(
    'calibrated upper bound of ttftP99Ms: the estimate x the factor of its estimator, model and load regime ' +
      '(docs/bounds.md)',
  ),
  itlP99UpperMs: UpperBound.describe('calibrated upper bound of itlP99Ms'),
  ttftMeanUpperMs: UpperBound.describe('calibrated upper bound of ttftMs (the mean)'),
  worstAdapterTtftUpperMs: UpperBound.describe(
    'upper bound of worstAdapterTtftMs, with the mean-TTFT factor (the real runs report no per-adapter figure)',
  ),
  engine: z.object({
    maxLoras: z.number().int(),
    maxCpuLoras: z.number().int(),
    maxLoraRank: z.number().int(),
    maxNumBatchedTokens: z.number().int(),
    maxNumSeqs: z.number().int(),
    kvCacheTokens: z.number().int(),
  }),
  modelVersion: z.string(),
  estimator: EstimatorKind.optional(),
  twinEstimate: TwinEstimateCost.optional(),
  warnings: Warnings.optional().describe('where the scenario leaves what the profile was measured on'),
});
export type Prediction = z.infer<typeof Prediction>;

/** The figures of a Prediction whose server fails to start (memory error): nothing was served. */
export const noFigures = {
  throughput: null,
  starvationProbability: null,
  starved: null,
  itlMs: null,
  ttftMs: null,
  ttftP99Ms: null,
  itlP99Ms: null,
  worstAdapterTtftMs: null,
  ttftP99UpperMs: null,
  itlP99UpperMs: null,
  ttftMeanUpperMs: null,
  worstAdapterTtftUpperMs: null,
} as const;

/** The upper bounds of an estimator's figures (the Twin's factors for the Twin estimator, else the students'). */
export function predictedUpperBounds(
  estimator: Pick<GpuEstimator, 'kind' | 'profile'>,
  p: Pick<PredictedFigures, 'ttftMs' | 'ttftP99Ms' | 'itlP99Ms' | 'worstAdapterTtftMs' | 'starvationProbability'>,
): UpperBounds {
  return upperBoundsOf(
    {
      ttftMeanMs: p.ttftMs,
      ttftP99Ms: p.ttftP99Ms,
      itlP99Ms: p.itlP99Ms,
      worstAdapterTtftMs: p.worstAdapterTtftMs,
      // as both estimators call a GPU starved
      starved: p.starvationProbability >= 0.5,
    },
    regimeFactorsOf(estimator.kind === 'twin' ? 'twin' : 'students', estimator.profile.model),
  );
}

import { z } from 'zod';
import { Warnings } from '../twin/index.js';
import { EstimatorKind, TwinEstimateCost } from './estimator.js';

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
} as const;

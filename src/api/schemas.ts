import { z } from 'zod';
import { PoolSourceBody } from '../observe/traffic-source.js';
import { PredictorMetrics } from '../ml/bundle.js';
import { Prediction } from '../ml/prediction.js';
import { Placement, Workload } from '../placement/index.js';
import { ProfileName, Scenario, SimulationResult, TensorParallelSize } from '../twin/index.js';

/**
 * The HTTP contract's named schemas (OpenAPI components). The domain schemas come from the core;
 * this file only gives them their public names and adds the HTTP-only shapes.
 */
export const ScenarioBody = Scenario.meta({
  id: 'Scenario',
  description: 'One GPU: engine settings, adapters, lengths, arrivals (docs/design.md, section Scenario)',
});
export const WorkloadBody = Workload.meta({
  id: 'Workload',
  description: 'Adapters of one base model and GPU type to place',
});
export const SimulationResultBody = SimulationResult.meta({ id: 'SimulationResult' });
export const PredictionBody = Prediction.meta({ id: 'Prediction' });
export const PlacementBody = Placement.meta({ id: 'Placement' });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string().describe('stable machine-readable code, e.g. LP_ERR_INVALID_INPUT'),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** The error statuses a route documents besides its success answer. */
export function errors(...statuses: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody]));
}

export const PoolName = z
  .string()
  .regex(
    /^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/,
    'lowercase letters, digits, ".", "_" and "-", 1 to 63 characters, starting and ending alphanumeric',
  );

export const ModelInfo = z
  .object({
    model: z.string(),
    gpu: z.string(),
    tensorParallelSize: z
      .number()
      .int()
      .optional()
      .describe("the profile's GPUs per server (vLLM --tensor-parallel-size); absent: 1"),
    version: z.string(),
    created: z.string(),
    trainingRows: z.number().int(),
    seed: z.number().int(),
    features: z.array(z.string()),
    metrics: z
      .object({ twinHoldout: PredictorMetrics, realRuns: PredictorMetrics.nullable() })
      .describe('student metrics'),
    loadedAt: z.string(),
  })
  .meta({ id: 'ModelInfo' });

export const RefreshRequest = z
  .object({
    model: ProfileName,
    gpu: ProfileName,
    tensorParallelSize: TensorParallelSize.optional(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional()
      .describe('sweep seed (default REFRESH_SEED)'),
    workloads: z
      .number()
      .int()
      .min(50)
      .max(1_000_000)
      .optional()
      .describe(
        'workloads simulated (default REFRESH_WORKLOADS; the service accepts at most REFRESH_MAX_WORKLOADS, ' +
          '20,000 unless configured)',
      ),
  })
  .strict()
  .meta({ id: 'RefreshRequest' });

export const RefreshJobBody = z
  .object({
    id: z.string(),
    model: z.string(),
    gpu: z.string(),
    tensorParallelSize: z
      .number()
      .int()
      .optional()
      .describe("the profile's GPUs per server (vLLM --tensor-parallel-size); absent: 1"),
    seed: z.number().int(),
    workloads: z.number().int(),
    state: z.enum(['running', 'replaced', 'kept', 'failed', 'cancelled']),
    trigger: z.enum(['request', 'schedule']),
    replica: z
      .string()
      .describe('the service replica running it (its host name and a random suffix, new at each start)'),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    durationS: z.number().nullable(),
    progress: z.object({
      sweepRowsDone: z.number().int(),
      sweepRowsTotal: z.number().int().nullable(),
      lastLog: z.string().nullable(),
    }),
    candidate: z.object({ version: z.string(), metrics: PredictorMetrics }).nullable(),
    current: z.object({ version: z.string(), metrics: PredictorMetrics.nullable() }).nullable(),
    decision: z.string().nullable(),
    persistedTo: z.string().nullable(),
    error: z.string().nullable(),
  })
  .meta({ id: 'RefreshJob' });

export const AutoscaleBody = z
  .object({
    pool: z.string(),
    desiredReplicas: z
      .number()
      .int()
      .describe('GPUs (servers) the plan needs: KEDA metrics-api valueLocation, targetValue "1"'),
    lowerBoundReplicas: z.number().int(),
    gpusPerReplica: z
      .number()
      .int()
      .optional()
      .describe('tensor parallelism only: GPUs each replica (one vLLM server) holds; absent: 1'),
    computedAt: z.string(),
    stale: z.boolean(),
    modelVersion: z.string(),
  })
  .meta({ id: 'Autoscale' });

export const PoolBody = z
  .object({
    pool: z.string(),
    updatedAt: z.string().describe('last PUT of the workload'),
    computedAt: z.string(),
    stale: z.boolean(),
    placement: Placement,
    source: PoolSourceBody.optional().describe('an observed pool: where its traffic comes from'),
    observation: z
      .object({
        attemptedAt: z.string(),
        succeededAt: z.string().nullable(),
        error: z
          .string()
          .nullable()
          .describe('why the last read failed; the last good plan stays, and goes stale after POOL_STALE_S'),
        adapters: z.number().int().describe('adapters with traffic (or decaying out)'),
        ignoredSeries: z.number().int().describe('series without a valid adapter label'),
        droppedSeries: z
          .object({ rate: z.number().int(), inputTokens: z.number().int(), outputTokens: z.number().int() })
          .optional()
          .describe(
            "the last successful read's series of planned adapters dropped, per query, their value outside what " +
              "a workload's adapter accepts (its rate's or token mean's limits); the rest of the read was planned",
          ),
        replanned: z.boolean().describe('false: the drift was within the hysteresis'),
      })
      .optional(),
  })
  .meta({ id: 'Pool' });

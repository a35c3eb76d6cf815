import { z } from 'zod';
import { SimulationResult, Warnings } from '../twin/index.js';
import { EstimatorKind, TwinEstimateCost } from '../ml/estimator.js';
import { Binding, OneFewer, TrafficTotals } from './explanation.js';

/** An upper bound of a predicted figure (ms); optional so that stored placements without it parse. */
const PredictedBound = z.number().nullable().optional();

export const GpuPlan = z.object({
  index: z.number().int().describe('0-based GPU number; routing refers to it'),
  gpu: z.string(),
  tensorParallelSize: z
    .number()
    .int()
    .optional()
    .describe('GPUs this server spans (vllmArgs carry --tensor-parallel-size); absent: 1, the entry is one GPU'),
  engine: z.object({
    maxLoras: z.number().int().describe('--max-loras'),
    maxCpuLoras: z.number().int().describe('--max-cpu-loras'),
    maxLoraRank: z.number().int().describe('--max-lora-rank'),
    maxNumBatchedTokens: z.number().int(),
    maxNumSeqs: z.number().int(),
    kvCacheTokens: z.number().int().describe('KV capacity the profile expects at these knobs'),
  }),
  adapters: z.array(
    z.object({ id: z.string(), rank: z.number().int(), rate: z.number().describe('req/s routed to this GPU') }),
  ),
  predicted: z.object({
    throughput: z.number().describe('tokens/s completed at the placed load'),
    idealThroughput: z.number().describe('tokens/s demanded by the placed load'),
    starvationProbability: z.number(),
    itlMs: z.number(),
    ttftMs: z.number(),
    ttftP99Ms: z.number(),
    itlP99Ms: z.number(),
    worstAdapterTtftMs: z.number().describe('largest mean TTFT of any of its adapters'),
    ttftP99UpperMs: PredictedBound.describe('calibrated upper bound of ttftP99Ms (docs/bounds.md)'),
    itlP99UpperMs: PredictedBound.describe('calibrated upper bound of itlP99Ms'),
    ttftMeanUpperMs: PredictedBound.describe('calibrated upper bound of ttftMs'),
    worstAdapterTtftUpperMs: PredictedBound.describe('upper bound of worstAdapterTtftMs (the mean-TTFT factor)'),
    headroom: z
      .number()
      .describe(
        'the headroom the placement asked of this GPU (options.headroom, more after a repair): the predictors ' +
          'accepted it at (1 + headroom) x its load; binding.headroom is what it has',
      ),
  }),
  meets: z
    .object({
      criterion: z.enum(['slo', 'throughput']),
      met: z.boolean(),
      basis: z
        .enum(['twin', 'predictors'])
        .describe('"twin": verified by simulating it; "predictors": predicted, not verified (verify: false)'),
      failures: z.array(z.string()).describe('what it misses, when it does'),
    })
    .describe("whether this GPU meets the placement's criterion"),
  verified: SimulationResult.optional().describe('Twin simulation of this GPU (verify: true)'),
  totals: TrafficTotals.optional().describe('the traffic routed to this GPU'),
  binding: Binding.optional(),
  vllmArgs: z.array(z.string()).describe('arguments for `vllm serve <model>`'),
});
export type GpuPlan = z.infer<typeof GpuPlan>;

export const RouteTarget = z.object({
  gpu: z.number().int(),
  weight: z.number().describe("share of the adapter's requests"),
});

const GpuAdapters = z.object({ gpu: z.number().int(), adapters: z.array(z.string()) });

export const PlacementMoves = z
  .object({
    added: z
      .array(GpuAdapters)
      .describe(
        'adapters loaded on a GPU that did not hold them (gpu: index in ' +
          'this placement); each is a cold adapter load and a routing change',
      ),
    removed: z
      .array(GpuAdapters)
      .describe(
        'adapters taken off a GPU of the current placement, departed ' +
          'ones included (gpu: index in the current placement)',
      ),
    gpuMap: z
      .array(z.object({ gpu: z.number().int(), previous: z.number().int().nullable() }))
      .describe(
        'each GPU of this placement and the GPU of the current placement it ' +
          'continues (null: a new GPU); current GPUs not listed were retired',
      ),
    count: z
      .number()
      .int()
      .describe(
        "adapter-GPU additions in total (a split adapter's new share on a GPU that already held it is not one)",
      ),
  })
  .describe('what a re-plan changed relative to the placement it started from');
export type PlacementMoves = z.infer<typeof PlacementMoves>;

export const Placement = z.object({
  model: z.string(),
  gpu: z.string(),
  objective: z.enum(['min-gpus', 'min-latency']),
  criterion: z.enum(['slo', 'throughput']).describe('what every GPU was placed to meet'),
  judgedOn: z
    .enum(['estimate', 'bound'])
    .optional()
    .describe(
      'what the latency targets were compared with, packing and verifying (options.judgeSloOn): the estimates, ' +
        'or their calibrated upper bounds (docs/bounds.md)',
    ),
  slo: z
    .object({
      ttftMs: z.number().optional(),
      itlMs: z.number().optional(),
      ttftP99Ms: z.number().optional(),
      itlP99Ms: z.number().optional(),
    })
    .nullable()
    .describe(
      "the latency targets applied (the workload's, or the default SLO); null under the research rule without targets",
    ),
  gpuCount: z
    .number()
    .int()
    .describe(
      'vLLM servers used (entries of `gpus`, replicas of the autoscaler): GPUs when each server has one; with ' +
        'tensor parallelism still servers, the GPUs being totalGpus',
    ),
  lowerBound: z
    .number()
    .int()
    .describe('no placement serves the workload sustainably on fewer GPUs (see bounds); servers, as gpuCount'),
  bounds: z.object({ throughput: z.number().int(), adapters: z.number().int() }),
  serverCount: z
    .number()
    .int()
    .optional()
    .describe('tensor parallelism only (absent when one GPU per server): vLLM servers used, = gpuCount'),
  gpusPerServer: z
    .number()
    .int()
    .optional()
    .describe('tensor parallelism only: GPUs each server spans (--tensor-parallel-size); absent: 1'),
  totalGpus: z
    .number()
    .int()
    .optional()
    .describe('tensor parallelism only: GPUs used, serverCount x gpusPerServer; absent: gpuCount'),
  lowerBoundGpus: z
    .number()
    .int()
    .optional()
    .describe('tensor parallelism only: lowerBound x gpusPerServer; absent: lowerBound'),
  gpus: z.array(GpuPlan),
  routing: z
    .array(z.object({ adapter: z.string(), targets: z.array(RouteTarget) }))
    .describe('adapter -> GPUs with request weights, for a gateway'),
  unplaced: z.array(z.object({ id: z.string(), rate: z.number().describe('req/s left unserved'), reason: z.string() })),
  totals: TrafficTotals.optional().describe("the traffic placed: the GPUs' totals summed (unplaced not included)"),
  oneFewer: OneFewer.optional(),
  verification: z
    .object({
      rounds: z.number().int().describe('simulate-and-repair rounds run'),
      simulatedGpus: z.number().int(),
      starvedGpus: z.number().int(),
      memoryErrorGpus: z.number().int(),
      starvedAdapters: z.number().int().describe('adapters below 90 % of their own demand on some GPU'),
      gpusMissingCriterion: z
        .number()
        .int()
        .describe('GPUs whose Twin run misses the criterion (SLO or research rule)'),
      budgetExhausted: z
        .boolean()
        .describe('the simulation budget (MAX_VERIFIED_REQUESTS) ran out, so repairs or the descent stopped early'),
    })
    .optional(),
  predictorEvaluations: z.number().int().describe('questions asked of the estimator (predictors or Twin)'),
  modelVersion: z.string(),
  estimator: EstimatorKind.optional().describe(
    'what judged each GPU while packing: "predictors" (the distilled trees) or "twin" (short Twin runs: the ' +
      'profile has no predictors yet; slower, see twinEstimate)',
  ),
  twinEstimate: TwinEstimateCost.optional(),
  elapsedMs: z.number(),
  moves: PlacementMoves.optional().describe(
    're-plans only: adapters added to and removed from each GPU relative to the current placement',
  ),
  warnings: Warnings.optional().describe(
    'where the workload, or a server of this answer (fields under gpus), leaves what the profile was measured on',
  ),
});
export type Placement = z.infer<typeof Placement>;

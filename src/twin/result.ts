import { z } from 'zod';
import { Warnings } from './warning.js';

export const LatencySummary = z
  .object({ mean: z.number(), p50: z.number(), p90: z.number(), p99: z.number() })
  .nullable()
  .describe('milliseconds; null when no request completed');

/** An upper bound of a latency figure (ms): every Twin run fills it; optional, so stored answers without it parse. */
const UpperBound = z.number().nullable().optional();

export const SimulationResult = z.object({
  throughput: z.object({
    input: z.number().describe('prompt tokens/s of completed requests'),
    output: z.number().describe('output tokens/s of completed requests'),
    total: z.number().describe('input + output tokens/s of completed requests'),
    requests: z.number().describe('completed requests/s'),
  }),
  idealThroughput: z.number().describe('tokens/s (input + output) of every request that arrived'),
  starved: z.boolean().describe('throughput < 0.9 x idealThroughput'),
  starvedAdapters: z.array(z.string()).describe('adapters whose completed tokens < 0.9 x their arrived tokens'),
  memoryError: z
    .string()
    .nullable()
    .describe('why vLLM would not start with these engine settings; null when it starts'),
  ttftMs: LatencySummary,
  itlMs: LatencySummary,
  tpotMs: LatencySummary,
  completedRequests: z.number().int(),
  arrivedRequests: z.number().int(),
  rejectedRequests: z.number().int().describe('arrivals refused by arrivals.maxInFlight or longer than max_model_len'),
  runningAtEnd: z.number().int(),
  waitingAtEnd: z.number().int(),
  preemptions: z.number().int(),
  adapterLoads: z.number().int().describe('CPU->GPU adapter activations'),
  diskLoads: z.number().int().describe('disk->CPU adapter loads'),
  steps: z.number().int(),
  meanRunning: z.number().describe('time-averaged running requests while the engine is busy'),
  meanAdaptersInBatch: z.number(),
  busyFraction: z.number(),
  engine: z.object({
    enableLora: z
      .boolean()
      .optional()
      .describe('present, and false, only for a server without --enable-lora (its slots, CPU adapters and rank are 0)'),
    maxLoras: z.number().int(),
    maxCpuLoras: z.number().int(),
    maxLoraRank: z.number().int(),
    maxNumBatchedTokens: z.number().int(),
    maxNumSeqs: z.number().int(),
    kvCacheTokens: z.number().int(),
  }),
  durationS: z.number(),
  adapters: z
    .array(
      z.object({
        id: z.string(),
        arrivedRequests: z.number().int(),
        completedRequests: z.number().int(),
        servedFraction: z.number().describe('completed tokens / arrived tokens of this adapter (1 when none arrived)'),
        ttftMs: LatencySummary,
        itlMs: LatencySummary.describe(
          "milliseconds, over this adapter's inter-token gaps (percentiles in 2 % buckets); null when none",
        ),
      }),
    )
    .optional()
    .describe('per adapter, in scenario order: only when the scenario asks report.perAdapter'),
  baseModel: z
    .object({
      arrivedRequests: z.number().int(),
      completedRequests: z.number().int(),
      servedFraction: z.number().describe('completed tokens / arrived tokens of the base model (1 when none arrived)'),
      starved: z.boolean().describe('completed tokens < 0.9 x arrived tokens, the per-adapter rule'),
      ttftMs: LatencySummary.optional().describe('only with report.perAdapter'),
      itlMs: LatencySummary.optional().describe('only with report.perAdapter'),
    })
    .optional()
    .describe('the requests naming no adapter: only when the scenario has baseModel (they count in every GPU figure)'),
  ttftP99UpperMs: UpperBound.describe(
    'calibrated upper bound of the p99 TTFT: ttftMs.p99 x the factor of its load regime (docs/bounds.md)',
  ),
  itlP99UpperMs: UpperBound.describe('calibrated upper bound of the p99 ITL (itlMs.p99 x factor)'),
  ttftMeanUpperMs: UpperBound.describe('calibrated upper bound of the mean TTFT (ttftMs.mean x factor)'),
  worstAdapterTtftUpperMs: UpperBound.describe(
    'upper bound of the largest mean TTFT of an adapter, with the mean-TTFT factor (only with report.perAdapter)',
  ),
  wallMs: z.number().describe('wall-clock time of the simulation (the only field that varies between identical runs)'),
  warnings: Warnings.optional().describe(
    'where the scenario leaves what the profile was measured on (answers of simulate; absent in verified GPUs)',
  ),
});
export type SimulationResult = z.infer<typeof SimulationResult>;

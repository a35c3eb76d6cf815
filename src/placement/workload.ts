import { z } from 'zod';
import { parseOrThrow } from '../shared/validate.js';
import {
  AdapterSpec,
  LengthInput,
  ProfileName,
  TensorParallelSize,
  VllmVersion,
  checkUniqueAdapterIds,
} from '../twin/index.js';

/**
 * Where vLLM loads an adapter from, as one `name=path` argv token: a local path, a URI or a hub id;
 * no blanks, quotes or shell characters, and no leading "-".
 */
export const AdapterPath = z
  .string()
  .regex(
    /^[A-Za-z0-9._/~:@+%=][A-Za-z0-9._/~:@+%=-]{0,1023}$/,
    'letters, digits and . _ / ~ : @ + % = -, not starting with "-", at most 1,024 characters',
  );

export const PlacementObjective = z.enum(['min-gpus', 'min-latency']);

export const PlacementOptions = z
  .object({
    headroom: z
      .number()
      .finite()
      .min(0)
      .max(2)
      .default(0.1)
      .describe('each GPU must keep up with (1 + headroom) x the traffic placed on it'),
    minServedFraction: z
      .number()
      .finite()
      .min(0.5)
      .max(1)
      .default(0.95)
      .describe('predicted completed / demanded tokens required at the headroom load'),
    maxStarvationProbability: z
      .number()
      .finite()
      .min(0)
      .max(1)
      .default(0.2)
      .describe('predicted starvation probability allowed at the headroom load'),
    maxAdaptersPerGpu: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1024)
      .describe('--max-cpu-loras cap (the predictors were trained up to 1,024 served adapters)'),
    improveWork: z
      .number()
      .int()
      .min(0)
      .max(1e9)
      .optional()
      .describe(
        'work the improvement phase may spend, in adapters summed over predictor evaluations ' +
          '(a deterministic budget; default: half of what the greedy spent, at least 20,000)',
      ),
    timeBudgetMs: z
      .number()
      .finite()
      .positive()
      .max(60_000)
      .optional()
      .describe('wall-clock cap on the improvement phase (answers then depend on machine speed)'),
    verifyDurationS: z
      .number()
      .finite()
      .positive()
      .max(86_400)
      .default(3600)
      .describe(
        'simulated seconds per GPU when verifying; the service accepts at most MAX_SIMULATED_SECONDS, ' +
          'and rates x verifyDurationS at most MAX_VERIFIED_REQUESTS (default 20,000,000)',
      ),
    verifySeed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(0),
    maxRepairRounds: z.number().int().min(0).max(20).default(4),
    descend: z
      .boolean()
      .default(true)
      .describe(
        'with verify: once the placement verifies, try one GPU fewer at a time with the traffic ' +
          're-spread by load, keeping the fewest count the Twin accepts at (1 + headroom) x the traffic',
      ),
    judgeSloOn: z
      .enum(['estimate', 'bound'])
      .default('estimate')
      .describe(
        'what the SLO is judged on, packing and verifying: "estimate" (the predicted or simulated p99s and ' +
          'means) or "bound" (their calibrated upper bounds, docs/bounds.md); the answer says which (judgedOn)',
      ),
    loraModulesRoot: AdapterPath.max(512)
      .default('/models/lora')
      .describe('--lora-modules path prefix for adapters without their own `path`'),
  })
  .strict();
export type PlacementOptions = z.output<typeof PlacementOptions>;

export const WorkloadAdapter = AdapterSpec.extend({
  path: AdapterPath.optional().describe('where vLLM loads the adapter from (--lora-modules name=path)'),
}).strict();
export type WorkloadAdapter = z.output<typeof WorkloadAdapter>;

export const Workload = z
  .object({
    model: ProfileName,
    gpu: ProfileName,
    tensorParallelSize: TensorParallelSize.optional(),
    vllmVersion: VllmVersion.optional(),
    adapters: z.array(WorkloadAdapter).min(1).max(100_000),
    inputTokens: LengthInput.optional().describe(
      'default prompt lengths for adapters without their own; a bare number is the mean',
    ),
    outputTokens: LengthInput.optional().describe('default output lengths; a bare number is the mean'),
    engine: z
      .object({
        maxNumBatchedTokens: z.number().int().min(1).max(1_000_000).optional(),
        maxNumSeqs: z.number().int().min(1).max(100_000).optional(),
      })
      .strict()
      .optional()
      .describe("engine settings every GPU runs with (default: the profile's, i.e. vLLM's)"),
    maxGpus: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe(
        'GPUs available (default and largest value accepted: MAX_GPUS, ' +
          '1,024 unless configured); what does not fit is reported in `unplaced`. With tensorParallelSize N > 1 ' +
          'it counts servers of N GPUs each, as gpuCount and the Placement do',
      ),
    gpuCount: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .optional()
      .describe(
        'min-latency: GPUs to spread over (default maxGpus, else the min-gpus count); at most MAX_GPUS; ' +
          'servers of tensorParallelSize GPUs each when that is above 1',
      ),
    objective: PlacementObjective.default('min-gpus'),
    slo: z
      .object({
        itlMs: z
          .number()
          .finite()
          .positive()
          .optional()
          .describe('predicted mean inter-token latency must not exceed this'),
        ttftMs: z
          .number()
          .finite()
          .positive()
          .optional()
          .describe('predicted mean time to first token must not exceed this'),
        ttftP99Ms: z
          .number()
          .finite()
          .positive()
          .optional()
          .describe("each GPU's p99 time to first token, and every adapter's mean TTFT, must not exceed this"),
        itlP99Ms: z
          .number()
          .finite()
          .positive()
          .optional()
          .describe("each GPU's p99 inter-token latency must not exceed this"),
      })
      .strict()
      .optional()
      .describe(
        'latency targets; without it a placement meets the default SLO ' +
          '(p99 TTFT 2,000 ms, p99 ITL 200 ms) unless criterion is "throughput"',
      ),
    criterion: z
      .enum(['slo', 'throughput'])
      .default('slo')
      .describe(
        '"slo": every GPU meets the latency targets with no adapter starved; "throughput": ' +
          'the research rule (each GPU completes 90 % of its traffic; slo means still apply)',
      ),
    verify: z
      .boolean()
      .default(false)
      .describe('simulate every GPU with the Twin, repair failing ones, attach the results'),
    options: PlacementOptions.default(PlacementOptions.parse({})),
  })
  .strict()
  .superRefine((w, ctx) => {
    checkUniqueAdapterIds(w.adapters, ctx);
    const e = w.engine;
    if (e?.maxNumSeqs !== undefined && e.maxNumBatchedTokens !== undefined && e.maxNumSeqs > e.maxNumBatchedTokens) {
      ctx.addIssue({
        code: 'custom',
        path: ['engine', 'maxNumSeqs'],
        message: `must be <= engine.maxNumBatchedTokens (${e.maxNumBatchedTokens}), as vLLM requires`,
      });
    }
    if (w.gpuCount !== undefined && w.maxGpus !== undefined && w.gpuCount > w.maxGpus) {
      ctx.addIssue({ code: 'custom', path: ['gpuCount'], message: `must be <= maxGpus (${w.maxGpus})` });
    }
  });
export type Workload = z.input<typeof Workload>;
export type ParsedWorkload = z.output<typeof Workload>;

export function parseWorkload(input: unknown): ParsedWorkload {
  return parseOrThrow(Workload, input, 'workload');
}

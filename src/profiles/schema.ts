import { z } from 'zod';
import { MeasuredEnvelope } from './measured-envelope.js';

/** How well a group of fitted constants reproduces the measurements it was fitted on. */
export const FitReport = z.object({
  source: z.array(z.string().min(1)).min(1).describe('measurement files the constants were fitted on'),
  rows: z.number().int().nonnegative(),
  rmsError: z.number().nonnegative().describe('root-mean-square residual, in `unit`'),
  rmsRelativeError: z.number().nonnegative().optional().describe('root-mean-square of residual / measured'),
  unit: z.string(),
  note: z.string().optional(),
});
export type FitReport = z.infer<typeof FitReport>;

const Finite = z.number().finite();
const PositiveInt = z.number().int().positive();

export const KvRankCurve = z.object({
  rank: PositiveInt,
  points: z
    .array(z.object({ slots: PositiveInt, tokens: z.number().int().nonnegative() }))
    .min(1)
    .describe('measured KV capacity (tokens) at maxLoras = slots, ascending'),
  tokensPerSlot: z.number().positive().describe('least-squares KV tokens lost per added slot at this rank'),
  failures: z
    .array(z.object({ slots: PositiveInt, status: z.string() }))
    .describe('measured start-up failures at this rank (memory errors)'),
});
export type KvRankCurve = z.infer<typeof KvRankCurve>;

export const KvCapacity = z.object({
  ranks: z.array(KvRankCurve).min(1),
  fit: FitReport,
  // added with Scenarios without LoRA (issue 23); optional, so the calibrated profiles parse to the same object
  withoutLora: z
    .object({
      tokens: z.number().int().nonnegative(),
      source: z.string().describe('how the number was obtained (measured, or from memory arithmetic)'),
    })
    .optional()
    .describe(
      'KV capacity of a server started without --enable-lora; absent: the lowest rank curve extrapolated to 0 slots',
    ),
});

/** Forward-pass time of one engine step, in ms (see src/twin/step-time.ts for the formula). */
export const ForwardModel = z.object({
  base: z.object({
    constantMs: Finite,
    perDecodeMs: Finite.describe('per decoding request in the step'),
    perContextKiloTokenMs: Finite.describe('per 1000 tokens of KV context read by the decoding requests'),
    perPrefillTokenMs: Finite.describe('per prompt token computed in the step'),
    fit: FitReport,
  }),
  lora: z.object({
    enabledMs: Finite.describe('fixed cost of a LoRA-enabled engine, no adapter active'),
    firstAdapterMs: Finite.describe('extra fixed cost once at least one adapter is in the batch'),
    perSlotMs: Finite.describe('per --max-loras slot'),
    perSlotDecodeMs: Finite.describe('per slot and decoding request'),
    perSlotPrefillTokenMs: Finite.describe('per slot and prefill token'),
    perAdapterMs: Finite.describe('per distinct adapter in the batch'),
    rankTileFactor: Finite.describe(
      'slot terms grow by this fraction for every 16 ranks of --max-lora-rank beyond the first 16',
    ),
    fit: FitReport,
  }),
});
export type ForwardModel = z.infer<typeof ForwardModel>;

export const AdapterLoadModel = z.object({
  gpuFromCpu: z
    .array(z.object({ maxRank: PositiveInt, rank: PositiveInt, ms: z.number().nonnegative() }))
    .min(1)
    .describe('CPU->GPU activation time of one adapter, by (--max-lora-rank, adapter rank)'),
  gpuFromCpuFit: FitReport,
  diskToCpuMsPerRank: z
    .number()
    .nonnegative()
    .describe('disk->CPU load time per unit of adapter rank (file size grows with rank)'),
  diskFit: FitReport,
});
export type AdapterLoadModel = z.infer<typeof AdapterLoadModel>;

/**
 * Scheduler CPU time per step: constant + per running + per waiting + per waiting request skipped for the slot limit.
 */
export const SchedulerModel = z.object({
  constantMs: Finite,
  perRunningMs: Finite,
  perWaitingMs: Finite,
  perSkippedMs: Finite,
  fit: FitReport,
});
export type SchedulerModel = z.infer<typeof SchedulerModel>;

/**
 * Where a profile's numbers come from: `calibrated` from real serving runs and their measurement tables;
 * `kernels` built from a model's architecture and a GPU's measured kernel tables; `roofline` built from the
 * architecture and the GPU's peak numbers with efficiencies fitted on measured GPUs; `refitted` a built or
 * calibrated profile whose few constants were fitted again to a user's own benchmarks.
 */
export const ProfileSource = z.object({
  kind: z.enum(['calibrated', 'kernels', 'roofline', 'refitted']),
  measuredOn: z.string().describe('hardware and software the numbers were measured on'),
  data: z.array(z.string()).describe('the files or tables the numbers come from'),
  notes: z.array(z.string()).optional(),
});
export type ProfileSource = z.infer<typeof ProfileSource>;

export const Profile = z.object({
  schemaVersion: z.literal(1),
  model: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  gpu: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  description: z.string(),
  vllmVersion: z.string(),
  maxModelLen: PositiveInt.describe('vLLM refuses to start when the KV cache holds fewer tokens'),
  blockSize: PositiveInt,
  engineDefaults: z.object({ maxNumBatchedTokens: PositiveInt, maxNumSeqs: PositiveInt }),
  kvCapacity: KvCapacity,
  forward: ForwardModel,
  adapterLoad: AdapterLoadModel,
  scheduler: SchedulerModel,
  frontend: z.object({
    ttftOverheadMs: z
      .number()
      .nonnegative()
      .describe('API server and client time added to every TTFT (tokenize, queue to engine, stream)'),
    fit: FitReport,
    metricsRender: z
      .object({
        baseMs: z.number().nonnegative(),
        perLabelSetMs: z.number().nonnegative(),
        perListedAdapterMs: z.number().nonnegative(),
        maxMs: z.number().positive(),
        source: z.string(),
      })
      .optional()
      .describe(
        'time the API server spends rendering /metrics, during which it streams nothing: a base plus a cost per ' +
          "distinct vllm:lora_requests_info label set recorded (docs/twin-tails.md); absent: the research host's",
      ),
    firstRequestOfAdapter: z
      .object({
        ms: z.number().nonnegative().max(60_000),
        source: z.string(),
      })
      .optional()
      .describe(
        "time an adapter's first request waits at the API server for the adapter's tokenizer lookup (vLLM <= 0.9, " +
          'kept for max(max_loras, max_num_seqs) adapters; docs/twin-tails.md); absent: none',
      ),
  }),
  pauses: z
    .object({
      perStepProbability: z.number().min(0).max(1),
      perHeldAdapterMs: z.number().nonnegative(),
      maxMs: z.number().positive(),
      source: z.string(),
    })
    .optional()
    .describe('rare stalls of the engine process that grow with the adapters held (docs/twin-tails.md); absent: none'),
  calibration: z.object({
    tool: z.string(),
    notes: z.array(z.string()),
  }),
  // The fields below were added with built profiles (issue 23); all optional, so that the calibrated profiles
  // parse to the same object (their sha256 is in the predictors' metadata).
  source: ProfileSource.optional().describe('where the numbers come from; absent: calibrated from real runs'),
  tensorParallelSize: PositiveInt.optional().describe('GPUs one server spans (vLLM --tensor-parallel-size); absent: 1'),
  hfModelId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/)
    .optional()
    .describe('the Hugging Face id vLLM serves (e.g. meta-llama/Llama-3.1-8B-Instruct); absent: from the catalog'),
  // added with warnings (issue 24); optional for the same reason as the fields above
  measuredEnvelope: MeasuredEnvelope.optional().describe(
    'what the constants were measured on (ranks, slots, lengths, engine settings, rates, arrivals); absent: ' +
      'the calibration tables for a calibrated profile, none for a built one (measuredEnvelopeOf)',
  ),
});
export type Profile = z.infer<typeof Profile>;

/** Where `profile`'s numbers come from (a profile without `source` was calibrated from real runs). */
export function sourceOf(profile: Profile): ProfileSource {
  return (
    profile.source ?? {
      kind: 'calibrated',
      measuredOn: `${profile.gpu}, vLLM ${profile.vllmVersion}`,
      data: [...new Set(calibrationFits(profile).flatMap((f) => f.source))],
    }
  );
}

/** GPUs one server of this profile spans. */
export function tensorParallelSizeOf(profile: Pick<Profile, 'tensorParallelSize'>): number {
  return profile.tensorParallelSize ?? 1;
}

function calibrationFits(p: Profile): FitReport[] {
  return [
    p.kvCapacity.fit,
    p.forward.base.fit,
    p.forward.lora.fit,
    p.adapterLoad.gpuFromCpuFit,
    p.adapterLoad.diskFit,
    p.scheduler.fit,
    p.frontend.fit,
  ];
}

/**
 * The name of a profile, and of its predictors' folder (`models/predictors/<key>/`): `model@gpu` for one GPU per
 * server, `model@gpu-tpN` for N > 1 (two profiles may share model and GPU and differ in tensor parallelism).
 */
export function profileKey(model: string, gpu: string, tensorParallelSize = 1): string {
  return tensorParallelSize === 1 ? `${model}@${gpu}` : `${model}@${gpu}-tp${tensorParallelSize}`;
}

/** The key of `profile` (see profileKey). */
export function keyOf(profile: Pick<Profile, 'model' | 'gpu' | 'tensorParallelSize'>): string {
  return profileKey(profile.model, profile.gpu, tensorParallelSizeOf(profile));
}

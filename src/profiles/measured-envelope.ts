import { z } from 'zod';
// type only: schema.ts imports this module's schema, so a value import back would be a cycle at load time
import type { Profile } from './schema.js';

const PositiveInt = z.number().int().positive();
const Range = z
  .object({ min: z.number().nonnegative(), max: z.number().positive() })
  .describe('smallest and largest value measured');

/**
 * What a profile's constants were measured on: inputs inside it are interpolation, inputs outside it are
 * extrapolation, and every answer computed from the profile says so in `warnings` (docs/design.md, Warnings).
 */
export const MeasuredEnvelope = z
  .object({
    ranks: z.array(PositiveInt).min(1).describe('adapter ranks and --max-lora-rank values of the measured runs'),
    maxLoras: PositiveInt.describe('largest --max-loras (adapter slots) of the measured runs'),
    maxCpuLoras: PositiveInt.describe('largest --max-cpu-loras of the measured runs'),
    adaptersPerServer: z.number().int().positive().describe('most adapters one measured server received traffic for'),
    maxNumBatchedTokens: z.array(PositiveInt).min(1).describe('--max-num-batched-tokens values of the measured runs'),
    maxNumSeqs: Range.describe('--max-num-seqs of the measured runs'),
    inputTokensMean: Range.describe('mean prompt tokens per request of the measured runs'),
    outputTokensMean: Range.describe('mean output tokens per request of the measured runs'),
    adapterRate: z.number().positive().describe('largest requests/s of one adapter in the measured runs'),
    arrivalProcesses: z
      .array(z.enum(['poisson', 'gamma', 'regime', 'trace']))
      .min(1)
      .describe('arrival processes of the measured runs'),
    source: z.array(z.string().min(1)).min(1).describe('the measurement files the ranges were read from'),
  })
  .strict();
export type MeasuredEnvelope = z.infer<typeof MeasuredEnvelope>;

/**
 * The envelope of the vLLM-LoRA calibration tables (../shared/data/vllm-lora, H100 64 GB, vLLM 0.8.5 fork) that
 * `calibrate --data` fits the calibrated profiles on. A constant, not a field of those profiles: their files are
 * hashed into the predictors' metadata, which an added field would change.
 */
export const calibrationTablesEnvelope: MeasuredEnvelope = {
  // mem_max_table.csv (max_lora_rank 8/16/32), lat_load_loading_runs.csv, ml_test_shared_real_runs.csv
  // (srv_dummy_lora_ranks cycles 8/16/32)
  ranks: [8, 16, 32],
  // mem_max_table.csv and ml_test_shared_real_runs.csv: max_loras up to 384
  maxLoras: 384,
  // ml_test_shared_real_runs.csv: srv_max_cpu_loras 16-384 (lat_load_loading_runs.csv: 50)
  maxCpuLoras: 384,
  // ml_test_shared_real_runs.csv: feat_served_adapters at most 384
  adaptersPerServer: 384,
  // every table: max_num_batched_tokens 2048
  maxNumBatchedTokens: [2048],
  // lat_model_base_latency_runs.csv: srv_max_num_seqs 50-2048 (the serving runs: 2048)
  maxNumSeqs: { min: 50, max: 2048 },
  // synthetic prompts of 1-200 tokens (lat_model_*_runs.csv); ShareGPT runs: 210-226 tokens per completed request
  // (ml_test_shared_real_runs.csv, log_total_input_tokens / log_completed)
  inputTokensMean: { min: 1, max: 226.1 },
  // synthetic outputs of 1-400 tokens (lat_model_*_runs.csv); ShareGPT runs: 187-199
  outputTokensMean: { min: 1, max: 400 },
  // ml_test_shared_real_runs.csv: arg_adapter_rates 0.003125-3.2 req/s per adapter
  adapterRate: 3.2,
  // arg_adapter_rates are per-adapter Poisson rates (README of the data)
  arrivalProcesses: ['poisson'],
  source: [
    'vllm-lora/mem_max_table.csv',
    'vllm-lora/lat_model_base_latency_runs.csv',
    'vllm-lora/lat_model_lora_overhead_runs.csv',
    'vllm-lora/lat_load_loading_runs.csv',
    'vllm-lora/ml_test_shared_real_runs.csv',
  ],
};

/**
 * What `profile` was measured on: its own `measuredEnvelope`, else for a profile calibrated from real runs (no
 * `source`, or `source.kind` calibrated) the calibration tables' envelope; null for a profile built from kernel
 * tables or a roofline, or refitted without saying on what (their answers carry a warning instead).
 */
export function measuredEnvelopeOf(profile: Pick<Profile, 'measuredEnvelope' | 'source'>): MeasuredEnvelope | null {
  if (profile.measuredEnvelope) return profile.measuredEnvelope;
  const kind = profile.source?.kind ?? 'calibrated';
  return kind === 'calibrated' ? calibrationTablesEnvelope : null;
}

import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { parseOrThrow } from '../../shared/validate.js';
import { enginePauses } from '../calibration/engine-pauses.js';
import { Profile } from '../schema.js';
import { baseStep, cpuOverhead, gpuStepModel, overlappedStep, type OverheadDonor } from './base-step.js';
import type { GpuSpec } from './gpu-catalog.js';
import type { KernelCosts } from './kernel-costs.js';
import { kvCurves } from './kv-curves.js';
import type { MemorySettings } from './kv-memory.js';
import { carriedLoraTerms, smallGemmRatio } from './lora-terms.js';
import { operatingGrid } from './step-model.js';
import type { ModelArchitecture } from './model-architecture.js';
import { engineDefaults, vllmVersionTraits } from './vllm-version.js';

const GiB = 2 ** 30;

/** What `profile build` is asked for (the CLI's options; the service's body). */
export const BuildOptions = z.object({
  tp: z.number().int().min(1).max(64).default(1),
  vllmVersion: z
    .string()
    .regex(/^\d+\.\d+(\.\d+)?([.+-][A-Za-z0-9.+-]*)?$/)
    .default('0.24.0'),
  dtype: z.enum(['bf16', 'fp8']).default('bf16'),
  kvCacheDtype: z.enum(['auto', 'fp8']).default('auto'),
  gpuMemoryUtilization: z.number().gt(0).max(1).default(0.9),
  maxModelLen: z.number().int().positive().optional(),
  maxNumBatchedTokens: z.number().int().positive().optional(),
  maxNumSeqs: z.number().int().positive().optional(),
});
export type BuildOptions = z.input<typeof BuildOptions>;

/**
 * Non-torch memory vLLM 0.8 charges (CUDA context, cuBLAS and other workspaces): on the research cluster's
 * H100 64 GB a vLLM server held 24.89 GiB after loading 24.28 GiB of weights (0.61 GiB outside them) and its
 * profile run grew non-torch memory by 0.10 GiB ("Memory profiling results" line of the server logs of
 * FerranAgulloLopez/vLLMBatchingMemoryGap, llama-2-13b); TP adds NCCL buffers (aiconfigurator misc.nccl_mem).
 */
export const nonTorchBytes = (tp: number): number => 0.71 * GiB + (tp === 1 ? 0 : tp === 2 ? 358612992 : 411041792);

/** Everything the builder reads, already loaded (the CLI reads files; the library reads nothing). */
export interface BuildInputs {
  model: ModelArchitecture;
  gpu: GpuSpec;
  /** kernel costs on the target GPU (tables, or the roofline) */
  costs: KernelCosts;
  kind: 'kernels' | 'roofline';
  /** the files the costs were read from (empty for the roofline) */
  data: string[];
  /** the version the kernel tables were measured with, when it is not the one asked for */
  tableVersion?: string;
  /** the calibrated profile LoRA, scheduler, loading, frontend and pause terms are carried from, its model and card */
  carried: { profile: Profile; model: ModelArchitecture; costs: KernelCosts };
  /** calibrated profiles of other models the CPU overhead is taken from */
  overheadDonors: OverheadDonor[];
}

/** A profile of `inputs.model` on `inputs.gpu` from its architecture, memory arithmetic and kernel costs. */
export function buildProfile(options: BuildOptions, inputs: BuildInputs): Profile {
  const o = parseOrThrow(BuildOptions, options, 'profile build options');
  const { model: m, gpu } = inputs;
  const maxModelLen = o.maxModelLen ?? m.maxPositions;
  if (maxModelLen > m.maxPositions)
    throw new AppError('invalidInput', `maxModelLen: ${maxModelLen} exceeds ${m.name}'s ${m.maxPositions} positions`);
  if (m.heads % o.tp !== 0)
    throw new AppError('invalidInput', `tp: ${m.heads} attention heads of ${m.name} do not split over ${o.tp} GPUs`);
  const defaults = engineDefaults(o.vllmVersion, gpu.memoryBytes, gpu.name);
  const maxNumBatchedTokens = o.maxNumBatchedTokens ?? defaults.maxNumBatchedTokens;
  const maxNumSeqs = o.maxNumSeqs ?? defaults.maxNumSeqs;
  const traits = vllmVersionTraits(o.vllmVersion);
  const memory: MemorySettings = {
    gpuMemoryBytes: gpu.memoryBytes,
    gpuMemoryUtilization: o.gpuMemoryUtilization,
    tensorParallelSize: o.tp,
    maxNumBatchedTokens,
    maxNumSeqs,
    maxModelLen,
    kvCacheDtype: o.kvCacheDtype,
    blockSize: 16,
    nonTorchBytes: nonTorchBytes(o.tp),
    ...(o.dtype === 'fp8' ? { linearWeightBytes: 1 } : {}),
  };
  const ranks = kvCurves(m, memory, traits);
  const bf16Step = gpuStepModel(m, o.tp, inputs.costs, maxNumBatchedTokens, maxNumSeqs);
  // fp8 weights halve the GEMMs' bytes and double their peak FLOPS: the weight-bound terms take half the time
  const gpuStep =
    o.dtype === 'fp8'
      ? {
          ...bf16Step,
          constantMs: bf16Step.constantMs / 2,
          perDecodeMs: bf16Step.perDecodeMs / 2,
          perPrefillTokenMs: bf16Step.perPrefillTokenMs / 2,
        }
      : bf16Step;
  const cpu = cpuOverhead(inputs.overheadDonors);
  const step = traits.asyncScheduling
    ? overlappedStep(gpuStep, cpu, operatingGrid(maxNumBatchedTokens, maxNumSeqs))
    : gpuStep;
  const carried = inputs.carried;
  const ratio = smallGemmRatio(inputs.costs, carried.costs, m.hidden);
  const carriedFrom = `${carried.profile.model}@${carried.profile.gpu}`;
  const notes = [
    `KV capacity: vLLM ${o.vllmVersion} memory arithmetic (src/profiles/build/kv-memory.ts) with ` +
      `gpu_memory_utilization ${o.gpuMemoryUtilization}, max_num_seqs ${maxNumSeqs}, ` +
      `max_num_batched_tokens ${maxNumBatchedTokens}, ${gpu.memoryBytes / GiB} GiB total`,
    `forward.base: ${inputs.costs.origin}; ${cpu.note}`,
    `forward.lora, scheduler, adapterLoad, frontend, pauses: carried over from the calibrated ${carriedFrom}`,
    ...(inputs.tableVersion && inputs.tableVersion !== o.vllmVersion
      ? [`no kernel tables of vLLM ${o.vllmVersion} for ${gpu.name}: the nearest, ${inputs.tableVersion}, were used`]
      : []),
    ...(o.dtype === 'fp8' ? ['fp8 weights: GEMMs priced on the bf16 tables at half their time'] : []),
    ...(traits.chargesCudaGraphs
      ? [
          `vLLM ${o.vllmVersion} charges its CUDA graph estimate to the KV budget ` +
            '(VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS=1 by default); the builder does not model it: KV capacity high',
        ]
      : []),
    ...gpu.sources,
  ];
  const profile = {
    schemaVersion: 1,
    model: m.name,
    // the card itself: the key (and file name) carry the size, model@gpu-tpN (profileKey)
    gpu: gpu.name,
    description: `${m.name} on ${gpu.description}${o.tp > 1 ? `, TP ${o.tp}` : ''}, built from ${
      inputs.kind === 'kernels' ? 'kernel tables' : 'a roofline'
    } (lora-placer profile build); not calibrated on real runs of this model and GPU`,
    vllmVersion: o.vllmVersion,
    maxModelLen,
    blockSize: 16,
    engineDefaults: { maxNumBatchedTokens, maxNumSeqs },
    kvCapacity: {
      ranks,
      fit: {
        source: ['vLLM memory arithmetic (no measurement)'],
        rows: ranks.length * ranks[0]!.points.length,
        rmsError: 0,
        unit: 'KV tokens',
        note:
          'computed, not fitted: budget minus the allocator segments of runner buffers, weights / TP and LoRA slot ' +
          'buffers, the profile run peak and non-torch memory; memory error when KV < maxModelLen',
      },
    },
    forward: {
      base: baseStep(step, cpu, inputs.costs.origin, traits.asyncScheduling),
      lora: carriedLoraTerms(carried.profile, carried.model, m, ratio, o.tp),
    },
    adapterLoad: carried.profile.adapterLoad,
    scheduler: carried.profile.scheduler,
    frontend: carriedFrontend(carried.profile.frontend, traits.looksUpLoraTokenizers),
    // The research host's engine-pause term, which the calibrated profiles no longer carry (their first-request
    // lookups and /metrics scrapes explain those tails: docs/twin-tails.md). Built profiles keep it: no real run of a
    // stock vLLM >= 0.11 says what its tails are, and their predictors were trained with it. Revisit with such runs.
    pauses: enginePauses,
    calibration: { tool: 'lora-placer profile build', notes },
    source: {
      kind: inputs.kind,
      measuredOn: `${gpu.description}; ${inputs.costs.origin}`,
      data: inputs.data,
      notes,
    },
    tensorParallelSize: o.tp,
    hfModelId: m.hfModelId,
  };
  return parseOrThrow(Profile, profile, 'built profile');
}

/** The calibrated profile's frontend, without the first-request tokenizer lookup where the built version has none. */
function carriedFrontend(frontend: Profile['frontend'], looksUpLoraTokenizers: boolean): Profile['frontend'] {
  if (looksUpLoraTokenizers) return frontend;
  const { firstRequestOfAdapter: _dropped, ...rest } = frontend;
  return rest;
}

import type { ForwardModel, Profile } from '../schema.js';
import type { KernelCosts } from './kernel-costs.js';
import type { ModelArchitecture } from './model-architecture.js';
import { fitLinearStep, operatingGrid, stepGpuMs, type LinearStepModel, type StepPoint } from './step-model.js';

/** A calibrated profile of another model, with its architecture and the kernel costs of the card it ran on. */
export interface OverheadDonor {
  profile: Profile;
  model: ModelArchitecture;
  costs: KernelCosts;
}

/** The GPU-side linear step model of `m` from kernel costs, fitted on the operating grid. */
export function gpuStepModel(
  m: ModelArchitecture,
  tp: number,
  costs: KernelCosts,
  maxNumBatchedTokens: number,
  maxNumSeqs: number,
): LinearStepModel {
  const grid = operatingGrid(maxNumBatchedTokens, maxNumSeqs);
  return fitLinearStep(
    grid,
    grid.map((p) => stepGpuMs(m, tp, costs, p)),
  );
}

/**
 * The CPU side of a step that kernels do not show (vLLM's Python work per step and per running request: input
 * preparation, sampling bookkeeping, output processing), taken from calibrated profiles of OTHER models: what
 * their calibrated constant and per-decode cost exceed their own kernel-derived step model by. A property of
 * the vLLM version and the host, not of the model; averaged over the donors.
 */
export function cpuOverhead(donors: OverheadDonor[]): { constantMs: number; perDecodeMs: number; note: string } {
  if (donors.length === 0) return { constantMs: 0, perDecodeMs: 0, note: 'no calibrated profile to take it from: 0' };
  let constantMs = 0;
  let perDecodeMs = 0;
  const parts: string[] = [];
  for (const d of donors) {
    const gpu = gpuStepModel(d.model, 1, d.costs, 2048, 2048);
    const c = d.profile.forward.base.constantMs - gpu.constantMs;
    const p = d.profile.forward.base.perDecodeMs - gpu.perDecodeMs;
    constantMs += c / donors.length;
    perDecodeMs += p / donors.length;
    parts.push(`${d.profile.model}@${d.profile.gpu}: ${c.toFixed(3)} ms + ${p.toFixed(5)} ms/decode`);
  }
  return {
    constantMs,
    perDecodeMs,
    note: `CPU overhead from calibrated profiles of other models (${parts.join('; ')})`,
  };
}

export type CpuOverhead = ReturnType<typeof cpuOverhead>;

/**
 * The step when the engine overlaps its CPU work with the GPU (asynchronous scheduling, vllm-version.ts): at
 * each operating point the longer of the GPU step and the CPU overhead, refitted in the Twin's linear form. With
 * a GPU step longer than the CPU's everywhere this is the GPU step alone.
 */
export function overlappedStep(gpu: LinearStepModel, cpu: CpuOverhead, grid: StepPoint[]): LinearStepModel {
  const gpuMs = (p: StepPoint) =>
    gpu.constantMs +
    gpu.perDecodeMs * p.decodes +
    (gpu.perContextKiloTokenMs * p.contextTokens) / 1000 +
    gpu.perPrefillTokenMs * p.prefillTokens;
  const fit = fitLinearStep(
    grid,
    grid.map((p) => Math.max(gpuMs(p), cpu.constantMs + cpu.perDecodeMs * p.decodes)),
  );
  // the residual reported is the GPU fit's: the overlap refit adds the kink of max(), which is small
  return { ...fit, rows: gpu.rows, rmsError: gpu.rmsError, rmsRelativeError: gpu.rmsRelativeError };
}

/**
 * forward.base: the kernel-derived GPU step plus the CPU overhead (or, with `overlapped`, the step already
 * refitted by `overlappedStep`, which holds the CPU part), with the fit residual of the linear form.
 */
export function baseStep(
  gpu: LinearStepModel,
  cpu: CpuOverhead,
  origin: string,
  overlapped = false,
): ForwardModel['base'] {
  const cpuPart = overlapped ? { constantMs: 0, perDecodeMs: 0 } : cpu;
  const cpuNote = overlapped
    ? `${cpu.note}, overlapped with the GPU step (asynchronous scheduling): each point of the grid costs the ` +
      'longer of the two'
    : cpu.note;
  return {
    constantMs: gpu.constantMs + cpuPart.constantMs,
    perDecodeMs: gpu.perDecodeMs + cpuPart.perDecodeMs,
    perContextKiloTokenMs: gpu.perContextKiloTokenMs,
    perPrefillTokenMs: gpu.perPrefillTokenMs,
    fit: {
      source: [origin],
      rows: gpu.rows,
      rmsError: gpu.rmsError,
      rmsRelativeError: gpu.rmsRelativeError,
      unit: 'ms per step',
      note:
        `linear form fitted to kernel-summed GPU step times on ${gpu.rows} operating points (decode batches ` +
        `1-1024, mean KV 128-4096, prefill chunks up to the token budget); residual is of that fit. ${cpuNote}`,
    },
  };
}

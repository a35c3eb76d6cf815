import type { ParsedScenario } from '../twin/index.js';
import type { PlacementContext } from './context.js';
import type { GpuBin, GpuVerdict } from './gpu-bin.js';
import { gpuScenario } from './verify.js';
import type { ParsedWorkload } from './workload.js';

/** The Twin scenario of a GPU as it would run with `verdict`'s knobs (the GPU itself is left as it was). */
export function scenarioWithKnobs(
  ctx: PlacementContext,
  workload: ParsedWorkload,
  bin: GpuBin,
  verdict: GpuVerdict,
): ParsedScenario {
  const kept = bin.verdict;
  bin.verdict = verdict;
  const scenario = gpuScenario(ctx, workload, bin);
  bin.verdict = kept;
  return scenario;
}

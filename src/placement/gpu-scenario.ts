import type { ParsedScenario } from '../twin/index.js';
import type { PlacementContext } from './context.js';
import type { GpuBin } from './gpu-bin.js';
import type { ParsedWorkload } from './workload.js';

export type GpuEngine = ParsedScenario['engine'];

/** The engine knobs of a packed GPU (its verdict's slots, rank and KV capacity; LoRA on, the default). */
export function binEngine(ctx: PlacementContext, bin: GpuBin): Required<Omit<GpuEngine, 'enableLora'>> {
  const v = bin.verdict!;
  return {
    maxLoras: v.slots,
    maxCpuLoras: bin.count,
    maxLoraRank: v.maxLoraRank,
    maxNumBatchedTokens: ctx.maxNumBatchedTokens,
    maxNumSeqs: ctx.maxNumSeqs,
    kvCacheTokens: v.kvCacheTokens,
  };
}

/**
 * The Twin scenario of one GPU of any placement (ours or a baseline's): the workload's adapters at the
 * rates routed to this GPU, their lengths, the GPU's knobs, and the verification protocol's duration and seed.
 */
export function gpuScenarioOf(
  workload: ParsedWorkload,
  engine: GpuEngine,
  placed: { adapter: number; rate: number }[],
): ParsedScenario {
  return {
    model: workload.model,
    gpu: workload.gpu,
    ...(workload.tensorParallelSize !== undefined ? { tensorParallelSize: workload.tensorParallelSize } : {}),
    engine,
    adapters: placed.map((p) => {
      const a = workload.adapters[p.adapter]!;
      return {
        id: a.id,
        rank: a.rank,
        rate: p.rate,
        ...(a.inputTokens ? { inputTokens: a.inputTokens } : {}),
        ...(a.outputTokens ? { outputTokens: a.outputTokens } : {}),
      };
    }),
    ...(workload.inputTokens ? { inputTokens: workload.inputTokens } : {}),
    ...(workload.outputTokens ? { outputTokens: workload.outputTokens } : {}),
    durationS: workload.options.verifyDurationS,
    seed: workload.options.verifySeed,
  };
}

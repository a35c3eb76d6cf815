import type { Placement } from '../placement/index.js';

/** GPUs that run the same vLLM command line: one Deployment with that many replicas. */
export interface EngineGroup {
  /** 0-based, in the order of each group's first GPU */
  number: number;
  gpus: number[];
  vllmArgs: string[];
}

/** Groups a placement's GPUs by their whole vllmArgs (knobs and --lora-modules). */
export function engineGroups(placement: Placement): EngineGroup[] {
  const byArgs = new Map<string, EngineGroup>();
  for (const gpu of placement.gpus) {
    const key = JSON.stringify(gpu.vllmArgs);
    const group = byArgs.get(key) ?? { number: byArgs.size, gpus: [], vllmArgs: gpu.vllmArgs };
    group.gpus.push(gpu.index);
    byArgs.set(key, group);
  }
  return [...byArgs.values()];
}

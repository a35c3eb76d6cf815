import { createHash } from 'node:crypto';
import type { Placement } from '../placement/index.js';

/** GPUs that run the same vLLM command line: one Deployment with that many replicas. */
export interface EngineGroup {
  /**
   * a short hash of the command line: the Deployment's name stays when other GPUs change, so a re-plan
   * restarts only the GPUs whose adapters or knobs changed
   */
  key: string;
  gpus: number[];
  vllmArgs: string[];
}

/** Groups a placement's GPUs by their whole vllmArgs (knobs and --lora-modules). */
export function engineGroups(placement: Placement): EngineGroup[] {
  const byArgs = new Map<string, EngineGroup>();
  for (const gpu of placement.gpus) {
    const key = JSON.stringify(gpu.vllmArgs);
    const group = byArgs.get(key) ?? {
      key: createHash('sha256').update(key).digest('hex').slice(0, 10),
      gpus: [],
      vllmArgs: gpu.vllmArgs,
    };
    group.gpus.push(gpu.index);
    byArgs.set(key, group);
  }
  return [...byArgs.values()];
}

/** The groups' keys, in the order their objects are written. */
export const groupKeys = (groups: EngineGroup[]): string[] => groups.map((g) => g.key);

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
  /**
   * with adapterLoading=dynamic only: the adapters its servers load at run time (vllmArgs then hold no
   * --lora-modules)
   */
  adapters?: AdapterModule[];
}

/** An adapter as vLLM loads it: `--lora-modules name=path`, or a runtime load's lora_name and lora_path. */
export interface AdapterModule {
  name: string;
  path: string;
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

/** A server's engine flags (everything before --lora-modules) and its adapters (the `name=path` after it). */
export function splitLoraModules(vllmArgs: string[]): { flags: string[]; adapters: AdapterModule[] } {
  const at = vllmArgs.indexOf('--lora-modules');
  if (at < 0) return { flags: vllmArgs, adapters: [] };
  const adapters = vllmArgs.slice(at + 1).map((module) => {
    const eq = module.indexOf('=');
    return { name: module.slice(0, eq), path: module.slice(eq + 1) };
  });
  return { flags: vllmArgs.slice(0, at), adapters };
}

/**
 * Server groups whose adapters are loaded at run time: GPUs with the same engine flags and the same adapters (the
 * pods of one Deployment are alike). The key hashes the flags and the group's GPU numbers, not its adapters: a
 * re-plan that moves adapters between GPUs and keeps their flags (few-move re-placement keeps GPU numbers) keeps the
 * Deployment, and only its adapter ConfigMap changes. A re-plan that changes a GPU's flags, or splits or merges GPUs
 * that shared an adapter set, renames the group (its servers restart).
 */
export function runtimeAdapterGroups(placement: Placement): EngineGroup[] {
  const byServing = new Map<string, EngineGroup>();
  for (const gpu of placement.gpus) {
    const { flags, adapters } = splitLoraModules(gpu.vllmArgs);
    const serving = JSON.stringify([flags, adapters]);
    const group = byServing.get(serving) ?? { key: '', gpus: [], vllmArgs: flags, adapters };
    group.gpus.push(gpu.index);
    byServing.set(serving, group);
  }
  const groups = [...byServing.values()];
  for (const group of groups)
    group.key = createHash('sha256')
      .update(JSON.stringify([group.vllmArgs, group.gpus]))
      .digest('hex')
      .slice(0, 10);
  return groups;
}

/** The server groups of `placement` for an adapter loading mode. */
export const serverGroups = (placement: Placement, adapterLoading: 'startup' | 'dynamic'): EngineGroup[] =>
  adapterLoading === 'dynamic' ? runtimeAdapterGroups(placement) : engineGroups(placement);

import { ConfigMap } from 'kubernetes-models/v1';
import type { Placement } from '../placement/index.js';
import { runtimeAdapterGroups, type AdapterModule, type EngineGroup } from './engine-groups.js';
import { loraSyncerConfigMapName, loraSyncerData } from './lora-syncer.js';
import type { ManifestOptions } from './manifest-options.js';
import { groupSelector, objectMetadata, vllmPort, type PoolServing } from './vllm-deployment.js';

/**
 * The adapters a re-plan took away from each server group: those the group (same key) held in the previous plan and
 * does not hold now. The sidecar unloads only what it is told to, so without them a moved adapter would stay loaded
 * (taking a CPU LoRA slot) on a server the routes no longer send it to.
 */
function removedByGroup(groups: EngineGroup[], previous: Placement | undefined): Map<string, AdapterModule[]> {
  const removed = new Map<string, AdapterModule[]>();
  if (!previous) return removed;
  const before = new Map(runtimeAdapterGroups(previous).map((g) => [g.key, g.adapters ?? []]));
  for (const group of groups) {
    const now = new Set((group.adapters ?? []).map((a) => a.name));
    removed.set(
      group.key,
      (before.get(group.key) ?? []).filter((a) => !now.has(a.name)),
    );
  }
  return removed;
}

/**
 * One lora-syncer ConfigMap per server group (adapterLoading=dynamic): the adapters its servers must hold, with the
 * paths --lora-modules would have named, and, when the previous plan is known, those they must unload.
 */
export function adapterConfigMaps(
  serving: PoolServing,
  groups: EngineGroup[],
  previous: Placement | undefined,
  o: ManifestOptions,
): ConfigMap[] {
  const removed = removedByGroup(groups, previous);
  return groups.map((group) => {
    const name = loraSyncerConfigMapName(serving.pool, group.key);
    return new ConfigMap({
      metadata: objectMetadata(name, groupSelector(serving.pool, group.key), o),
      data: loraSyncerData({
        name,
        baseModel: serving.model,
        port: vllmPort,
        load: group.adapters ?? [],
        unload: removed.get(group.key) ?? [],
      }),
    });
  });
}

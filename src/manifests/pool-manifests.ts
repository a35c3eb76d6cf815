import type { Placement } from '../placement/index.js';
import { hubModelIds } from '../profiles/hub-model-ids.js';
import { adapterConfigMaps } from './adapter-config-maps.js';
import { groupKeys, serverGroups } from './engine-groups.js';
import { inferencePools } from './inference-pool.js';
import type { ManifestOptions } from './manifest-options.js';
import { routingConfig, routingConfigMap } from './routing-config.js';
import { engineObjects, type PoolServing } from './vllm-deployment.js';

// the catalog of hub ids belongs to the profiles (a Scenario may name a model by it); kept exported here
export { hubModelIds };

/** What vLLM loads unless the operator says: the profile's Hugging Face id, the shipped models', or the name. */
export function defaultModelId(input: PoolManifestInput): string {
  const model = input.placement.model;
  return input.profile.hfModelId ?? hubModelIds[model] ?? model;
}

/** A `kind: List` that `kubectl apply -f` takes as is. */
export interface ManifestList {
  apiVersion: 'v1';
  kind: 'List';
  items: Record<string, unknown>[];
}

export interface PoolManifestInput {
  pool: string;
  placement: Placement;
  /** `hfModelId`: what vLLM loads, when the profile names it (built profiles do) */
  profile: { maxModelLen: number; vllmVersion: string; hfModelId?: string | undefined };
  adapterRoot: string;
  /**
   * the plan the cluster runs now (adapterLoading=dynamic): adapters it gave a server group that this one does not
   * are listed for unloading
   */
  previous?: Placement | undefined;
}

/**
 * What a cluster applies to serve a placement: one vLLM Deployment and Service per distinct engine
 * setting (a server group), with adapterLoading=dynamic the adapter ConfigMap its lora-syncer sidecar reads, the
 * routing config a gateway loads (a ConfigMap), and, for Gateway API Inference
 * Extension users, an InferencePool per server group. Every object is validated against its schema as it is
 * built (kubernetes-models for Kubernetes kinds), so a route or CLI answer never holds an object the API server
 * would refuse.
 */
export function poolManifests(input: PoolManifestInput, o: ManifestOptions): ManifestList {
  const { pool, placement } = input;
  const serving: PoolServing = {
    pool,
    model: placement.model,
    modelId: o.modelId ?? defaultModelId(input),
    maxModelLen: input.profile.maxModelLen,
    calibratedVllm: input.profile.vllmVersion,
    modelVersion: placement.modelVersion,
    adapterRoot: input.adapterRoot,
    gpusPerServer: placement.gpusPerServer ?? 1,
  };
  const groups = serverGroups(placement, o.adapterLoading);
  const engines = groups.flatMap((group) => engineObjects(serving, group, o));
  for (const object of engines) object.validate();
  const adapterMaps = o.adapterLoading === 'dynamic' ? adapterConfigMaps(serving, groups, input.previous, o) : [];
  for (const object of adapterMaps) object.validate();
  const routing = routingConfigMap(routingConfig(serving, placement, groups, o), o);
  routing.validate();
  const items: Record<string, unknown>[] = [
    ...engines.map((e) => e.toJSON() as Record<string, unknown>),
    ...adapterMaps.map((m) => m.toJSON() as Record<string, unknown>),
    routing.toJSON() as Record<string, unknown>,
  ];
  if (o.gateway === 'inference-extension') items.push(...inferencePools(pool, groupKeys(groups), o));
  return { apiVersion: 'v1', kind: 'List', items };
}

import { ConfigMap } from 'kubernetes-models/v1';
import type { Placement } from '../placement/index.js';
import { engineName, poolLabels, objectMetadata, vllmPort, type PoolServing } from './vllm-deployment.js';
import type { EngineGroup } from './engine-groups.js';
import { inferencePoolName } from './inference-pool.js';
import { k8sName } from './k8s-name.js';
import type { ManifestOptions } from './manifest-options.js';

/**
 * What a gateway loads: for every adapter, the server groups that serve it and the share of its requests each should
 * get. A group is one Service (plain Kubernetes: `service`, `url`) and, with gateway=inference-extension, one
 * InferencePool (`inferencePool`); `group` is the key its objects carry in the `lora-placer.io/engine` label.
 */
export interface RoutingConfig {
  pool: string;
  model: string;
  modelVersion: string;
  adapters: {
    adapter: string;
    backends: { service: string; url: string; group: string; inferencePool: string; weight: number }[];
  }[];
}

/**
 * The placement's routing table in terms of the engine Services (GPUs of one group share a Service, so their weights
 * add).
 */
export function routingConfig(
  serving: PoolServing,
  placement: Placement,
  groups: EngineGroup[],
  o: ManifestOptions,
): RoutingConfig {
  const groupOfGpu = new Map<number, EngineGroup>();
  for (const group of groups) for (const gpu of group.gpus) groupOfGpu.set(gpu, group);
  const host = (service: string) => (o.namespace ? `${service}.${o.namespace}.svc` : service);
  return {
    pool: serving.pool,
    model: serving.model,
    modelVersion: serving.modelVersion,
    adapters: placement.routing.map((route) => {
      const weights = new Map<EngineGroup, number>();
      for (const target of route.targets) {
        const group = groupOfGpu.get(target.gpu)!;
        weights.set(group, (weights.get(group) ?? 0) + target.weight);
      }
      return {
        adapter: route.adapter,
        backends: [...weights].map(([group, weight]) => {
          const service = engineName(serving.pool, group);
          return {
            service,
            url: `http://${host(service)}:${vllmPort}`,
            group: group.key,
            inferencePool: inferencePoolName(serving.pool, group.key),
            weight: Number(weight.toFixed(6)),
          };
        }),
      };
    }),
  };
}

export function routingConfigMap(config: RoutingConfig, o: ManifestOptions): ConfigMap {
  return new ConfigMap({
    metadata: objectMetadata(k8sName('lora-placer', config.pool, 'routing'), poolLabels(config.pool), o),
    data: { 'routing.json': `${JSON.stringify(config, null, 2)}\n` },
  });
}

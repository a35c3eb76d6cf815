import { ConfigMap } from 'kubernetes-models/v1';
import type { Placement } from '../placement/index.js';
import { engineName, poolLabels, objectMetadata, vllmPort, type PoolServing } from './vllm-deployment.js';
import type { EngineGroup } from './engine-groups.js';
import { k8sName } from './k8s-name.js';
import type { ManifestOptions } from './manifest-options.js';

/**
 * What a gateway loads: for every adapter, the Services that serve it and the share of its requests each should get.
 */
export interface RoutingConfig {
  pool: string;
  model: string;
  modelVersion: string;
  adapters: { adapter: string; backends: { service: string; url: string; weight: number }[] }[];
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
  const serviceOfGpu = new Map<number, string>();
  for (const group of groups) for (const gpu of group.gpus) serviceOfGpu.set(gpu, engineName(serving.pool, group));
  const host = (service: string) => (o.namespace ? `${service}.${o.namespace}.svc` : service);
  return {
    pool: serving.pool,
    model: serving.model,
    modelVersion: serving.modelVersion,
    adapters: placement.routing.map((route) => {
      const weights = new Map<string, number>();
      for (const target of route.targets) {
        const service = serviceOfGpu.get(target.gpu)!;
        weights.set(service, (weights.get(service) ?? 0) + target.weight);
      }
      return {
        adapter: route.adapter,
        backends: [...weights].map(([service, weight]) => ({
          service,
          url: `http://${host(service)}:${vllmPort}`,
          weight: Number(weight.toFixed(6)),
        })),
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

import { z } from 'zod';
import { k8sName } from './k8s-name.js';
import type { ManifestOptions } from './manifest-options.js';
import { groupSelector, objectMetadata, vllmPort } from './vllm-deployment.js';

/**
 * The Gateway API Inference Extension's InferencePool (inference.networking.k8s.io/v1), the object
 * llm-d / GIE users apply to put a pool of model servers behind an endpoint picker. No typed model of
 * it is published on npm, so its schema is written here from the v1 API (the fields used).
 */
export const InferencePool = z.object({
  apiVersion: z.literal('inference.networking.k8s.io/v1'),
  kind: z.literal('InferencePool'),
  metadata: z.object({
    name: z.string().regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/),
    namespace: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: z.object({
    selector: z.object({
      matchLabels: z.record(z.string(), z.string()).refine((m) => Object.keys(m).length > 0, 'at least one label'),
    }),
    targetPorts: z
      .array(z.object({ number: z.number().int().min(1).max(65535) }))
      .min(1)
      .max(8),
    endpointPickerRef: z.object({
      name: z.string().min(1),
      port: z.object({ number: z.number().int().min(1).max(65535) }),
      failureMode: z.enum(['FailOpen', 'FailClose']).optional(),
    }),
  }),
});
export type InferencePool = z.infer<typeof InferencePool>;

/** The InferencePool of one server group: the pool's name and the group's key (the Deployment's, less `vllm-`). */
export const inferencePoolName = (pool: string, groupKey: string): string => k8sName(pool, groupKey);

/**
 * One InferencePool per server group (GPUs with one command line, one adapter set): an endpoint picker balances
 * between pods that all serve the same adapters, and the routes choose the group by adapter (routing.json says
 * which groups serve an adapter, with the plan's weights). A pool over all the pods would send an adapter's
 * requests to pods that do not hold it, and vLLM answers those 404. Each group's pods are behind its own endpoint
 * picker `<pool>-<group>-epp` (deployed with llm-d's chart, one per InferencePool; its gRPC port 9002).
 */
export function inferencePools(pool: string, groupKeys: string[], o: ManifestOptions): InferencePool[] {
  return groupKeys.map((key) => {
    const selector = groupSelector(pool, key);
    return InferencePool.parse({
      apiVersion: 'inference.networking.k8s.io/v1',
      kind: 'InferencePool',
      metadata: objectMetadata(inferencePoolName(pool, key), selector, o),
      spec: {
        selector: { matchLabels: selector },
        targetPorts: [{ number: vllmPort }],
        endpointPickerRef: { name: k8sName(pool, key, 'epp'), port: { number: 9002 }, failureMode: 'FailOpen' },
      },
    });
  });
}

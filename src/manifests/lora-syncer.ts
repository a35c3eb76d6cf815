import type { AdapterModule } from './engine-groups.js';
import { k8sName } from './k8s-name.js';
import { toYamlDocument } from './yaml-documents.js';

/**
 * The Gateway API Inference Extension's dynamic LoRA sidecar ("lora-syncer"): it watches a mounted ConfigMap and
 * calls its vLLM container's /v1/load_lora_adapter and /v1/unload_lora_adapter until the server holds the adapters
 * the ConfigMap lists under `ensureExist` and none of those under `ensureNotExist` (an adapter it is not told about
 * stays as it is). Format, paths and image as in kubernetes-sigs/gateway-api-inference-extension at commit
 * bfe17bb388cc5b5988d981ada2bacb547f0f7c9a: tools/dynamic-lora-sidecar/README.md and sidecar/validation.yaml (the
 * keys), config/manifests/vllm/gpu-deployment.yaml (image, mount, env). The project removed the sidecar after that
 * commit (#2744, "in favor of native resolver"); v1.2.1 is its last published image.
 */
export const defaultLoraSyncerImage = 'registry.k8s.io/gateway-api-inference-extension/lora-syncer:v1.2.1';

/** Where the sidecar reads its config (its DYNAMIC_LORA_ROLLOUT_CONFIG default); the ConfigMap key is the file. */
const configDir = '/config';
const configFile = 'configmap.yaml';

/** The adapter ConfigMap of one server group: the group's Deployment name and `-adapters`. */
export const loraSyncerConfigMapName = (pool: string, groupKey: string): string =>
  k8sName('vllm', pool, groupKey, 'adapters');

export interface LoraSyncerConfigInput {
  /** the config's name (the ConfigMap's) */
  name: string;
  /** the name vLLM serves the base model as (--served-model-name): what a loaded adapter extends */
  baseModel: string;
  port: number;
  /** what the group's servers must hold */
  load: AdapterModule[];
  /** what they must not (adapters a re-plan took away from the group) */
  unload: AdapterModule[];
}

/** The sidecar's `vLLMLoRAConfig` document, as the text of the ConfigMap's file. */
export function loraSyncerConfig(c: LoraSyncerConfigInput): string {
  const models = (adapters: AdapterModule[]) => ({ models: adapters.map((a) => ({ id: a.name, source: a.path })) });
  const config = {
    vLLMLoRAConfig: {
      name: c.name,
      port: c.port,
      defaultBaseModel: c.baseModel,
      ensureExist: models(c.load),
      ...(c.unload.length > 0 ? { ensureNotExist: models(c.unload) } : {}),
    },
  };
  return toYamlDocument(config);
}

/** The ConfigMap's files: the one the sidecar reads. */
export const loraSyncerData = (c: LoraSyncerConfigInput): Record<string, string> => ({
  [configFile]: loraSyncerConfig(c),
});

const volumeName = 'lora-syncer-config';

/** The pod volume of the group's adapter ConfigMap. */
export const loraSyncerVolume = (configMap: string) => ({ name: volumeName, configMap: { name: configMap } });

/**
 * The sidecar as a native sidecar (an init container with restartPolicy Always, Kubernetes >= 1.29), as upstream
 * deploys it. The ConfigMap is mounted as a directory, never with subPath: a subPath mount does not see updates.
 */
export const loraSyncerSidecar = (image: string) => ({
  name: 'lora-syncer',
  image,
  restartPolicy: 'Always',
  env: [{ name: 'DYNAMIC_LORA_ROLLOUT_CONFIG', value: `${configDir}/${configFile}` }],
  volumeMounts: [{ name: volumeName, mountPath: configDir, readOnly: true }],
});

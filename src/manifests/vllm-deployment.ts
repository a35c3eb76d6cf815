import { Deployment } from 'kubernetes-models/apps/v1';
import { Service } from 'kubernetes-models/v1';
import type { EngineGroup } from './engine-groups.js';
import { k8sName } from './k8s-name.js';
import { defaultImage } from './default-image.js';
import { hfTokenRef, type ManifestOptions } from './manifest-options.js';
import { defaultLoraSyncerImage, loraSyncerConfigMapName, loraSyncerSidecar, loraSyncerVolume } from './lora-syncer.js';

/** What the vLLM objects of one pool are built from. */
export interface PoolServing {
  pool: string;
  /** profile model name (served as --served-model-name, the name clients send) */
  model: string;
  /** what vLLM loads */
  modelId: string;
  maxModelLen: number;
  /** the vLLM build the Twin was calibrated on (an annotation: pin the image to match it) */
  calibratedVllm: string;
  modelVersion: string;
  /** where --lora-modules paths point (the adapter volume is mounted there) */
  adapterRoot: string;
  /** GPUs each vLLM server (pod) spans: its --tensor-parallel-size and its `nvidia.com/gpu` */
  gpusPerServer: number;
}

export const vllmPort = 8000;

/** Labels every object of a pool carries; the pool's vLLM pods are selected by the first two. */
export function poolLabels(pool: string): Record<string, string> {
  return { 'app.kubernetes.io/managed-by': 'lora-placer', 'lora-placer.io/pool': pool };
}

export const engineName = (pool: string, group: EngineGroup): string => k8sName('vllm', pool, group.key);

/**
 * The labels of one server group's pods (its Deployment's, Service's and InferencePool's selector): the pool's and
 * the group's key, so a selector picks exactly the servers that run one command line, one set of adapters.
 */
export function groupSelector(pool: string, groupKey: string): Record<string, string> {
  return { ...poolLabels(pool), 'lora-placer.io/engine': groupKey };
}

/** The HF_TOKEN of the vLLM container, from the operator's Secret (none unless asked for). */
export function hfTokenEnv(o: ManifestOptions) {
  const ref = hfTokenRef(o);
  return ref ? [{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } }] : null;
}

/**
 * The vLLM container's env: with adapterLoading=dynamic, the switch that enables /v1/load_lora_adapter and
 * /v1/unload_lora_adapter (vLLM reads "1" or "true", any case); the HF token when asked for. None: null.
 */
export function vllmEnv(o: ManifestOptions) {
  const env = [
    ...(o.adapterLoading === 'dynamic' ? [{ name: 'VLLM_ALLOW_RUNTIME_LORA_UPDATING', value: 'True' }] : []),
    ...(hfTokenEnv(o) ?? []),
  ];
  return env.length > 0 ? env : null;
}

const health = { httpGet: { path: '/health', port: 'http' } };

/** name, labels, the namespace when one was asked for, annotations */
export function objectMetadata(
  name: string,
  labels: Record<string, string>,
  o: ManifestOptions,
  annotations?: Record<string, string>,
) {
  return { name, labels, ...(o.namespace ? { namespace: o.namespace } : {}), ...(annotations ? { annotations } : {}) };
}

/** The volume of the PersistentVolumeClaim holding the adapters, and where the vLLM container mounts it. */
export const adapterVolume = (claim: string) => ({
  name: 'adapters',
  persistentVolumeClaim: { claimName: claim, readOnly: true },
});
export const adapterMount = (adapterRoot: string) => ({ name: 'adapters', mountPath: adapterRoot, readOnly: true });

/**
 * Shared memory of a vLLM pod. The workers of a tensor-parallel server exchange data through /dev/shm (PyTorch
 * and NCCL's shared-memory transport), and a container's default of 64 MiB makes them fail with bus errors:
 * vLLM's Docker guide asks for `--ipc=host` or `--shm-size` "particularly for tensor parallel inference"
 * (docs.vllm.ai, deploying with Docker), and vLLM's production-stack operator mounts the same Memory emptyDir
 * for it (vllm-project/production-stack#994). A one-GPU server keeps the 2 GiB it always had; a Memory emptyDir
 * holds only what is written, the limit is a cap.
 */
export function shmSizeLimit(gpusPerServer: number): string {
  return gpusPerServer > 1 ? '16Gi' : '2Gi';
}

/**
 * One vLLM Deployment per engine group (replicas = its servers, `gpusPerServer` `nvidia.com/gpu` each) and a
 * Service in front of it: the backends the routing config and a gateway point at.
 */
export function engineObjects(serving: PoolServing, group: EngineGroup, o: ManifestOptions): [Deployment, Service] {
  const name = engineName(serving.pool, group);
  const selector = groupSelector(serving.pool, group.key);
  const env = vllmEnv(o);
  const dynamic = o.adapterLoading === 'dynamic';
  const labels = { ...selector, 'app.kubernetes.io/name': 'vllm' };
  const gpus = serving.gpusPerServer;
  const annotations = {
    'lora-placer.io/gpus': group.gpus.join(','),
    ...(gpus > 1 ? { 'lora-placer.io/tensor-parallel-size': String(gpus) } : {}),
    'lora-placer.io/model-version': serving.modelVersion,
    'lora-placer.io/calibrated-vllm': serving.calibratedVllm,
  };
  const deployment = new Deployment({
    metadata: objectMetadata(name, labels, o, annotations),
    spec: {
      replicas: group.gpus.length,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels, annotations },
        spec: {
          ...(dynamic ? { initContainers: [loraSyncerSidecar(o.loraSyncerImage ?? defaultLoraSyncerImage)] } : {}),
          containers: [
            {
              name: 'vllm',
              image: o.image ?? defaultImage(serving.calibratedVllm),
              args: [
                '--model',
                serving.modelId,
                '--served-model-name',
                serving.model,
                '--port',
                String(vllmPort),
                `--max-model-len=${serving.maxModelLen}`,
                ...group.vllmArgs,
              ],
              ...(env ? { env } : {}),
              ports: [{ name: 'http', containerPort: vllmPort }],
              resources: { limits: { 'nvidia.com/gpu': gpus }, requests: { 'nvidia.com/gpu': gpus } },
              // loading the weights takes minutes: the startup probe waits up to 20 of them, and holds the liveness
              // probe back until then; an engine that dies later (a dead engine core) answers /health 5xx and is
              // restarted after 30 s
              startupProbe: { ...health, periodSeconds: 10, failureThreshold: 120 },
              readinessProbe: { ...health, periodSeconds: 5 },
              livenessProbe: { ...health, periodSeconds: 10, failureThreshold: 3 },
              volumeMounts: [
                ...(o.adapterClaim ? [adapterMount(serving.adapterRoot)] : []),
                { name: 'shm', mountPath: '/dev/shm' },
              ],
            },
          ],
          volumes: [
            ...(o.adapterClaim ? [adapterVolume(o.adapterClaim)] : []),
            { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: shmSizeLimit(gpus) } },
            ...(dynamic ? [loraSyncerVolume(loraSyncerConfigMapName(serving.pool, group.key))] : []),
          ],
        },
      },
    },
  });
  const service = new Service({
    metadata: objectMetadata(name, labels, o),
    spec: { selector, ports: [{ name: 'http', port: vllmPort, targetPort: 'http' }] },
  });
  return [deployment, service];
}

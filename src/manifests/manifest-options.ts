import { z } from 'zod';

/** Choices an operator makes about the objects; everything else comes from the placement. */
export const ManifestOptions = z.object({
  image: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'a container image reference')
    .optional()
    .describe(
      "vLLM container image; default: vllm/vllm-openai pinned to the profile's vLLM version (v0.8.5 for the " +
        'unpublished research fork the shipped H100 profiles were calibrated on)',
    ),
  modelId: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,254}$/, 'a Hugging Face model id or a path')
    .optional()
    .describe("what vLLM loads (--model); default: the Hugging Face id of the profile's model"),
  namespace: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'a Kubernetes namespace name')
    .optional()
    .describe('set on every object; unset: the namespace `kubectl apply -n` gives'),
  adapterClaim: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/, 'a PersistentVolumeClaim name')
    .optional()
    .describe(
      "a PersistentVolumeClaim holding the adapters, mounted read-only at the workload's loraModulesRoot; " +
        'unset: the paths must resolve inside the image (or be hub ids)',
    ),
  hfTokenSecret: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(\/[A-Za-z0-9._-]{1,253})?$/, 'a Secret name, or <secret name>/<key>')
    .optional()
    .describe(
      'a Secret holding a Hugging Face token (gated models such as Llama): "<name>" (key HF_TOKEN) or ' +
        '"<name>/<key>"; the vLLM container gets it as HF_TOKEN. Unset: no token',
    ),
  gateway: z
    .enum(['none', 'inference-extension'])
    .default('none')
    .describe(
      '"inference-extension": also one InferencePool (Gateway API Inference Extension v1, llm-d) per ' +
        "server group, over that group's vLLM pods; needs its CRDs",
    ),
  adapterLoading: z
    .enum(['startup', 'dynamic'])
    .default('startup')
    .describe(
      '"startup": each server group\'s adapters are vLLM flags (--lora-modules), so a re-plan that moves adapters ' +
        'restarts its servers. "dynamic": vLLM loads and unloads them at run time ' +
        "(VLLM_ALLOW_RUNTIME_LORA_UPDATING), driven by the Gateway API Inference Extension's lora-syncer sidecar " +
        'from one ConfigMap per group; only a change of engine flags restarts a server',
    ),
  loraSyncerImage: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'a container image reference')
    .optional()
    .describe(
      'the lora-syncer sidecar image with adapterLoading=dynamic; default: ' +
        'registry.k8s.io/gateway-api-inference-extension/lora-syncer:v1.2.1',
    ),
});
export type ManifestOptions = z.output<typeof ManifestOptions>;

/** The Secret and key of `hfTokenSecret` ("<name>" or "<name>/<key>"). */
export function hfTokenRef(o: ManifestOptions): { name: string; key: string } | null {
  if (!o.hfTokenSecret) return null;
  const [name, key] = o.hfTokenSecret.split('/');
  return { name: name!, key: key ?? 'HF_TOKEN' };
}

import { z } from 'zod';

/** Choices an operator makes about the objects; everything else comes from the placement. */
export const ManifestOptions = z.object({
  image: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$/, 'a container image reference')
    .default('vllm/vllm-openai:latest')
    .describe('vLLM container image (pin a tag: the Twin was calibrated on the vLLM build its profile names)'),
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
  gateway: z
    .enum(['none', 'inference-extension'])
    .default('none')
    .describe(
      '"inference-extension": also an InferencePool (Gateway API Inference Extension v1, llm-d) over the ' +
        "pool's vLLM pods; needs its CRDs",
    ),
});
export type ManifestOptions = z.output<typeof ManifestOptions>;

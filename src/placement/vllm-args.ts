export interface VllmArgsInput {
  maxLoras: number;
  maxCpuLoras: number;
  maxLoraRank: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  /** GPUs the server spans; absent or 1: no --tensor-parallel-size (vLLM's default is 1) */
  tensorParallelSize?: number;
  /** adapter name and where vLLM loads it from */
  modules: { name: string; path: string }[];
}

/**
 * Arguments for `vllm serve <model>` on one server, one token per argv entry (ready for a Kubernetes
 * `args:` list): the LoRA knobs, the engine settings the prediction assumed, the server's GPUs when it
 * spans several, and `--lora-modules` with one `name=path` per adapter.
 */
export function vllmArgs(a: VllmArgsInput): string[] {
  const args = [
    '--enable-lora',
    `--max-loras=${a.maxLoras}`,
    `--max-cpu-loras=${a.maxCpuLoras}`,
    `--max-lora-rank=${a.maxLoraRank}`,
    `--max-num-seqs=${a.maxNumSeqs}`,
    `--max-num-batched-tokens=${a.maxNumBatchedTokens}`,
  ];
  if (a.tensorParallelSize !== undefined && a.tensorParallelSize > 1)
    args.push(`--tensor-parallel-size=${a.tensorParallelSize}`);
  if (a.modules.length > 0) args.push('--lora-modules', ...a.modules.map((m) => `${m.name}=${m.path}`));
  return args;
}

/** Default adapter location: `<root>/<id>`. */
export function defaultAdapterPath(root: string, id: string): string {
  return `${root.replace(/\/+$/, '')}/${id}`;
}

import type { Workload } from '../../src/placement/index.js';
import { Rng } from '../../src/shared/rng.js';

/** Dirichlet(0.5)-like popularity over `n` adapters with `demand` tokens/s of ShareGPT-length requests. */
export function skewedWorkload(n: number, demand: number, seed = 1, extra: Partial<Workload> = {}): Workload {
  const rng = new Rng(seed, 9);
  const w = Array.from({ length: n }, () => rng.gamma(0.5) + 1e-9);
  const sum = w.reduce((s, x) => s + x, 0);
  return {
    model: 'llama-3.1-8b-instruct',
    gpu: 'h100-64gb',
    adapters: w.map((x, i) => ({
      id: `a${i}`,
      rank: [8, 16, 32][i % 3]!,
      rate: Math.round((1e6 * (demand / 419) * x) / sum) / 1e6,
    })),
    engine: { maxNumSeqs: 2048, maxNumBatchedTokens: 2048 },
    ...extra,
  };
}

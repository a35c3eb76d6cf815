import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The four mistakes of a new user's notes (issue 24), applied to examples/workload.json: an 80 GB card, a rank-64
 * adapter, 1,000-token prompts, rates typed per minute. Each must come back with a warning (or, for a GPU name
 * no profile has, a 404 naming the cards there are).
 */
type Workload = { gpu: string; adapters: { id: string; rank: number; rate: number }[]; [k: string]: unknown };

export function exampleWorkload(): Workload {
  const file = join(import.meta.dirname, '..', '..', 'examples', 'workload.json');
  return JSON.parse(readFileSync(file, 'utf8')) as Workload;
}

export const newcomerCases: { name: string; workload: () => Workload; code: string; field: string }[] = [
  {
    name: 'an 80 GB card',
    workload: () => ({ ...exampleWorkload(), gpu: 'h100-80gb', engine: undefined }),
    code: 'LP_WARN_PROFILE_NOT_CALIBRATED',
    field: 'gpu',
  },
  {
    name: 'a rank-64 adapter',
    workload: () => {
      const w = exampleWorkload();
      w.adapters[5]!.rank = 64;
      return w;
    },
    code: 'LP_WARN_RANK_NOT_MEASURED',
    field: 'adapters.5.rank',
  },
  {
    name: '1,000-token prompts',
    workload: () => ({ ...exampleWorkload(), inputTokens: { mean: 1000 } }),
    code: 'LP_WARN_PROMPT_LENGTH_NOT_MEASURED',
    field: 'inputTokens.mean',
  },
  {
    name: 'rates typed per minute',
    workload: () => {
      const w = exampleWorkload();
      for (const a of w.adapters) a.rate = Math.round(a.rate * 60 * 1000) / 1000;
      return w;
    },
    code: 'LP_WARN_ADAPTER_RATES_NOT_MEASURED',
    field: 'adapters.0.rate',
  },
];

import type { DatasetRow } from './dataset.js';
import { featureNames } from './features.js';

const demandColumn = featureNames.indexOf('demand_tokens_per_s');

/**
 * What each predictor learns, and how its output becomes the answer:
 * - throughput: the served fraction throughput / ideal (about 1 until the server saturates or starves),
 *   times the demand feature. A fraction keeps every tree leaf meaningful from 10 to 15,000 tokens/s;
 * - itl, ttft: log of the mean in ms (TTFT spans 30 ms to 30 minutes);
 * - starved: probability that throughput < 0.9 x ideal.
 */
export const targets = {
  throughput: {
    kind: 'regression',
    label: (r: DatasetRow): number | null => (r.idealThroughput > 0 ? Math.min(1.5, r.throughput / r.idealThroughput) : null),
    decode: (y: number, x: ArrayLike<number>): number => Math.max(0, y) * x[demandColumn]!,
  },
  itl: {
    kind: 'regression',
    label: (r: DatasetRow): number | null => (r.itlMs && r.itlMs > 0 ? Math.log(r.itlMs) : null),
    decode: (y: number): number => Math.exp(y),
  },
  ttft: {
    kind: 'regression',
    label: (r: DatasetRow): number | null => (r.ttftMs && r.ttftMs > 0 ? Math.log(r.ttftMs) : null),
    decode: (y: number): number => Math.exp(y),
  },
  starved: {
    kind: 'classifier',
    label: (r: DatasetRow): number | null => (r.starved ? 1 : 0),
    decode: (y: number): number => Math.min(1, Math.max(0, y)),
  },
} as const;

export type TargetName = keyof typeof targets;
export const targetNames = Object.keys(targets) as TargetName[];

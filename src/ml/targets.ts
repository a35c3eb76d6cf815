import type { DatasetRow } from './dataset.js';
import { featureColumn } from './features.js';

const demandColumn = featureColumn.demand_tokens_per_s;

/** log of a latency in ms (latencies span 10 ms to an hour); null when it was not measured. */
const logMs = (ms: number | null | undefined): number | null =>
  ms !== null && ms !== undefined && ms > 0 ? Math.log(ms) : null;

/**
 * What each predictor learns, and how its output becomes the answer:
 * - throughput: the served fraction throughput / ideal (about 1 until the server saturates or starves),
 *   times the demand feature. A fraction keeps every tree leaf meaningful from 10 to 15,000 tokens/s;
 * - itl, ttft: log of the mean in ms (TTFT spans 30 ms to 30 minutes);
 * - ttftP99, itlP99: log of the GPU's p99 in ms; worstAdapterTtft: log of the largest mean TTFT of
 *   any adapter (cold adapters are the ones that wait; one that completed nothing counts the window);
 * - starved: probability that throughput < 0.9 x ideal.
 */
export const targets = {
  throughput: {
    kind: 'regression',
    label: (r: DatasetRow): number | null =>
      r.idealThroughput > 0 ? Math.min(1.5, r.throughput / r.idealThroughput) : null,
    decode: (y: number, x: ArrayLike<number>): number => Math.max(0, y) * x[demandColumn]!,
  },
  itl: {
    kind: 'regression',
    label: (r: DatasetRow): number | null => logMs(r.itlMs),
    decode: (y: number): number => Math.exp(y),
  },
  ttft: {
    kind: 'regression',
    label: (r: DatasetRow): number | null => logMs(r.ttftMs),
    decode: (y: number): number => Math.exp(y),
  },
  ttftP99: {
    kind: 'regression',
    label: (r: DatasetRow): number | null => logMs(r.ttftP99Ms),
    decode: (y: number): number => Math.exp(y),
  },
  itlP99: {
    kind: 'regression',
    label: (r: DatasetRow): number | null => logMs(r.itlP99Ms),
    decode: (y: number): number => Math.exp(y),
  },
  worstAdapterTtft: {
    kind: 'regression',
    label: (r: DatasetRow): number | null => logMs(r.worstAdapterTtftMs),
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

/** The latency targets (everything but throughput and starvation): scored by SMAPE of the decoded ms. */
export const latencyTargets = [
  'itl',
  'ttft',
  'ttftP99',
  'itlP99',
  'worstAdapterTtft',
] as const satisfies readonly TargetName[];
export type LatencyTarget = (typeof latencyTargets)[number];

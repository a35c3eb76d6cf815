import type { PredictorMetrics } from './bundle.js';
import { classification, r2, smapeResearch, smapeStandard } from './metrics.js';

/** A labelled case: a feature vector and what the Twin (or a real run) measured; null: not measured. */
export interface EvalCase {
  x: ArrayLike<number>;
  throughput: number;
  itlMs: number | null;
  ttftMs: number | null;
  ttftP99Ms: number | null;
  itlP99Ms: number | null;
  worstAdapterTtftMs: number | null;
  starved: boolean;
}

export interface PointPrediction {
  throughput: number;
  itlMs: number;
  ttftMs: number;
  ttftP99Ms: number;
  itlP99Ms: number;
  worstAdapterTtftMs: number;
  starvationProbability: number;
}

/** The latency fields of a case and a prediction, by metric name. */
export const latencyFields = {
  itl: 'itlMs',
  ttft: 'ttftMs',
  ttftP99: 'ttftP99Ms',
  itlP99: 'itlP99Ms',
  worstAdapterTtft: 'worstAdapterTtftMs',
} as const;

const sig = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(6)) : v);

/** Errors of a predictor on cases: SMAPE (both definitions), R2 of throughput, starvation accuracy and macro-F1. */
export function evaluate(cases: EvalCase[], predict: (x: ArrayLike<number>) => PointPrediction): PredictorMetrics {
  const p = cases.map((c) => predict(c.x));
  const pairs = (key: (typeof latencyFields)[keyof typeof latencyFields]): [number[], number[]] => {
    const idx = cases.flatMap((c, i) => (c[key] !== null && c[key]! > 0 ? [i] : []));
    return [idx.map((i) => cases[i]![key]!), idx.map((i) => p[i]![key])];
  };
  const [itlA, itlP] = pairs('itlMs');
  const [ttftA, ttftP] = pairs('ttftMs');
  // the tails: only where the cases measured them (real runs report no per-adapter TTFT)
  const tail = (
    key: 'ttftP99Ms' | 'itlP99Ms' | 'worstAdapterTtftMs',
  ): { smapeResearch: number; smapeStandard: number } | undefined => {
    const [a, q] = pairs(key);
    return a.length > 0
      ? { smapeResearch: sig(smapeResearch(a, q)), smapeStandard: sig(smapeStandard(a, q)) }
      : undefined;
  };
  const tails = { ttftP99: tail('ttftP99Ms'), itlP99: tail('itlP99Ms'), worstAdapterTtft: tail('worstAdapterTtftMs') };
  const thrA = cases.map((c) => c.throughput);
  const thrP = p.map((q) => q.throughput);
  const cls = classification(
    cases.map((c) => c.starved),
    p.map((q) => q.starvationProbability >= 0.5),
  );
  return {
    throughput: {
      smapeResearch: sig(smapeResearch(thrA, thrP)),
      smapeStandard: sig(smapeStandard(thrA, thrP)),
      r2: sig(r2(thrA, thrP)),
    },
    itl: { smapeResearch: sig(smapeResearch(itlA, itlP)), smapeStandard: sig(smapeStandard(itlA, itlP)) },
    ttft: { smapeResearch: sig(smapeResearch(ttftA, ttftP)), smapeStandard: sig(smapeStandard(ttftA, ttftP)) },
    starved: { accuracy: sig(cls.accuracy), macroF1: sig(cls.macroF1) },
    ...Object.fromEntries(Object.entries(tails).filter(([, v]) => v !== undefined)),
    rows: cases.length,
  };
}

import type { PredictorMetrics } from './bundle.js';
import { classification, r2, smapeResearch, smapeStandard } from './metrics.js';

/** A labelled case: a feature vector and what the Twin (or a real run) measured. */
export interface EvalCase {
  x: ArrayLike<number>;
  throughput: number;
  itlMs: number | null;
  ttftMs: number | null;
  starved: boolean;
}

export interface PointPrediction {
  throughput: number;
  itlMs: number;
  ttftMs: number;
  starvationProbability: number;
}

const sig = (v: number): number => (Number.isFinite(v) ? Number(v.toPrecision(6)) : v);

/** Errors of a predictor on cases: SMAPE (both definitions), R2 of throughput, starvation accuracy and macro-F1. */
export function evaluate(cases: EvalCase[], predict: (x: ArrayLike<number>) => PointPrediction): PredictorMetrics {
  const p = cases.map((c) => predict(c.x));
  const pairs = (key: 'itlMs' | 'ttftMs'): [number[], number[]] => {
    const idx = cases.flatMap((c, i) => (c[key] !== null && c[key]! > 0 ? [i] : []));
    return [idx.map((i) => cases[i]![key]!), idx.map((i) => p[i]![key])];
  };
  const [itlA, itlP] = pairs('itlMs');
  const [ttftA, ttftP] = pairs('ttftMs');
  const thrA = cases.map((c) => c.throughput);
  const thrP = p.map((q) => q.throughput);
  const cls = classification(cases.map((c) => c.starved), p.map((q) => q.starvationProbability >= 0.5));
  return {
    throughput: { smapeResearch: sig(smapeResearch(thrA, thrP)), smapeStandard: sig(smapeStandard(thrA, thrP)), r2: sig(r2(thrA, thrP)) },
    itl: { smapeResearch: sig(smapeResearch(itlA, itlP)), smapeStandard: sig(smapeStandard(itlA, itlP)) },
    ttft: { smapeResearch: sig(smapeResearch(ttftA, ttftP)), smapeStandard: sig(smapeStandard(ttftA, ttftP)) },
    starved: { accuracy: sig(cls.accuracy), macroF1: sig(cls.macroF1) },
    rows: cases.length,
  };
}

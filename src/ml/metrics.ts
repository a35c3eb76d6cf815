import { smapeResearch, smapeStandard } from '../shared/smape.js';

export { smapeResearch, smapeStandard };

/** Coefficient of determination. */
export function r2(actual: number[], predicted: number[]): number {
  const mean = actual.reduce((s, v) => s + v, 0) / actual.length;
  let ssRes = 0;
  let ssTot = 0;
  actual.forEach((y, i) => {
    ssRes += (y - predicted[i]!) ** 2;
    ssTot += (y - mean) ** 2;
  });
  return ssTot === 0 ? NaN : 1 - ssRes / ssTot;
}

export interface ClassificationScore {
  accuracy: number;
  macroF1: number;
  n: number;
}

/** Accuracy and macro-F1 (mean of the F1 of each class) of boolean predictions. */
export function classification(actual: boolean[], predicted: boolean[]): ClassificationScore {
  let tp = 0;
  let tn = 0;
  let fp = 0;
  let fn = 0;
  actual.forEach((a, i) => {
    const p = predicted[i]!;
    if (a && p) tp++;
    else if (!a && !p) tn++;
    else if (p) fp++;
    else fn++;
  });
  const f1 = (t: number, f1p: number, f1n: number): number =>
    t === 0 ? (f1p + f1n === 0 ? 1 : 0) : (2 * t) / (2 * t + f1p + f1n);
  return {
    accuracy: (tp + tn) / Math.max(1, actual.length),
    macroF1: (f1(tp, fp, fn) + f1(tn, fn, fp)) / 2,
    n: actual.length,
  };
}

/**
 * Default request-length shape, fitted to ShareGPT (Llama-2 tokenizer, first turn, unfiltered):
 * prompts mean 250.9, p25 23, p75 423; outputs mean 231.5, p25 27, p75 359.
 *
 * Each marginal is a quantile function, piecewise linear in log(tokens) between the knots below. The
 * quartile knots are the published ones; the minimum and the two tail knots were solved numerically
 * (coordinate descent on a 4000-point quadrature) so that (a) the unfiltered means are 250.9 / 231.5
 * and (b) vLLM benchmark_serving's ShareGPT filter (prompt <= 1024, prompt + output <= 2048, both
 * >= 4 tokens) leaves means of 223.0 / 196.0, as measured on the real runs' prompt pools.
 * Prompt and output lengths are independent.
 */
export const sharegptPromptKnots: ReadonlyArray<readonly [number, number]> = [
  [0, 1],
  [0.25, 23],
  [0.75, 423],
  [0.9408, 701.5],
  [1, 2095.1],
];

export const sharegptOutputKnots: ReadonlyArray<readonly [number, number]> = [
  [0, 1.338],
  [0.25, 27],
  [0.75, 359],
  [0.95, 445.0],
  [1, 4310.9],
];

export const benchmarkFilter = { maxPrompt: 1024, maxTotal: 2048, minTokens: 4 } as const;

/** Quantile function through log-linear knots. */
export function knotQuantile(knots: ReadonlyArray<readonly [number, number]>, u: number): number {
  for (let i = 1; i < knots.length; i++) {
    const [u0, q0] = knots[i - 1]!;
    const [u1, q1] = knots[i]!;
    if (u <= u1) {
      const f = (u - u0) / (u1 - u0);
      return Math.exp(Math.log(q0) + f * (Math.log(q1) - Math.log(q0)));
    }
  }
  return knots[knots.length - 1]![1];
}

const gridSize = 2000;

function roundedGrid(knots: ReadonlyArray<readonly [number, number]>): Float64Array {
  const v = new Float64Array(gridSize);
  for (let i = 0; i < gridSize; i++) v[i] = Math.max(1, Math.round(knotQuantile(knots, (i + 0.5) / gridSize)));
  return v;
}

export interface LengthTable {
  /** ascending token counts at equally spaced probabilities */
  values: Float64Array;
  mean: number;
}

function tableOf(values: number[]): LengthTable {
  values.sort((a, b) => a - b);
  const arr = Float64Array.from(values);
  return { values: arr, mean: values.reduce((s, x) => s + x, 0) / values.length };
}

/** Equally spaced quantiles of a discrete distribution given as (value, mass) pairs sorted by value. */
function decimate(values: Float64Array, mass: Float64Array, points: number): number[] {
  let total = 0;
  for (let i = 0; i < mass.length; i++) total += mass[i]!;
  const out: number[] = [];
  let acc = mass[0]!;
  let idx = 0;
  for (let k = 0; k < points; k++) {
    const target = ((k + 0.5) / points) * total;
    while (idx < values.length - 1 && acc < target) {
      idx++;
      acc += mass[idx]!;
    }
    out.push(values[idx]!);
  }
  return out;
}

/** Number of entries of the ascending array `sorted` within [lo, hi]. */
function countBetween(sorted: Float64Array, lo: number, hi: number): number {
  if (hi < lo) return 0;
  return upperBound(sorted, hi) - lowerBound(sorted, lo);
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m]! < x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m]! <= x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

let cache: { prompt: LengthTable; output: LengthTable; promptRaw: LengthTable; outputRaw: LengthTable } | undefined;

/** Marginal length tables of the shape, unfiltered and after the benchmark filter (computed once). */
export function sharegptTables(): {
  prompt: LengthTable;
  output: LengthTable;
  promptRaw: LengthTable;
  outputRaw: LengthTable;
} {
  if (cache) return cache;
  // the grids are already ascending because the quantile function is monotone
  const p = roundedGrid(sharegptPromptKnots);
  const o = roundedGrid(sharegptOutputKnots);
  const f = benchmarkFilter;
  // joint filter with independent marginals: a prompt keeps the outputs that fit beside it, and vice versa
  const pMass = new Float64Array(gridSize);
  const oMass = new Float64Array(gridSize);
  for (let i = 0; i < gridSize; i++) {
    const pi = p[i]!;
    if (pi >= f.minTokens && pi <= f.maxPrompt) pMass[i] = countBetween(o, f.minTokens, f.maxTotal - pi);
    const oi = o[i]!;
    if (oi >= f.minTokens) oMass[i] = countBetween(p, f.minTokens, Math.min(f.maxPrompt, f.maxTotal - oi));
  }
  cache = {
    prompt: tableOf(decimate(p, pMass, gridSize)),
    output: tableOf(decimate(o, oMass, gridSize)),
    promptRaw: tableOf([...p]),
    outputRaw: tableOf([...o]),
  };
  return cache;
}

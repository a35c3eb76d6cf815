import {
  boundedFigures,
  loadRegimes,
  type BoundedFigure,
  type LatencyBoundFactors,
  type LoadRegime,
  type RegimeFactors,
} from '../twin/latency-bounds.js';
import { conformalQuantile, minConformalScores } from './conformal.js';

/**
 * Fitting and scoring the latency bounds (src/twin/latency-bounds.ts) on real runs: one case per run and
 * estimator, its estimates beside the real figures. Used by `lora-placer bounds calibrate`.
 */
export interface BoundCase {
  model: string;
  /** the run's workload (rates and ranks), the unit left out in leave-one-workload-out */
  workload: string;
  regime: LoadRegime;
  estimate: Record<BoundedFigure, number | null>;
  real: Record<BoundedFigure, number>;
}

/** log(real / estimate) of one figure of a case, or null when either is missing or not positive. */
export function logRatio(c: BoundCase, figure: BoundedFigure): number | null {
  const e = c.estimate[figure];
  const r = c.real[figure];
  return e !== null && e > 0 && Number.isFinite(e) && r > 0 && Number.isFinite(r) ? Math.log(r / e) : null;
}

const scoresOf = (cases: readonly BoundCase[], figure: BoundedFigure): number[] =>
  cases.flatMap((c) => {
    const s = logRatio(c, figure);
    return s === null ? [] : [s];
  });

/** Rounded up to 3 decimals: a rounded factor never covers less than the fitted one. */
const roundUp = (x: number): number => Math.ceil(x * 1000 - 1e-6) / 1000;

/**
 * The factors of one set of cases: per regime and figure the conformal factor exp(quantile of log(real /
 * estimate)), at least 1. A cell with fewer scores than the coverage needs takes, in turn, the same regime over
 * `wider` (the other models' cases too), then all regimes of these cases, then all of `wider`: `pooled` says so.
 */
export function fitRegimeFactors(
  cases: readonly BoundCase[],
  coverage: number,
  wider: readonly BoundCase[] = cases,
): RegimeFactors {
  const need = minConformalScores(coverage);
  const out = {} as RegimeFactors;
  for (const regime of loadRegimes) {
    out[regime] = {} as RegimeFactors[LoadRegime];
    for (const figure of boundedFigures) {
      const tries = [
        cases.filter((c) => c.regime === regime),
        wider.filter((c) => c.regime === regime),
        cases,
        wider,
      ].map((set) => scoresOf(set, figure));
      const at = tries.findIndex((s) => s.length >= need);
      if (at < 0) throw new Error(`bounds: ${figure} has ${tries[3]!.length} runs, fewer than the ${need} needed`);
      const scores = tries[at]!;
      const factor = roundUp(Math.max(1, Math.exp(conformalQuantile(scores, coverage))));
      out[regime][figure] = { factor, runs: scores.length, ...(at > 0 ? { pooled: true } : {}) };
    }
  }
  return out;
}

/** Per model (and `pooled`, over all of them), the factors of these cases. */
export function fitFactors(cases: readonly BoundCase[], coverage: number): Record<string, RegimeFactors> {
  const models = [...new Set(cases.map((c) => c.model))].sort();
  const out: Record<string, RegimeFactors> = {};
  for (const m of models)
    out[m] = fitRegimeFactors(
      cases.filter((c) => c.model === m),
      coverage,
      cases,
    );
  out.pooled = fitRegimeFactors(cases, coverage);
  return out;
}

/** How the bounds of some cases did: the share of real values at or under their bound, the median bound / real. */
export interface BoundScore {
  model: string;
  figure: BoundedFigure;
  runs: number;
  coverage: number;
  medianBoundOverReal: number;
}

export function scoreBounds(cases: readonly BoundCase[], factorsOf: (c: BoundCase) => RegimeFactors): BoundScore[] {
  const models = [...new Set(cases.map((c) => c.model))].sort();
  return models.flatMap((model) =>
    boundedFigures.map((figure) => {
      const ratios = cases
        .filter((c) => c.model === model)
        .flatMap((c) => {
          const s = logRatio(c, figure);
          // bound / real = factor x estimate / real = factor / exp(s)
          return s === null ? [] : [factorsOf(c)[c.regime][figure].factor / Math.exp(s)];
        });
      return {
        model,
        figure,
        runs: ratios.length,
        coverage: ratios.length > 0 ? ratios.filter((r) => r >= 1).length / ratios.length : NaN,
        medianBoundOverReal: median(ratios),
      };
    }),
  );
}

/** Leave-one-workload-out: each workload's cases scored with factors fitted on the other workloads' cases. */
export function leaveOneWorkloadOut(cases: readonly BoundCase[], coverage: number): BoundScore[] {
  const workloads = [...new Set(cases.map((c) => c.workload))];
  const folds = new Map(
    workloads.map((w) => [
      w,
      fitFactors(
        cases.filter((c) => c.workload !== w),
        coverage,
      ),
    ]),
  );
  return scoreBounds(cases, (c) => {
    const f = folds.get(c.workload)!;
    return f[c.model] ?? f.pooled!;
  });
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The text of src/twin/latency-bound-factors.ts for these factors, laid out as Biome formats it. */
export function factorsModule(factors: LatencyBoundFactors): string {
  const key = (k: string): string => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `'${k}'`);
  const value = (v: unknown, indent: string): string => {
    if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    if (typeof v !== 'object' || v === null) return String(v);
    const inner = `${indent}  `;
    const lines = Object.entries(v).map(([k, x]) => `${inner}${key(k)}: ${value(x, inner)},`);
    return `{\n${lines.join('\n')}\n${indent}}`;
  };
  return (
    '// Generated by `lora-placer bounds calibrate` (docs/bounds.md): do not edit; re-run it when the Twin or the\n' +
    '// predictors change (`--check` says whether these constants are still what the runs give).\n' +
    "import type { LatencyBoundFactors } from './latency-bounds.js';\n\n" +
    `export const latencyBoundFactors: LatencyBoundFactors = ${value(factors, '')};\n`
  );
}

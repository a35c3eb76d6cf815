import { latencyBoundFactors } from './latency-bound-factors.js';
import type { SimulationResult } from './result.js';

/**
 * Calibrated upper bounds of the latency figures that can decide an SLO (docs/bounds.md). Each bound is the
 * estimate times a split-conformal factor: the 90 % quantile (finite-sample corrected) of log(real / estimate)
 * over real runs of the same estimator, model and load regime, never below 1. The factors are constants
 * (latency-bound-factors.ts) that `lora-placer bounds calibrate` regenerates from the tail-calibration runs.
 */

/** The figures a bound is given for; `ttftMean` also bounds the worst adapter's mean TTFT (see below). */
export const boundedFigures = ['ttftP99', 'itlP99', 'ttftMean'] as const;
export type BoundedFigure = (typeof boundedFigures)[number];

/**
 * The load regime of an estimate, from figures every estimator gives (so the Twin and the students agree on it):
 * `light` when the estimated mean TTFT is under `queuedTtftMs` (a request waits about one prefill), `queued` up
 * to `saturatedTtftMs` (requests wait for each other: near saturation a small capacity error decides between a
 * short queue and a long one, so the ratios spread more), `saturated` beyond it or when the estimate starves.
 */
export const loadRegimes = ['light', 'queued', 'saturated'] as const;
export type LoadRegime = (typeof loadRegimes)[number];
export const queuedTtftMs = 150;
export const saturatedTtftMs = 10_000;

export function loadRegimeOf(meanTtftMs: number, starved: boolean): LoadRegime {
  if (starved || !(meanTtftMs < saturatedTtftMs)) return 'saturated';
  return meanTtftMs < queuedTtftMs ? 'light' : 'queued';
}

/** Who made the estimate: the Twin (simulate, verification, the Twin estimator) or the distilled students. */
export type BoundEstimator = 'twin' | 'students';

/** One calibrated factor: bound = estimate x factor; `runs` it was fitted on, `pooled` when its cell had too few. */
export interface BoundFactor {
  factor: number;
  runs: number;
  pooled?: boolean;
}
export type RegimeFactors = Record<LoadRegime, Record<BoundedFigure, BoundFactor>>;

export interface LatencyBoundFactors {
  /** what the factors were fitted on and the command that regenerates them */
  source: string;
  command: string;
  coverage: number;
  /** per estimator: per model, and `pooled` (all models) for a model the runs do not cover */
  twin: Record<string, RegimeFactors>;
  students: Record<string, RegimeFactors & { bundleVersion?: string }>;
}

/** The factors of an estimator for a model: its own, else those pooled over the calibrated models. */
export function regimeFactorsOf(
  estimator: BoundEstimator,
  model: string,
  factors: LatencyBoundFactors = latencyBoundFactors,
): RegimeFactors {
  const set = factors[estimator];
  return set[model] ?? set.pooled!;
}

/** The upper bounds of the figures an estimate has (null where the estimate is null). */
export interface UpperBounds {
  ttftP99UpperMs: number | null;
  itlP99UpperMs: number | null;
  ttftMeanUpperMs: number | null;
  worstAdapterTtftUpperMs: number | null;
}

export interface BoundedEstimate {
  ttftMeanMs: number | null;
  ttftP99Ms: number | null;
  itlP99Ms: number | null;
  /** the worst adapter's mean TTFT: bounded with the mean-TTFT factor (the real runs report no per-adapter figure) */
  worstAdapterTtftMs?: number | null;
  starved: boolean;
}

export function upperBoundsOf(e: BoundedEstimate, f: RegimeFactors): UpperBounds {
  const byRegime = f[loadRegimeOf(e.ttftMeanMs ?? Infinity, e.starved)];
  const times = (v: number | null | undefined, figure: BoundedFigure): number | null =>
    v === null || v === undefined ? null : v * byRegime[figure].factor;
  return {
    ttftP99UpperMs: times(e.ttftP99Ms, 'ttftP99'),
    itlP99UpperMs: times(e.itlP99Ms, 'itlP99'),
    ttftMeanUpperMs: times(e.ttftMeanMs, 'ttftMean'),
    worstAdapterTtftUpperMs: times(e.worstAdapterTtftMs, 'ttftMean'),
  };
}

/**
 * The largest mean TTFT of an adapter that had requests (one that completed none counts the whole window), or
 * null without per-adapter results (report.perAdapter).
 */
export function worstAdapterTtftMs(r: SimulationResult): number | null {
  if (!r.adapters) return null;
  return Math.max(
    0,
    ...r.adapters.filter((a) => a.arrivedRequests > 0).map((a) => a.ttftMs?.mean ?? r.durationS * 1000),
  );
}

/** A Twin result with its upper bounds (the Twin's factors for `model`); the worst adapter's with perAdapter only. */
export function withUpperBounds(r: SimulationResult, model: string): SimulationResult {
  const worst = worstAdapterTtftMs(r);
  const { worstAdapterTtftUpperMs, ...bounds } = upperBoundsOf(
    {
      ttftMeanMs: r.ttftMs?.mean ?? null,
      ttftP99Ms: r.ttftMs?.p99 ?? null,
      itlP99Ms: r.itlMs?.p99 ?? null,
      worstAdapterTtftMs: worst,
      starved: r.starved,
    },
    regimeFactorsOf('twin', model),
  );
  return { ...r, ...bounds, ...(worst !== null ? { worstAdapterTtftUpperMs } : {}) };
}

import type { ForwardModel, Profile } from '../profiles/index.js';
import { leastSquares, nonNegativeLeastSquares, rms } from '../shared/least-squares.js';
import { rankTile, schedulerMs } from '../twin/index.js';
import type { StepObservation } from './step-observations.js';
import { setTerm, termValue, type StepTerm } from './step-terms.js';

export type { StepTerm } from './step-terms.js';

interface Term {
  key: StepTerm;
  group: 'base' | 'lora';
  /** the term's multiplier in one step */
  x: (o: StepObservation, tile: number) => number;
  /** why the runs cannot pin it down, or null when they may */
  unsupported: (shape: DataShape) => string | null;
}

interface DataShape {
  base: boolean;
  lora: boolean;
  slotSettings: number;
}

const slotsOf = (o: StepObservation, tile: number): number => (o.lora ? o.lora.slots * tile : 0);
const needsTwoSlotSettings = (s: DataShape): string | null =>
  s.slotSettings >= 2 ? null : 'needs runs with adapters at two or more --max-loras (or --max-lora-rank) settings';

/** In the order they are tried: a term joins only if the runs tell it apart from those before it. */
const terms: Term[] = [
  { key: 'constantMs', group: 'base', x: () => 1, unsupported: () => null },
  { key: 'perDecodeMs', group: 'base', x: (o) => o.decodes, unsupported: () => null },
  { key: 'perContextKiloTokenMs', group: 'base', x: (o) => o.contextTokens / 1000, unsupported: () => null },
  { key: 'perPrefillTokenMs', group: 'base', x: (o) => o.prefillTokens, unsupported: () => null },
  {
    key: 'perAdapterMs',
    group: 'lora',
    x: (o) => (o.lora ? o.adapters : 0),
    unsupported: (s) => (s.lora ? null : 'needs runs with adapters'),
  },
  {
    key: 'enabledMs',
    group: 'lora',
    x: (o) => (o.lora ? 1 : 0),
    unsupported: (s) => (s.lora && s.base ? null : 'needs runs both with and without --enable-lora'),
  },
  { key: 'perSlotMs', group: 'lora', x: slotsOf, unsupported: needsTwoSlotSettings },
  {
    key: 'perSlotDecodeMs',
    group: 'lora',
    x: (o, t) => slotsOf(o, t) * o.decodes,
    unsupported: needsTwoSlotSettings,
  },
  {
    key: 'perSlotPrefillTokenMs',
    group: 'lora',
    x: (o, t) => slotsOf(o, t) * o.prefillTokens,
    unsupported: needsTwoSlotSettings,
  },
];

/** Rows (steps) a term needs with a non-zero multiplier before it is fitted. */
const minRowsPerTerm = 20;
/** A term whose column is this close to a combination of the terms already in is not told apart by the runs. */
const collinearity = 1e-3;
const maxTrimRounds = 20;

export interface StepFit {
  /** steps: least squares on engine steps; replay: a search over replays of runs without token timelines */
  method: 'steps' | 'replay';
  model: ForwardModel;
  /** refitted terms, start and fitted values */
  refitted: { key: StepTerm; start: number; fitted: number }[];
  /** terms kept at the starting profile's value, and why */
  kept: { key: StepTerm; reason: string }[];
  rows: number;
  /** steps left out as outliers (engine stalls, loads the step model does not hold) */
  trimmed: number;
  rmsErrorMs: number;
  rmsRelativeError: number;
}

/**
 * Least squares of the step model on observed steps: every observed step's duration, minus the scheduler
 * time and the terms not refitted (both from the starting profile), against the refitted terms' multipliers.
 * Costs are kept non-negative (src/shared/least-squares.ts); outliers (engine stalls, unseen loads) are
 * trimmed by their distance from the fit in robust units (median absolute deviation), deterministically.
 */
export function fitStepModel(start: Profile, observations: StepObservation[], source: string[]): StepFit {
  const shape: DataShape = {
    base: observations.some((o) => !o.lora),
    lora: observations.some((o) => o.lora),
    slotSettings: new Set(observations.filter((o) => o.lora).map((o) => slotsOf(o, tileOf(start, o)))).size,
  };
  const kept: StepFit['kept'] = [];
  const chosen: Term[] = [];
  const columns: number[][] = [];
  for (const term of terms) {
    const column = observations.map((o) => term.x(o, tileOf(start, o)));
    const reason = term.unsupported(shape) ?? supportOf(column, columns);
    if (reason) kept.push({ key: term.key, reason });
    else {
      chosen.push(term);
      columns.push(column);
    }
  }
  const fixed = terms.filter((t) => !chosen.includes(t));
  const targets = observations.map((o) => o.durationMs - fixedMs(start, o, fixed));
  const rows = observations.map((_, i) => columns.map((c) => c[i]!));
  const fit = chosen.length > 0 ? robustFit(rows, targets) : null;
  const model = structuredClone(start.forward);
  const refitted = chosen.map((t, k) => {
    const startValue = termValue(start.forward, t.key);
    const fitted = fit!.coefficients[k]!;
    setTerm(model, t.key, fitted);
    return { key: t.key, start: startValue, fitted };
  });
  const inliers = fit?.inliers ?? [];
  const residuals = inliers.map((i) => fit!.residuals[i]!);
  const relative = inliers.map((i) => fit!.residuals[i]! / observations[i]!.durationMs);
  const report = {
    source,
    rows: inliers.length,
    rmsError: rms(residuals),
    rmsRelativeError: rms(relative),
    unit: 'ms per step',
    note:
      `refitted by calibrate --bench from ${inliers.length} engine steps read off the runs' token timelines ` +
      `(${observations.length - inliers.length} trimmed as outliers): ${refitted.map((r) => r.key).join(', ')}`,
  };
  if (refitted.some((r) => terms.find((t) => t.key === r.key)!.group === 'base')) model.base.fit = report;
  if (refitted.some((r) => terms.find((t) => t.key === r.key)!.group === 'lora')) model.lora.fit = report;
  return {
    method: 'steps',
    model,
    refitted,
    kept,
    rows: inliers.length,
    trimmed: observations.length - inliers.length,
    rmsErrorMs: report.rmsError,
    rmsRelativeError: report.rmsRelativeError,
  };
}

function tileOf(profile: Profile, o: StepObservation): number {
  return o.lora ? rankTile(profile.forward, o.lora.maxLoraRank) : 0;
}

/** Why a column cannot be fitted beside `others`, or null when it can. */
function supportOf(column: number[], others: number[][]): string | null {
  const nonZero = column.filter((v) => v !== 0).length;
  if (nonZero < minRowsPerTerm) return `only ${nonZero} readable steps involve it (needs ${minRowsPerTerm})`;
  const norm = Math.sqrt(column.reduce((s, v) => s + v * v, 0));
  if (others.length === 0) return norm > 0 ? null : 'never varies';
  const projection = leastSquares(
    column.map((_, i) => others.map((c) => c[i]!)),
    column,
  );
  const left = Math.sqrt(projection.residuals.reduce((s, v) => s + v * v, 0));
  return left > collinearity * norm ? null : 'the runs do not tell it apart from the terms fitted before it';
}

/** Step time from everything not refitted: scheduler, the kept terms, the first-adapter cost. */
function fixedMs(profile: Profile, o: StepObservation, fixed: Term[]): number {
  let ms = schedulerMs(profile.scheduler, o.running, 0, 0);
  const tile = tileOf(profile, o);
  for (const t of fixed) ms += termValue(profile.forward, t.key) * t.x(o, tile);
  if (o.lora && o.adapters > 0) ms += profile.forward.lora.firstAdapterMs;
  return ms;
}

/** Non-negative least squares, refitted without the rows far from the fit until they no longer change. */
function robustFit(
  rows: number[][],
  targets: number[],
): { coefficients: number[]; residuals: number[]; inliers: number[] } {
  let inliers = rows.map((_, i) => i);
  let coefficients: number[] = [];
  let residuals: number[] = [];
  for (let round = 0; round < maxTrimRounds; round++) {
    const fit = nonNegativeLeastSquares(
      inliers.map((i) => rows[i]!),
      inliers.map((i) => targets[i]!),
    );
    coefficients = fit.coefficients;
    residuals = rows.map((x, i) => targets[i]! - x.reduce((s, v, k) => s + v * coefficients[k]!, 0));
    const spread = 1.4826 * median(inliers.map((i) => Math.abs(residuals[i]!)));
    const limit = Math.max(4 * spread, 0.02);
    const next = rows.map((_, i) => i).filter((i) => Math.abs(residuals[i]!) <= limit);
    if (next.length < rows[0]!.length * 3 || sameRows(next, inliers)) break;
    inliers = next;
  }
  return { coefficients, residuals, inliers };
}

function sameRows(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[sorted.length >> 1]!;
}

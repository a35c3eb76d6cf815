import type { ForwardModel, Profile } from '../profiles/index.js';
import type { BenchRun } from './bench-run.js';
import type { StepFit } from './fit-step-model.js';
import { setTerm, termValue, type StepTerm } from './step-terms.js';
import { figuresOf, type RunFigures } from './figures.js';
import { replayRun } from './replay.js';

/** Replays of every run the search may make: bounded work, whatever the data. */
export const maxReplaySearches = 200;

/**
 * The step model fitted by replaying the runs, for runs without token timelines (per-request CSVs): each run is
 * replayed in the Twin under candidate constants and its figures (TTFT, ITL, TPOT, throughput) compared with
 * the measured ones; a Nelder-Mead search over the logarithms of the constants' multipliers, from the starting
 * profile, at most `maxReplaySearches` replays of all runs. Deterministic (the search and the replays are).
 * Coarser than least squares on engine steps: a CSV says when a request's tokens began and ended, not what each
 * step held, so constants that trade off against each other (the per-decode and per-context costs) are told
 * apart only as well as the runs' loads differ.
 */
export function fitByReplay(start: Profile, runs: BenchRun[], source: string[], seed: number): StepFit {
  const keys: StepTerm[] = ['constantMs', 'perDecodeMs', 'perContextKiloTokenMs', 'perPrefillTokenMs'];
  if (runs.some((r) => r.server.lora !== null && r.requests.every((q) => q.adapter !== null)))
    keys.push('perAdapterMs');
  const startValues = keys.map((k) => termValue(start.forward, k));
  const active = keys.filter((_, i) => startValues[i]! > 0);
  const modelAt = (x: number[]): ForwardModel => {
    const model = structuredClone(start.forward);
    for (const [i, k] of active.entries()) setTerm(model, k, termValue(start.forward, k) * Math.exp(x[i]!));
    return model;
  };
  const measured = runs.map((r) => figuresOf(r.requests));
  const loss = (x: number[]): number => mismatch({ ...start, forward: modelAt(x) }, runs, measured, seed);
  const { best, value, evaluations } = nelderMead(loss, active.length, maxReplaySearches);
  const model = modelAt(best);
  const kept = keys
    .filter((k) => !active.includes(k))
    .map((key) => ({ key, reason: 'zero in the starting profile: a search by multipliers cannot move it' }));
  const report = {
    source,
    rows: runs.reduce((n, r) => n + r.requests.length, 0),
    rmsError: Math.sqrt(value),
    unit: "relative residual of the runs' TTFT, ITL, TPOT and throughput",
    note:
      `refitted by calibrate --bench by replaying runs without token timelines (${evaluations} replays, ` +
      `Nelder-Mead): ${active.join(', ')}`,
  };
  model.base.fit = report;
  if (active.includes('perAdapterMs')) model.lora.fit = report;
  return {
    method: 'replay',
    model,
    refitted: active.map((key) => ({ key, start: termValue(start.forward, key), fitted: termValue(model, key) })),
    kept,
    rows: report.rows,
    trimmed: 0,
    rmsErrorMs: Number.NaN,
    rmsRelativeError: report.rmsError,
  };
}

/**
 * Mean squared relative residual of the runs' figures (TTFT mean / p50 / p90, ITL mean, TPOT mean, output
 * throughput): what the before/after check scores, so the search never ends worse than where it started.
 */
function mismatch(profile: Profile, runs: BenchRun[], measured: (RunFigures | null)[], seed: number): number {
  let sum = 0;
  let n = 0;
  runs.forEach((run, r) => {
    const m = measured[r];
    if (!m) return;
    const replay = replayRun(run, profile, seed);
    const s = replay.memoryError ? null : figuresOf(replay.requests);
    for (const key of Object.keys(m) as (keyof RunFigures)[]) {
      const want = m[key];
      if (want === null || want <= 0) continue;
      const got = s?.[key];
      sum += got === null || got === undefined ? 1 : ((got - want) / want) ** 2;
      n++;
    }
  });
  return n > 0 ? sum / n : Number.POSITIVE_INFINITY;
}

/** Nelder-Mead from the origin (steps of 0.2 in log space), at most `maxEvaluations` evaluations. */
function nelderMead(
  f: (x: number[]) => number,
  dims: number,
  maxEvaluations: number,
): { best: number[]; value: number; evaluations: number } {
  let evaluations = 0;
  const evaluate = (x: number[]): { x: number[]; v: number } => {
    evaluations++;
    return { x, v: f(x) };
  };
  const simplex = [evaluate(new Array<number>(dims).fill(0))];
  for (let i = 0; i < dims; i++) {
    const x = new Array<number>(dims).fill(0);
    x[i] = 0.2;
    simplex.push(evaluate(x));
  }
  const along = (a: number[], b: number[], t: number): number[] => a.map((v, i) => v + t * (b[i]! - v));
  while (evaluations < maxEvaluations && dims > 0) {
    simplex.sort((a, b) => a.v - b.v);
    if (simplex[dims]!.v - simplex[0]!.v < 1e-10) break;
    const centroid = new Array<number>(dims).fill(0);
    for (let k = 0; k < dims; k++) for (let i = 0; i < dims; i++) centroid[i]! += simplex[k]!.x[i]! / dims;
    const worst = simplex[dims]!;
    const reflected = evaluate(along(centroid, worst.x, -1));
    if (reflected.v < simplex[0]!.v) {
      const expanded = evaluate(along(centroid, worst.x, -2));
      simplex[dims] = expanded.v < reflected.v ? expanded : reflected;
    } else if (reflected.v < simplex[dims - 1]!.v) simplex[dims] = reflected;
    else {
      const contracted = evaluate(along(centroid, worst.x, 0.5));
      if (contracted.v < worst.v) simplex[dims] = contracted;
      else for (let k = 1; k <= dims; k++) simplex[k] = evaluate(along(simplex[0]!.x, simplex[k]!.x, 0.5));
    }
  }
  simplex.sort((a, b) => a.v - b.v);
  return { best: simplex[0]!.x, value: simplex[0]!.v, evaluations };
}

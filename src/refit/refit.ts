import { Profile } from '../profiles/index.js';
import type { BenchData, BenchRun } from './bench-run.js';
import { figureLabels, figuresOf, type RunFigures } from './figures.js';
import { fitKvCapacity, type KvFit } from './fit-kv.js';
import { fitByReplay } from './fit-by-replay.js';
import { fitStepModel, type StepFit } from './fit-step-model.js';
import { engineOf, replayRun } from './replay.js';
import { observeSteps, type ObservationCounts, type StepObservation } from './step-observations.js';

/** One figure of one run: measured, and the relative residual (simulated - measured) / measured of each profile. */
export interface FigureResidual {
  run: string;
  figure: keyof RunFigures;
  measured: number;
  /** null: the profile says the server would not start (counted as 100 %) */
  start: number | null;
  fitted: number | null;
}

export interface RefitOutcome {
  /** the refitted profile (written only when accepted) */
  profile: Profile;
  stepFit: StepFit | null;
  kvFit: KvFit | null;
  counts: ObservationCounts;
  residuals: FigureResidual[];
  /** root-mean-square relative residual over every figure of every run */
  startError: number;
  fittedError: number;
  /** null when accepted; else why the fit is refused */
  refused: string | null;
}

/** Relative difference of two errors that counts as equal (the same constants simulate to the same figures). */
const equalWithin = 1e-6;

/**
 * Refits a profile's few constants to stock-vLLM benchmarks and checks the result:
 * 1. the step model's base terms (and the LoRA ones the runs pin down) by least squares on engine steps read off
 *    the runs' token timelines (step-observations.ts, fit-step-model.ts): direct, exact when the data is, and
 *    bounded work, where fitting by repeated simulation would search a noisy objective;
 * 2. the KV capacity to the servers' logged "GPU KV cache size" (fit-kv.ts);
 * 3. every run replayed in the Twin with the starting and the refitted profile, and their TTFT, ITL, TPOT and
 *    throughput compared with the measured ones: a refit that explains the runs worse than the starting profile
 *    (a larger root-mean-square relative residual) is refused, as is one with nothing to refit.
 */
export function refitProfile(start: Profile, data: BenchData, seed = 0): RefitOutcome {
  const observations: StepObservation[] = [];
  const counts: ObservationCounts = { steps: 0, decodeOnly: 0, withPrefill: 0 };
  for (const run of data.runs) {
    const e = engineOf(run.server, start);
    const seen = observeSteps(run, { ...e, maxLoras: run.server.lora?.maxLoras ?? 0 });
    observations.push(...seen.observations);
    counts.steps += seen.counts.steps;
    counts.decodeOnly += seen.counts.decodeOnly;
    counts.withPrefill += seen.counts.withPrefill;
  }
  const runFiles = [...new Set(data.runs.flatMap((r) => r.files))];
  const logFiles = [...new Set(data.servers.flatMap((s) => (s.logFile ? [s.logFile] : [])))];
  // runs without token timelines (per-request CSVs) are fitted by replaying them, when nothing better is there
  const untimed = data.runs.filter((r) => r.requests.some((q) => q.tokenTimes === null));
  const stepFit =
    observations.length > 0
      ? fitStepModel(start, observations, runFiles)
      : untimed.length > 0
        ? fitByReplay(start, untimed, [...new Set(untimed.flatMap((r) => r.files))], seed)
        : null;
  const kvFit = fitKvCapacity(start, data.servers, logFiles);
  const profile = refittedProfile(start, data, stepFit, kvFit);
  const residuals = data.runs.flatMap((run) => residualsOf(run, start, profile, seed));
  const startError = rmsOf(residuals.map((r) => r.start));
  const fittedError = rmsOf(residuals.map((r) => r.fitted));
  const nothing = (stepFit?.refitted.length ?? 0) === 0 && kvFit === null;
  const refused = nothing
    ? 'nothing to refit: no run has readable engine steps or per-request times, and no server log gives the KV ' +
      'capacity'
    : fittedError > startError * (1 + equalWithin) + 1e-12
      ? `the refitted constants explain these runs worse than the starting profile: root-mean-square relative ` +
        `residual ${pct(fittedError)} against ${pct(startError)} (${worstOf(residuals)})`
      : null;
  return { profile, stepFit, kvFit, counts, residuals, startError, fittedError, refused };
}

function refittedProfile(start: Profile, data: BenchData, stepFit: StepFit | null, kvFit: KvFit | null): Profile {
  const versions = [...new Set(data.servers.flatMap((s) => (s.vllmVersion ? [s.vllmVersion] : [])))];
  const what = [...(stepFit?.refitted.map((r) => r.key) ?? []), ...(kvFit ? ['KV capacity'] : [])];
  const notes = [
    `refitted by lora-placer calibrate --bench from ${data.runs.length} run(s) on ${data.servers.length} ` +
      `server(s): ${what.join(', ') || 'nothing'}`,
    ...(stepFit?.kept.map((k) => `${k.key} kept from the starting profile: ${k.reason}`) ?? []),
    `starting profile: ${start.model}@${start.gpu} (${start.source?.kind ?? 'calibrated'}, vLLM ${start.vllmVersion})`,
  ];
  return Profile.parse({
    ...start,
    description: `${start.model} on ${start.gpu}, refitted to the user's vllm bench serve runs`,
    ...(versions.length === 1 ? { vllmVersion: versions[0] } : {}),
    ...(stepFit ? { forward: stepFit.model } : {}),
    ...(kvFit ? { kvCapacity: kvFit.kvCapacity } : {}),
    calibration: { ...start.calibration, notes: [...start.calibration.notes, notes[0]!] },
    source: {
      kind: 'refitted',
      measuredOn: `the user's ${start.gpu}, vLLM ${versions.join(' / ') || `${start.vllmVersion} (as the profile)`}`,
      data: data.files,
      notes,
    },
  });
}

function residualsOf(run: BenchRun, start: Profile, fitted: Profile, seed: number): FigureResidual[] {
  const measured = figuresOf(run.requests);
  if (!measured) return [];
  const simulate = (p: Profile): RunFigures | null => {
    const replay = replayRun(run, p, seed);
    return replay.memoryError ? null : figuresOf(replay.requests);
  };
  const a = simulate(start);
  const b = simulate(fitted);
  return (Object.keys(measured) as (keyof RunFigures)[]).flatMap((figure) => {
    const m = measured[figure];
    if (m === null || m <= 0) return [];
    const rel = (f: RunFigures | null): number | null => {
      const v = f?.[figure];
      return v === null || v === undefined ? null : (v - m) / m;
    };
    return [{ run: run.name, figure, measured: m, start: rel(a), fitted: rel(b) }];
  });
}

/** RMS of relative residuals; a profile that cannot simulate a run counts 100 % there. */
function rmsOf(values: (number | null)[]): number {
  if (values.length === 0) return 0;
  return Math.sqrt(values.reduce((s: number, v) => s + (v === null ? 1 : v * v), 0) / values.length);
}

function worstOf(residuals: FigureResidual[]): string {
  const worse = residuals
    .map((r) => ({ r, d: Math.abs(r.fitted ?? 1) - Math.abs(r.start ?? 1) }))
    .sort((x, y) => y.d - x.d)[0];
  if (!worse) return 'no figure';
  const { r } = worse;
  const show = (v: number | null): string => (v === null ? 'cannot start' : signedPct(v));
  return `worst: ${figureLabels[r.figure]} of ${r.run}, ${show(r.fitted)} refitted against ${show(r.start)}`;
}

export const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
export const signedPct = (v: number): string => `${v >= 0 ? '+' : ''}${(100 * v).toFixed(1)} %`;

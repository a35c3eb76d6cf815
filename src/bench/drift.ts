import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PredictorRegistry } from '../ml/registry.js';
import { criterionOf, twinVerdict } from '../placement/criterion.js';
import { alignGpus } from '../placement/gpu-alignment.js';
import { gpuScenarioOf } from '../placement/gpu-scenario.js';
import { parseWorkload, place, type GpuSimulator, type ParsedWorkload, type Placement } from '../placement/index.js';
import { movesBetween } from '../placement/moves.js';
import { plannedRates } from '../placement/planned-rates.js';
import { replan } from '../placement/replan.js';
import { quantileSorted } from '../shared/stats.js';
import { unlimitedWorkLimits } from '../shared/work-limits.js';
import type { ParsedScenario } from '../twin/index.js';
import { DriftDay, daySeconds, readArrivalTimes } from './drift-day.js';
import { readTrace } from './place-workloads.js';
import { median } from './twin.js';

/** The acceptance bars of issue 14 on the drift benchmark. */
export const driftBars = Object.freeze({ movesShare: 0.25, extraGpuHours: 0.05 });

/** Re-plans every 5 simulated minutes, each from the rates of the 5 minutes before. */
const stepS = 300;

export interface DriftCase {
  name: string;
  day: DriftDay;
  /** second of the day of the first plan */
  startS: number;
  steps: number;
}

/** The research evaluation's engine settings, as in the place suite. */
const researchEngine = { maxNumSeqs: 2048, maxNumBatchedTokens: 2048 };

/** Part of the drift day to run (the re-plan chain always starts at the day's first plan). */
export interface DriftSelection {
  /** one trace only: 'conv' or 'code' */
  trace?: string;
  /** second of the day at which the last plan ends (plans start before it) */
  untilS?: number;
}

/**
 * The drift cases: Llama on H100, 256 adapters (ranks 8/16) over a day of the conversation and the
 * code trace, the load x10 at 16:00 and 30 % of that at 04:00, 10 % of the adapters joining and 10 %
 * leaving during the day. `quick`: the conversation trace with 64 adapters from 04:00 to 10:00 (the
 * trough and the morning ramp).
 */
export function driftCases(traceDir: string, quick: boolean, only: DriftSelection = {}): DriftCase[] {
  const traces = (quick ? ['conv'] : ['conv', 'code']).filter(
    (name) => only.trace === undefined || name === only.trace,
  );
  if (traces.length === 0)
    throw new Error(`drift: no trace "${only.trace}"${quick ? ' with --quick (conv only)' : ''}`);
  return traces.map((name) => {
    const i = name === 'conv' ? 0 : 1;
    const file = join(traceDir, `splitwise_${name}.csv`);
    const day = new DriftDay(readTrace(file, name), readArrivalTimes(file), {
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      adapters: quick ? 64 : 256,
      peakScale: 10,
      troughShare: 0.3,
      troughAtS: 4 * 3600,
      churn: 0.2,
      ranks: [8, 16],
      seed: i + 1,
      engine: researchEngine,
    });
    const startS = quick ? 4 * 3600 : 0;
    const endS = Math.min(quick ? 10 * 3600 : daySeconds, only.untilS ?? Infinity);
    const steps = Math.max(0, Math.ceil((endS - startS) / stepS));
    return { name: `${name} N=${quick ? 64 : 256}`, day, startS, steps };
  });
}

/** One plan of one method at one step. */
export interface PlanOutcome {
  gpus: number;
  /** adapter-GPU additions relative to the method's previous plan */
  moves: number;
  /** GPUs whose --max-loras or --max-lora-rank changed (a vLLM restart) */
  engineChanges: number;
  /** every GPU met the criterion when the Twin re-simulated it at the window's traffic, and nothing was unplaced */
  meets: boolean;
  gpusMissing: number;
  unplaced: number;
  seconds: number;
}

export interface DriftStep {
  startS: number;
  multiplier: number;
  adapters: number;
  rate: number;
  replan: PlanOutcome & { unchanged: boolean };
  scratch: PlanOutcome;
}

export interface DriftRun {
  name: string;
  hysteresis: number;
  steps: DriftStep[];
}

/**
 * Replays a drift case: at every step the window's workload (verified, the Twin simulating the 300 s
 * the plan serves) is placed from scratch with `place`, and re-placed with `replan` from the previous
 * re-placement (the first step's re-placement is the scratch plan). Moves of the scratch plans are
 * counted the same way, after matching its GPUs to the previous scratch plan's (alignGpus), so its GPU
 * numbering costs it nothing. Each plan's GPUs are then simulated again by the Twin at the window's
 * traffic routed by the plan's weights (what a plan held by the hysteresis really serves).
 */
export async function benchDrift(
  registry: PredictorRegistry,
  c: DriftCase,
  simulate: GpuSimulator,
  workers: number,
  hysteresis: number,
  progress: (line: string) => void = () => {},
): Promise<DriftRun> {
  const steps: DriftStep[] = [];
  let previous: { replan: Placement; scratch: Placement } | null = null;
  for (let k = 0; k < c.steps; k++) {
    const startS = c.startS + k * stepS;
    const workload = parseWorkload({ ...c.day.window(startS, stepS), verify: true });
    const predictor = registry.get(workload.model, workload.gpu);
    const deps = { simulate, parallel: workers, limits: unlimitedWorkLimits };
    const t0 = performance.now();
    const scratch = await place(workload, predictor, deps);
    const t1 = performance.now();
    const replaced: Placement =
      previous === null ? scratch : await replan(workload, predictor, previous.replan, { ...deps, hysteresis });
    const t2 = performance.now();
    const [replanMeets, scratchMeets] = await twinCheck(workload, [replaced, scratch], simulate);
    const scratchMap = previous === null ? null : alignGpus(previous.scratch, scratch);
    steps.push({
      startS,
      multiplier: c.day.multiplier(startS + stepS / 2),
      adapters: workload.adapters.length,
      rate: workload.adapters.reduce((s, a) => s + a.rate, 0),
      replan: {
        ...outcome(
          previous?.replan ?? null,
          replaced,
          replaced.moves?.gpuMap.map((m) => m.previous) ?? null,
          replanMeets!,
          (t2 - t1) / 1000,
        ),
        unchanged: previous !== null && replaced.moves?.count === 0 && replaced.gpus === previous.replan.gpus,
      },
      scratch: outcome(previous?.scratch ?? null, scratch, scratchMap, scratchMeets!, (t1 - t0) / 1000),
    });
    previous = { replan: replaced, scratch };
    if ((k + 1) % 12 === 0 || k + 1 === c.steps) progress(hourLine(c.name, steps));
  }
  return { name: c.name, hysteresis, steps };
}

function outcome(
  before: Placement | null,
  after: Placement,
  previousOf: (number | null)[] | null,
  check: TwinCheck,
  seconds: number,
): PlanOutcome {
  const map = before === null || previousOf === null ? null : previousOf;
  return {
    gpus: after.gpuCount,
    moves: map === null ? 0 : movesBetween(before!, after, map).count,
    engineChanges:
      map === null
        ? 0
        : after.gpus.filter((g, i) => map[i] !== null && engineChanged(before!.gpus[map[i]!]!.engine, g.engine)).length,
    meets: check.gpusMissing === 0 && after.unplaced.length === 0,
    gpusMissing: check.gpusMissing,
    unplaced: after.unplaced.length,
    seconds,
  };
}

const engineChanged = (a: Placement['gpus'][number]['engine'], b: Placement['gpus'][number]['engine']): boolean =>
  a.maxLoras !== b.maxLoras || a.maxLoraRank !== b.maxLoraRank;

interface TwinCheck {
  gpusMissing: number;
}

/** Every plan's GPUs simulated at the window's traffic, as routed by the plan's weights, in one batch. */
async function twinCheck(workload: ParsedWorkload, plans: Placement[], simulate: GpuSimulator): Promise<TwinCheck[]> {
  // the first step's re-placement is the scratch plan itself: simulated once
  const perPlan = plans.map((p, i) => (plans.indexOf(p) < i ? [] : trafficScenarios(workload, p)));
  const results = await simulate(perPlan.flat());
  const criterion = criterionOf(workload);
  let next = 0;
  const checks = perPlan.map((scenarios) => {
    const mine = results.slice(next, next + scenarios.length);
    next += scenarios.length;
    return { gpusMissing: mine.filter((r) => !twinVerdict(r, criterion).met).length };
  });
  return plans.map((p) => checks[plans.indexOf(p)]!);
}

function trafficScenarios(workload: ParsedWorkload, plan: Placement): ParsedScenario[] {
  const index = new Map(workload.adapters.map((a, i) => [a.id, i]));
  const planned = plannedRates(plan);
  const routed = (id: string, share: number): number => {
    const total = planned.get(id) ?? 0;
    const now = workload.adapters[index.get(id)!]!.rate;
    return total > 0 ? (now * share) / total : now;
  };
  return plan.gpus.map((g) => {
    const placed = g.adapters
      .filter((a) => index.has(a.id))
      .map((a) => ({ adapter: index.get(a.id)!, rate: routed(a.id, a.rate) }));
    const scenario = gpuScenarioOf(workload, g.engine, placed);
    return workload.criterion === 'slo' ? { ...scenario, report: { perAdapter: true } } : scenario;
  });
}

export interface MethodSummary {
  gpuHours: number;
  movesMedian: number;
  movesP95: number;
  movesTotal: number;
  engineChanges: number;
  plansMeeting: number;
  plans: number;
  meanSeconds: number;
}

export interface DriftSummary {
  replan: MethodSummary;
  scratch: MethodSummary;
  unchangedByHysteresis: number;
  movesShare: number;
  extraGpuHours: number;
  movesBarMet: boolean;
  gpuHoursBarMet: boolean;
  criterionBarMet: boolean;
}

export function driftSummary(run: DriftRun): DriftSummary {
  const method = (pick: (s: DriftStep) => PlanOutcome): MethodSummary => {
    const moves = run.steps
      .slice(1)
      .map((s) => pick(s).moves)
      .sort((a, b) => a - b);
    return {
      gpuHours: run.steps.reduce((h, s) => h + (pick(s).gpus * stepS) / 3600, 0),
      movesMedian: moves.length > 0 ? median(moves) : 0,
      movesP95: moves.length > 0 ? quantileSorted(moves, 0.95) : 0,
      movesTotal: moves.reduce((n, m) => n + m, 0),
      engineChanges: run.steps.reduce((n, s) => n + pick(s).engineChanges, 0),
      plansMeeting: run.steps.filter((s) => pick(s).meets).length,
      plans: run.steps.length,
      meanSeconds: run.steps.reduce((t, s) => t + pick(s).seconds, 0) / Math.max(1, run.steps.length),
    };
  };
  const replanned = method((s) => s.replan);
  const scratch = method((s) => s.scratch);
  const movesShare =
    scratch.movesTotal > 0 ? replanned.movesTotal / scratch.movesTotal : replanned.movesTotal > 0 ? Infinity : 0;
  const extraGpuHours = replanned.gpuHours / scratch.gpuHours - 1;
  return {
    replan: replanned,
    scratch,
    unchangedByHysteresis: run.steps.filter((s) => s.replan.unchanged).length,
    movesShare,
    extraGpuHours,
    movesBarMet: movesShare <= driftBars.movesShare,
    gpuHoursBarMet: extraGpuHours <= driftBars.extraGpuHours + 1e-12,
    criterionBarMet: replanned.plansMeeting === replanned.plans,
  };
}

const clock = (s: number): string =>
  `${String(Math.floor((s % daySeconds) / 3600)).padStart(2, '0')}` +
  `:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;

function hourLine(name: string, steps: DriftStep[]): string {
  const hour = steps.slice(-12);
  const last = hour[hour.length - 1]!;
  const sum = (f: (s: DriftStep) => number): number => hour.reduce((n, s) => n + f(s), 0);
  return (
    `${name} ${clock(last.startS)}: GPUs ${last.replan.gpus} / ${last.scratch.gpus} (re-placement / ` +
    `scratch), moves this hour ${sum((s) => s.replan.moves)} / ${sum((s) => s.scratch.moves)}`
  );
}

const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
const passFail = (ok: boolean): string => (ok ? 'pass' : 'FAIL');

export function formatDrift(run: DriftRun): string {
  const lines = [
    `drift: ${run.name}, ${run.steps.length} plans every ${stepS / 60} min ` +
      `from ${clock(run.steps[0]?.startS ?? 0)}; re-placement (replan, hysteresis ${run.hysteresis}) vs ` +
      'placement from scratch (place); every plan verified by the Twin ' +
      "(an hour at the window's rates) and re-simulated at its window's traffic",
    '',
    '| hour | load | adapters | req/s | GPUs re-placement | GPUs scratch | ' +
      'moves re-placement | moves scratch | re-placement misses | scratch misses |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (let h = 0; h < run.steps.length; h += 12) {
    const hour = run.steps.slice(h, h + 12);
    const mean = (f: (s: DriftStep) => number): number => hour.reduce((n, s) => n + f(s), 0) / hour.length;
    const sum = (f: (s: DriftStep) => number): number => hour.reduce((n, s) => n + f(s), 0);
    lines.push(
      `| ${clock(hour[0]!.startS)} | ${mean((s) => s.multiplier).toFixed(2)} | ` +
        `${Math.round(mean((s) => s.adapters))} | ${mean((s) => s.rate).toFixed(1)} | ` +
        `${mean((s) => s.replan.gpus).toFixed(1)} | ${mean((s) => s.scratch.gpus).toFixed(1)} | ` +
        `${sum((s) => s.replan.moves)} | ${sum((s) => s.scratch.moves)} | ` +
        `${sum((s) => (s.replan.meets ? 0 : 1))} | ${sum((s) => (s.scratch.meets ? 0 : 1))} |`,
    );
  }
  const s = driftSummary(run);
  const row = (name: string, m: MethodSummary): string =>
    `| ${name} | ${m.gpuHours.toFixed(2)} | ${m.movesMedian.toFixed(0)} | ${m.movesP95.toFixed(1)} | ` +
    `${m.movesTotal} | ${m.engineChanges} | ${m.plansMeeting}/${m.plans} | ${m.meanSeconds.toFixed(2)} |`;
  lines.push(
    '',
    '| method | GPU-hours | moves per re-plan: median | p95 | total | ' +
      'engine changes | plans meeting the criterion | s per plan |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    row('re-placement', s.replan),
    row('from scratch', s.scratch),
    '',
    `re-plans answered unchanged by the hysteresis: ${s.unchangedByHysteresis} of ${Math.max(0, run.steps.length - 1)}`,
    `bar: re-placement moves <= ${pct(driftBars.movesShare)} of ` +
      `scratch's: ${pct(s.movesShare)} (${s.replan.movesTotal} / ${s.scratch.movesTotal}) ${passFail(s.movesBarMet)}`,
    `bar: re-placement GPU-hours <= scratch's + ${pct(driftBars.extraGpuHours)}: ` +
      `${s.extraGpuHours >= 0 ? '+' : ''}${pct(s.extraGpuHours)} (${s.replan.gpuHours.toFixed(2)}` +
      ` / ${s.scratch.gpuHours.toFixed(2)}) ${passFail(s.gpuHoursBarMet)}`,
    'bar: every re-placement plan meets its criterion in the ' +
      `Twin: ${s.replan.plansMeeting}/${s.replan.plans} ${passFail(s.criterionBarMet)} ` +
      `(from scratch: ${s.scratch.plansMeeting}/${s.scratch.plans})`,
  );
  return lines.join('\n');
}

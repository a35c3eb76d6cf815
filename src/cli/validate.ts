import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AppError } from '../shared/errors.js';
import { parseScenario } from '../twin/index.js';
import { operatorLoadTtftMs, readRealRuns, scenarioOf } from '../validation/real-runs.js';
import { readReferenceTwin } from '../validation/reference-twin.js';
import { buildReport, formatReport, type RunComparison } from '../validation/report.js';
import { casesOf } from '../validation/predictor-cases.js';
import { compareKvTable, formatKvComparison } from '../validation/kv-table.js';
import type { ProfileStore } from '../profiles/index.js';
import { PredictorRegistry } from '../ml/registry.js';
import { evaluate } from '../ml/evaluate.js';
import { intOption, optionalNumber, parseCommandArgs, quietOption, requireOption } from './args.js';
import { replayScenarios } from './replay-runs.js';
import { commandProfiles, profilesOption } from './profiles-option.js';

export async function runValidate(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('validate', argv, {
    runs: { type: 'string' },
    'vllm-run': { type: 'string' },
    model: { type: 'string' },
    'max-makespan-error': { type: 'string' },
    'max-tpot-error': { type: 'string' },
    'max-ttft-error': { type: 'string' },
    reference: { type: 'string' },
    gpu: { type: 'string' },
    seed: { type: 'string', default: '0' },
    workers: { type: 'string' },
    json: { type: 'string' },
    'max-ttft-smape': { type: 'string' },
    'min-memory-errors': { type: 'string' },
    'kv-table': { type: 'string' },
    'max-kv-error': { type: 'string' },
    'kv-from-run': { type: 'boolean' },
    'max-throughput-smape': { type: 'string' },
    'max-predictor-smape': { type: 'string' },
    'min-starvation-f1': { type: 'string' },
    ...profilesOption,
    ...quietOption,
  });
  const vllmRun = values['vllm-run'];
  if (vllmRun !== undefined) {
    const tableOnly = [
      'runs',
      'reference',
      'workers',
      'max-throughput-smape',
      'max-predictor-smape',
      'min-starvation-f1',
    ];
    for (const flag of tableOnly)
      if (values[flag as keyof typeof values] !== undefined)
        throw new AppError('invalidInput', `--${flag}: not with --vllm-run`);
    const { runVllmRunValidation } = await import('./validate-vllm-run.js');
    return runVllmRunValidation({
      dir: vllmRun,
      model: requireOption(values.model, '--model', 'the profile to replay the run with'),
      gpu: requireOption(values.gpu, '--gpu', 'the profile to replay the run with'),
      profiles: commandProfiles(values),
      kv: values['kv-from-run'] ? 'run' : 'profile',
      seed: intOption(values.seed, '--seed', 0),
      json: values.json,
      maxMakespanError: optionalNumber(values['max-makespan-error'], '--max-makespan-error', 'positive'),
      maxTpotError: optionalNumber(values['max-tpot-error'], '--max-tpot-error', 'positive'),
      maxTtftError: optionalNumber(values['max-ttft-error'], '--max-ttft-error', 'positive'),
    });
  }
  const runsOnly = ['model', 'max-makespan-error', 'max-tpot-error', 'max-ttft-error', 'kv-from-run'] as const;
  for (const flag of runsOnly)
    if (values[flag] !== undefined) throw new AppError('invalidInput', `--${flag}: only with --vllm-run`);
  const gpu = values.gpu ?? 'h100-64gb';
  const runsFile = requireOption(values.runs, '--runs', 'a table in the format of dt_validation_real_runs.csv');
  if (!existsSync(runsFile)) throw new AppError('invalidInput', `--runs: ${runsFile} does not exist`);
  const seed = intOption(values.seed, '--seed', 0);
  const limit = optionalNumber(values['max-throughput-smape'], '--max-throughput-smape', 'positive');
  const predictorLimit = optionalNumber(values['max-predictor-smape'], '--max-predictor-smape', 'positive');
  const minF1 = optionalNumber(values['min-starvation-f1'], '--min-starvation-f1', 'positive');
  const ttftLimit = optionalNumber(values['max-ttft-smape'], '--max-ttft-smape', 'positive');
  const minMemoryErrors =
    values['min-memory-errors'] === undefined
      ? undefined
      : intOption(values['min-memory-errors'], '--min-memory-errors', 0);
  const runs = readRealRuns(runsFile);
  if (runs.length === 0) throw new AppError('dataFile', `${runsFile}: no runs with results or errors`);
  const referenceFile =
    values.reference ?? join(dirname(runsFile), 'reference-twin-outputs', 'dt_validation_dt_outputs_mean_version.csv');
  const reference = existsSync(referenceFile) ? readReferenceTwin(referenceFile) : new Map();
  const profiles = commandProfiles(values);
  const scenarios = runs.map((run) => {
    const s = parseScenario(scenarioOf(run, gpu, seed));
    profiles.get(s.model, s.gpu);
    return s;
  });
  const started = Date.now();
  const sims = await replayScenarios(scenarios, 'validate: Twin replays', profiles, values);
  const wallS = (Date.now() - started) / 1000;
  const comparisons: RunComparison[] = runs.map((run, i) => ({
    run,
    sim: sims[i]!,
    reference: reference.get(run.key),
  }));
  const models = [...new Set(runs.map((r) => r.model))].sort();
  const predictors = PredictorRegistry.fromDirectory(profiles);
  const reports = models.map((m) => {
    const report = buildReport(m, comparisons);
    const predictor = predictors.list().find((p) => p.profile.model === m && p.profile.gpu === gpu);
    if (predictor) {
      const predict = (x: ArrayLike<number>) => predictor.predictFeatures(x);
      const operatorLoad = runs.filter((r) => r.real !== null && r.real.ttftMs < operatorLoadTtftMs);
      report.predictor = {
        version: predictor.version,
        metrics: evaluate(casesOf(predictor.profile, runs), predict),
        operatorLoad: evaluate(casesOf(predictor.profile, operatorLoad), predict),
      };
    }
    return report;
  });
  process.stdout.write(`${formatReport(reports)}\n${runs.length} runs replayed in ${wallS.toFixed(1)} s wall\n`);
  if (values.json) {
    const perRun = comparisons.map((c) => ({
      key: c.run.key,
      real: c.run.real,
      memoryError: { real: c.run.errorClass || null, twin: c.sim.memoryError },
      twin: {
        throughput: c.sim.throughput.total,
        idealThroughput: c.sim.idealThroughput,
        starved: c.sim.starved,
        ttftMs: c.sim.ttftMs?.mean ?? null,
        ttftP50Ms: c.sim.ttftMs?.p50 ?? null,
        ttftP99Ms: c.sim.ttftMs?.p99 ?? null,
        itlMs: c.sim.itlMs?.mean ?? null,
        itlP99Ms: c.sim.itlMs?.p99 ?? null,
        tpotMs: c.sim.tpotMs?.mean ?? null,
        completed: c.sim.completedRequests,
        arrived: c.sim.arrivedRequests,
        rejected: c.sim.rejectedRequests,
        preemptions: c.sim.preemptions,
        meanRunning: c.sim.meanRunning,
        wallMs: c.sim.wallMs,
      },
      reference: c.reference ?? null,
    }));
    writeFileSync(values.json, `${JSON.stringify({ wallS, reports, runs: perRun }, null, 2)}\n`);
  }
  const failures: string[] = [];
  for (const r of reports) {
    if (limit !== undefined && r.twin.throughput.research > limit)
      failures.push(`Twin throughput SMAPE ${r.twin.throughput.research.toFixed(2)} % > ${limit} % for ${r.model}`);
    const m = r.predictor?.metrics;
    if ((predictorLimit !== undefined || minF1 !== undefined) && !m) failures.push(`no predictor for ${r.model}`);
    if (m && predictorLimit !== undefined && m.throughput.smapeResearch > predictorLimit)
      failures.push(
        `predictor throughput SMAPE ${m.throughput.smapeResearch.toFixed(2)} % > ${predictorLimit} % for ${r.model}`,
      );
    if (m && minF1 !== undefined && m.starved.macroF1 < minF1)
      failures.push(`predictor starvation macro-F1 ${m.starved.macroF1.toFixed(3)} < ${minF1} for ${r.model}`);
  }
  for (const r of reports) {
    if (ttftLimit !== undefined && r.twin.ttft.research > ttftLimit)
      failures.push(`Twin TTFT SMAPE ${r.twin.ttft.research.toFixed(2)} % > ${ttftLimit} % for ${r.model}`);
  }
  if (minMemoryErrors !== undefined) {
    const caught = reports.reduce((n, r) => n + r.memoryErrors.real - r.memoryErrors.falseNegatives, 0);
    const falseAlarms = reports.reduce((n, r) => n + r.memoryErrors.falsePositives, 0);
    if (caught < minMemoryErrors) failures.push(`memory errors: ${caught} caught < ${minMemoryErrors}`);
    if (falseAlarms > 0) failures.push(`memory errors: ${falseAlarms} false alarm(s)`);
  }
  if (values['kv-table']) failures.push(...kvTableCheck(values['kv-table'], profiles, gpu, values['max-kv-error']));
  for (const f of failures) process.stderr.write(`${f}\n`);
  return failures.length > 0 ? 1 : 0;
}

/** --kv-table FILE [--max-kv-error PCT]: the profiles' KV capacity at every point of a mem_max_table.csv. */
function kvTableCheck(file: string, profiles: ProfileStore, gpu: string, limit: string | undefined): string[] {
  if (!existsSync(file)) throw new AppError('invalidInput', `--kv-table: ${file} does not exist`);
  const limitPct = optionalNumber(limit, '--max-kv-error', 'positive');
  const rows = compareKvTable(file, profiles, gpu);
  process.stdout.write(`${formatKvComparison(rows, limitPct ?? 3)}\n`);
  const failures: string[] = [];
  const over = rows.filter((r) => r.errorPct !== null && Math.abs(r.errorPct) > (limitPct ?? Infinity));
  if (limitPct !== undefined && over.length > 0)
    failures.push(`KV capacity: ${over.length} point(s) beyond ${limitPct} % of ${file}`);
  return failures;
}

import { existsSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PredictorRegistry } from '../ml/registry.js';
import type { Predictor } from '../ml/predictor.js';
import { AppError } from '../shared/errors.js';
import { parseScenario, type SimulationResult } from '../twin/index.js';
import { latencyBoundFactors } from '../twin/latency-bound-factors.js';
import type { BoundEstimator, LatencyBoundFactors, RegimeFactors } from '../twin/latency-bounds.js';
import {
  factorsModule,
  fitFactors,
  leaveOneWorkloadOut,
  scoreBounds,
  type BoundCase,
} from '../validation/bound-calibration.js';
import { boundRuns, studentBoundCase, twinBoundCase } from '../validation/bound-cases.js';
import { formatFactors, formatScores } from '../validation/bound-report.js';
import { readRealRuns, scenarioOf, type RealRun } from '../validation/real-runs.js';
import { intOption, parseCommandArgs, quietOption, requireOption } from './args.js';
import { replayScenarios } from './replay-runs.js';
import { commandProfiles, profilesOption } from './profiles-option.js';

/** The coverage the bounds are calibrated for. */
const coverage = 0.9;
// src/cli/ and dist/cli/ alike: the source file, which a build then compiles
const factorsFile = fileURLToPath(new URL('../../src/twin/latency-bound-factors.ts', import.meta.url));

/** `bounds calibrate`: fit the latency bounds' factors on real runs, score them, write or check the constants. */
export async function runBounds(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'calibrate')
    throw new AppError('invalidInput', `bounds: unknown subcommand "${sub ?? ''}" (expected: bounds calibrate)`);
  const { values } = parseCommandArgs('bounds calibrate', rest, {
    runs: { type: 'string' },
    score: { type: 'string' },
    gpu: { type: 'string', default: 'h100-64gb' },
    seed: { type: 'string', default: '0' },
    workers: { type: 'string' },
    check: { type: 'boolean', default: false },
    json: { type: 'string' },
    ...profilesOption,
    ...quietOption,
  });
  const runsFile = requireOption(values.runs, '--runs', 'the tail-calibration runs, ml_test_shared_real_runs.csv');
  for (const [flag, file] of [
    ['--runs', runsFile],
    ['--score', values.score],
  ] as const)
    if (file !== undefined && !existsSync(file)) throw new AppError('invalidInput', `${flag}: ${file} does not exist`);
  const gpu = values.gpu;
  const seed = intOption(values.seed, '--seed', 0);
  const profiles = commandProfiles(values);
  const predictors = PredictorRegistry.fromDirectory(profiles);
  const studentsOf = (model: string): Predictor | undefined =>
    predictors.list().find((p) => p.profile.model === model && p.profile.gpu === gpu);
  const fit = boundRuns(readRealRuns(runsFile));
  if (fit.length === 0) throw new AppError('dataFile', `${runsFile}: no runs at operator load`);
  const scored = values.score ? boundRuns(readRealRuns(values.score)) : [];
  const started = Date.now();
  const sims = await replay([...fit, ...scored], gpu, seed, profiles, values);
  const casesOf = (runs: RealRun[], offset: number) => ({
    twin: runs.map((r, i) => twinBoundCase(r, sims[offset + i]!)),
    students: runs.flatMap((r) => {
      const p = studentsOf(r.model);
      return p ? [studentBoundCase(r, p)] : [];
    }),
  });
  const fitCases = casesOf(fit, 0);
  const scoredCases = casesOf(scored, fit.length);
  const factors: LatencyBoundFactors = {
    source: `${basename(runsFile)}: ${fit.length} runs at operator load (real mean TTFT < 10 s), gpu ${gpu}`,
    command: `lora-placer bounds calibrate --runs ${basename(runsFile)}`,
    coverage,
    twin: fitFactors(fitCases.twin, coverage),
    students: withBundleVersions(fitFactors(fitCases.students, coverage), studentsOf),
  };
  const wallS = (Date.now() - started) / 1000;
  const table = report(factors, fitCases, scoredCases, values.score);
  process.stdout.write(`${table}\n${sims.length} runs replayed in ${wallS.toFixed(1)} s wall\n`);
  if (values.json)
    writeFileSync(values.json, `${JSON.stringify({ factors, fit: fitCases, scored: scoredCases }, null, 2)}\n`);
  return values.check ? check(factors) : write(factors);
}

type CasesByEstimator = Record<BoundEstimator, BoundCase[]>;

/** The factors, then per estimator the leave-one-workload-out scores beside the scored file's. */
function report(
  factors: LatencyBoundFactors,
  fit: CasesByEstimator,
  scored: CasesByEstimator,
  scoreFile: string | undefined,
): string {
  const out: string[] = [formatFactors(factors)];
  for (const estimator of ['twin', 'students'] as const) {
    const lowo = leaveOneWorkloadOut(fit[estimator], coverage);
    const own = factors[estimator];
    const validation = scoreBounds(scored[estimator], (c) => own[c.model] ?? own.pooled!);
    out.push(formatScores(estimator, lowo, validation, scoreFile ? basename(scoreFile) : null));
  }
  return out.join('\n\n');
}

/** --check: exit 1 when the committed factors are not what the runs give. */
function check(factors: LatencyBoundFactors): number {
  if (JSON.stringify(factors) === JSON.stringify(latencyBoundFactors)) return 0;
  process.stderr.write(
    'bounds: the committed factors (src/twin/latency-bound-factors.ts) differ from what these runs give; ' +
      'run `lora-placer bounds calibrate` without --check from a checkout to rewrite them\n',
  );
  return 1;
}

function write(factors: LatencyBoundFactors): number {
  if (!existsSync(factorsFile))
    throw new AppError('invalidInput', `bounds calibrate: no ${factorsFile} (not a source checkout); use --check`);
  writeFileSync(factorsFile, factorsModule(factors));
  process.stderr.write(`wrote ${factorsFile} (npm run build compiles it into dist/)\n`);
  return 0;
}

async function replay(
  runs: RealRun[],
  gpu: string,
  seed: number,
  profiles: ReturnType<typeof commandProfiles>,
  values: { workers?: string | undefined; quiet: boolean },
): Promise<SimulationResult[]> {
  const scenarios = runs.map((r) => parseScenario(scenarioOf(r, gpu, seed)));
  return replayScenarios(scenarios, 'bounds: Twin replays', profiles, values);
}

/** The students' factors name the bundle they were fitted on: a retrained bundle needs new ones. */
function withBundleVersions(
  factors: Record<string, RegimeFactors>,
  studentsOf: (model: string) => Predictor | undefined,
): LatencyBoundFactors['students'] {
  return Object.fromEntries(
    Object.entries(factors).map(([model, f]) => {
      const version = studentsOf(model)?.version;
      return [model, version ? { ...f, bundleVersion: version } : f];
    }),
  );
}

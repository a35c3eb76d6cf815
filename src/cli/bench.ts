import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { AppError } from '../shared/errors.js';
// each kind imports its benchmark when it runs (bench cli loads none of the Twin, placement or service code)
import type { SuiteRow } from '../bench/place.js';
import type { BenchSlo, SloSuiteRow } from '../bench/place-slo.js';
import type { DriftRun } from '../bench/drift.js';
import type { PredictorRegistry } from '../ml/registry.js';
import { writeJson } from './io.js';
import { intOption, numberOption, optionalNumber, parseCommandArgs, parseWorkers, quietOption } from './args.js';
import { Progress } from './progress.js';

export async function runBench(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'bench',
    argv,
    {
      repeats: { type: 'string' },
      json: { type: 'boolean', default: false },
      quick: { type: 'boolean', default: false },
      'speed-only': { type: 'boolean', default: false },
      gpu: { type: 'string' },
      data: { type: 'string', default: '../shared/data' },
      workers: { type: 'string' },
      'max-bound-ratio': { type: 'string' },
      'min-saving': { type: 'string' },
      slo: { type: 'boolean', default: false },
      'best-known-s': { type: 'string' },
      'slo-ttft-s': { type: 'string' },
      'fresh-seeds': { type: 'string' },
      hysteresis: { type: 'string', default: '0.1' },
      trace: { type: 'string' },
      until: { type: 'string' },
      duration: { type: 'string', default: '10' },
      connections: { type: 'string', default: '50' },
      baseline: { type: 'string' },
      workloads: { type: 'string', default: '200' },
      'batch-rows': { type: 'string', default: '4' },
      threads: { type: 'string', default: '1' },
      redis: { type: 'string' },
      ...quietOption,
    },
    1,
  );
  const target = positionals[0];
  const defaultRepeats =
    target === 'http' || target === 'robustness' || target === 'sweeps' ? '3' : target === 'cli' ? '15' : '7';
  const repeats = intOption(values.repeats ?? defaultRepeats, '--repeats');
  const cpu = `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, node ${process.version}`;
  if (target === 'predict') {
    const { benchPredict, formatPredictBench } = await import('../bench/predict.js');
    const { embeddedProfiles, PredictorRegistry } = await core();
    const rows = benchPredict(PredictorRegistry.fromDirectory(embeddedProfiles()), 20_000, repeats);
    if (values.json) writeJson(rows, true);
    else process.stdout.write(`${formatPredictBench(rows, repeats)}\n${cpu}\n`);
    return 0;
  }
  if (target === 'place') return benchPlace(values, repeats, cpu);
  if (target === 'estimator') return benchEstimator(values, intOption(values.repeats ?? '3', '--repeats'), cpu);
  if (target === 'drift') return benchDriftDay(values, cpu);
  if (target === 'http') {
    const o = {
      durationS: intOption(values.duration, '--duration'),
      connections: intOption(values.connections, '--connections'),
      repeats,
      refreshWorkloads: 8000,
    };
    const { benchHttp, formatHttpBench } = await import('../bench/http.js');
    const result = await benchHttp(o);
    if (values.json) writeJson(result, true);
    else process.stdout.write(`${formatHttpBench(result, o)}\n${cpu}\n`);
    return 0;
  }
  if (target === 'robustness') {
    const o = { durationS: intOption(values.duration, '--duration'), repeats };
    const { benchRobustness, formatRobustnessBench } = await import('../bench/robustness.js');
    const result = await benchRobustness(o);
    if (values.json) writeJson(result, true);
    else process.stdout.write(`${formatRobustnessBench(result, o)}\n${cpu}\n`);
    return 0;
  }
  if (target === 'cli') return benchCliKind(values.baseline, repeats, values.json, cpu);
  if (target === 'sweeps') return benchSweepsKind(values, target, cpu);
  if (target !== 'twin')
    throw new AppError(
      'invalidInput',
      `bench: unknown target "${target ?? ''}" (available: twin, predict, place, estimator, drift, http, robustness, ` +
        'cli, sweeps)',
    );
  const { benchTwin, formatTwinBench } = await import('../bench/twin.js');
  const rows = benchTwin((await core()).embeddedProfiles(), repeats);
  if (values.json) {
    writeJson(
      rows.map(({ result, ...r }) => ({
        ...r,
        throughputTotal: result.throughput.total,
        completed: result.completedRequests,
        steps: result.steps,
      })),
      true,
    );
  } else {
    process.stdout.write(`${formatTwinBench(rows)}\n${cpu}\n`);
  }
  return 0;
}

async function benchCliKind(
  baseline: string | undefined,
  repeats: number,
  json: boolean,
  cpu: string,
): Promise<number> {
  const { benchCli, cliBuild, formatCliBench, packageRoot } = await import('../bench/cli.js');
  const builds = [cliBuild('this', packageRoot()), ...(baseline ? [cliBuild('baseline', baseline)] : [])];
  const result = await benchCli({ repeats, builds, examplesDir: join(packageRoot(), 'examples') });
  if (json) writeJson(result, true);
  else process.stdout.write(`${formatCliBench(result)}\n${cpu}\n`);
  const missed = result.bars.filter((b) => !b.met);
  for (const b of missed) process.stderr.write(`bench cli: missed ${b.name}\n`);
  return missed.length > 0 ? 1 : 0;
}

interface PlaceFlags {
  json: boolean;
  quick: boolean;
  'speed-only': boolean;
  gpu?: string | undefined;
  data: string;
  workers?: string | undefined;
  'max-bound-ratio'?: string | undefined;
  'min-saving'?: string | undefined;
  slo: boolean;
  'best-known-s'?: string | undefined;
  'slo-ttft-s'?: string | undefined;
  'fresh-seeds'?: string | undefined;
  quiet: boolean;
}

async function benchPlace(flags: PlaceFlags, repeats: number, cpu: string): Promise<number> {
  const { embeddedProfiles, PredictorRegistry, TwinPool } = await core();
  const { benchPlaceSpeed, benchSuiteCase, formatSpeed, formatSuite, speedCases, suiteCases, suiteSummary } =
    await import('../bench/place.js');
  if (flags.slo) {
    const { benchSlos } = await import('../bench/place-slo.js');
    sloOptions(flags, benchSlos);
  }
  const registry = PredictorRegistry.fromDirectory(embeddedProfiles());
  const maxRatio = optionalNumber(flags['max-bound-ratio'], '--max-bound-ratio');
  const minSaving = optionalNumber(flags['min-saving'], '--min-saving');
  const speed = benchPlaceSpeed(registry, repeats, speedCases(flags.gpu));
  if (!flags.json) process.stdout.write(`${formatSpeed(speed)}\n${cpu}\n\n`);
  // the quality suite is the calibrated profiles' (its traces were scaled for them)
  if (flags.gpu !== undefined) {
    if (flags.json) writeJson({ speed }, true);
    return 0;
  }
  const traceDir = join(flags.data, 'traces');
  if (flags['speed-only'] || !existsSync(join(traceDir, 'splitwise_conv.csv'))) {
    if (!flags['speed-only']) process.stdout.write(`${traceDir} not found: quality suite not run\n`);
    if (flags.json) writeJson({ speed }, true);
    return 0;
  }
  const workers = parseWorkers(flags.workers);
  if (flags.slo) return benchPlaceAtSlo(flags, registry, traceDir, workers, speed);
  const pool = new TwinPool(workers);
  const rows: SuiteRow[] = [];
  const cases = suiteCases(traceDir, flags.quick);
  const progress = new Progress('bench place', cases.length, { quiet: flags.quiet });
  try {
    for (const c of cases) {
      rows.push(await benchSuiteCase(registry, c, (s) => pool.run(s), workers));
      progress.update(rows.length, cases.length, `workloads (last: ${c.name})`);
    }
  } finally {
    progress.finish();
    await pool.destroy();
  }
  const summary = suiteSummary(rows);
  if (flags.json) writeJson({ speed, suite: rows, summary }, true);
  else process.stdout.write(`${formatSuite(rows)}\n`);
  const failures: string[] = [];
  if (summary.starved + summary.memoryErrors > 0)
    failures.push(`${summary.starved} starved and ${summary.memoryErrors} memory-error GPUs after verification`);
  if (maxRatio !== undefined && summary.medianBoundRatio > maxRatio)
    failures.push(`median GPUs / lower bound ${summary.medianBoundRatio.toFixed(3)} > ${maxRatio}`);
  if (minSaving !== undefined && summary.medianSavingVsRateBalancing < minSaving)
    failures.push(`median saving vs rate balancing ${summary.medianSavingVsRateBalancing.toFixed(3)} < ${minSaving}`);
  for (const f of failures) process.stderr.write(`bench place: ${f}\n`);
  return failures.length > 0 ? 1 : 0;
}

/** Placement with the Twin estimator vs the predictors, and each answer's GPUs re-simulated with a fresh seed. */
async function benchEstimator(
  flags: { json: boolean; workers?: string | undefined; quiet: boolean },
  repeats: number,
  cpu: string,
): Promise<number> {
  const { embeddedProfiles, PredictorRegistry, TwinPool } = await core();
  const { benchEstimatorCase, estimatorCases, formatEstimatorBench } = await import('../bench/estimator.js');
  const registry = PredictorRegistry.fromDirectory(embeddedProfiles());
  const workers = parseWorkers(flags.workers);
  const pool = new TwinPool(workers);
  const cases = estimatorCases();
  const rows = [];
  const progress = new Progress('bench estimator', cases.length, { quiet: flags.quiet });
  try {
    for (const c of cases) {
      rows.push(...(await benchEstimatorCase(registry, c, repeats, (s) => pool.run(s), workers)));
      progress.update(rows.length / 3, cases.length, `workloads (last: ${c.name})`);
    }
  } finally {
    progress.finish();
    await pool.destroy();
  }
  if (flags.json) writeJson(rows, true);
  else process.stdout.write(`${formatEstimatorBench(rows)}\n${cpu}\n`);
  return 0;
}

/** --slo-ttft-s and --fresh-seeds, checked before any work: the speed cases run first. */
function sloOptions(flags: PlaceFlags, defaults: readonly BenchSlo[]): { slos: BenchSlo[]; freshSeeds: number } {
  const freshSeeds = intOption(flags['fresh-seeds'] ?? '1', '--fresh-seeds');
  if (freshSeeds < 1 || freshSeeds > 10)
    throw new AppError('invalidInput', `--fresh-seeds: expected 1 to 10, got ${freshSeeds}`);
  return { slos: sloTargets(flags['slo-ttft-s'], defaults), freshSeeds };
}

/** --slo-ttft-s 1,2,3: p99 TTFT targets in seconds (p99 ITL 200 ms); default the suite's two. */
function sloTargets(given: string | undefined, defaults: readonly BenchSlo[]): BenchSlo[] {
  if (given === undefined) return [...defaults];
  const targets = given.split(',').map((v) => Number(v.trim()));
  if (targets.length === 0 || targets.length > 5 || targets.some((t) => !Number.isFinite(t) || t < 0.05 || t > 600))
    throw new AppError(
      'invalidInput',
      `--slo-ttft-s: expected 1 to 5 seconds from 0.05 to 600 (e.g. 1,2,3), got "${given}"`,
    );
  return targets.map((t) => ({ ttftP99Ms: Math.round(t * 1000), itlP99Ms: 200 }));
}

async function benchPlaceAtSlo(
  flags: PlaceFlags,
  registry: PredictorRegistry,
  traceDir: string,
  workers: number,
  speed: unknown,
): Promise<number> {
  const given = flags['best-known-s'];
  const { TwinPool } = await core();
  const { suiteCases } = await import('../bench/place.js');
  const { benchSloCase, benchSlos, formatSloSuite, sloSummaries } = await import('../bench/place-slo.js');
  const searchS =
    given === undefined ? (flags.quick ? 0 : 120) : numberOption(given, '--best-known-s', 'non-negative', 'seconds');
  const { slos, freshSeeds } = sloOptions(flags, benchSlos);
  const pool = new TwinPool(workers);
  const rows: SloSuiteRow[] = [];
  const cases = suiteCases(traceDir, flags.quick);
  const total = slos.length * cases.length;
  const progress = new Progress('bench place --slo', total, { quiet: flags.quiet });
  try {
    for (const c of cases) {
      for (const slo of slos) {
        const row = await benchSloCase(registry, c, slo, (s) => pool.run(s), workers, searchS * 1000, freshSeeds);
        rows.push(row);
        // a line per workload, so long runs show progress in CI logs too
        const ours = `ours ${row.ours.gpus}${row.ours.met ? '' : ' (missed)'}`;
        const rateBalancing = `rate balancing ${row.rateBalancing.gpus ?? `>${row.rateBalancing.limit}`}`;
        progress.detail(`${rows.length}/${total} ${c.name} at p99 TTFT ${slo.ttftP99Ms} ms: ${ours}, ${rateBalancing}`);
      }
    }
  } finally {
    progress.finish();
    await pool.destroy();
  }
  const summaries = sloSummaries(rows);
  if (flags.json) writeJson({ speed, sloSuite: rows, summaries }, true);
  else process.stdout.write(`${formatSloSuite(rows)}\n`);
  const failures = summaries.flatMap((s) => [
    ...(s.oursMissing > 0 ? [`ours misses p99 TTFT ${s.slo.ttftP99Ms} ms on ${s.oursMissing} workload(s)`] : []),
    ...(s.freshGpusOver + s.freshStarvedAdapters > 0
      ? [
          `fresh seed at p99 TTFT ${s.slo.ttftP99Ms} ms: ${s.freshGpusOver} GPU(s) ` +
            `over, ${s.freshStarvedAdapters} starved adapter(s)`,
        ]
      : []),
    ...(s.aboveBalancedGrid > 0
      ? [`ours above the best load-balanced spread at p99 TTFT ${s.slo.ttftP99Ms} ms on ${s.aboveBalancedGrid}`]
      : []),
  ]);
  for (const f of failures) process.stderr.write(`bench place --slo: ${f}\n`);
  return failures.length > 0 ? 1 : 0;
}

async function benchDriftDay(
  flags: {
    json: boolean;
    quick: boolean;
    data: string;
    workers?: string | undefined;
    hysteresis: string;
    trace?: string | undefined;
    until?: string | undefined;
    quiet: boolean;
  },
  cpu: string,
): Promise<number> {
  const traceDir = join(flags.data, 'traces');
  if (!existsSync(join(traceDir, 'splitwise_conv.csv')))
    throw new AppError('dataFile', `bench drift: ${traceDir}/splitwise_conv.csv not found (--data DIR)`);
  const hysteresis = numberOption(flags.hysteresis, '--hysteresis');
  const { embeddedProfiles, PredictorRegistry, TwinPool } = await core();
  const { benchDrift, driftCases, driftSummary, formatDrift } = await import('../bench/drift.js');
  const workers = parseWorkers(flags.workers);
  const registry = PredictorRegistry.fromDirectory(embeddedProfiles());
  const pool = new TwinPool(workers);
  const started = Date.now();
  const runs: DriftRun[] = [];
  if (flags.trace !== undefined && !(flags.quick ? ['conv'] : ['conv', 'code']).includes(flags.trace))
    throw new AppError(
      'invalidInput',
      `bench drift: --trace must be conv${flags.quick ? ' with --quick' : ' or code'}`,
    );
  const cases = driftCases(traceDir, flags.quick, {
    ...(flags.trace !== undefined ? { trace: flags.trace } : {}),
    ...(flags.until !== undefined ? { untilS: clockOption(flags.until, '--until') } : {}),
  });
  const progress = new Progress('bench drift', cases.length, { quiet: flags.quiet });
  try {
    for (const c of cases) {
      runs.push(
        await benchDrift(
          registry,
          c,
          (s) => pool.run(s),
          workers,
          hysteresis,
          (line) => progress.detail(line),
        ),
      );
      progress.update(runs.length);
    }
  } finally {
    progress.finish();
    await pool.destroy();
  }
  const summaries = runs.map(driftSummary);
  if (flags.json) writeJson({ runs, summaries }, true);
  else
    process.stdout.write(
      `${runs.map(formatDrift).join('\n\n')}\n${cpu}; ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
    );
  const failed = summaries.some((s) => !(s.movesBarMet && s.gpuHoursBarMet && s.criterionBarMet));
  return failed ? 1 : 0;
}

/** HH:MM (00:00 to 24:00) as seconds of the day. */
function clockOption(value: string, name: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(value);
  const s = m ? Number(m[1]) * 3600 + Number(m[2]) * 60 : Number.NaN;
  if (!m || Number(m[2]) > 59 || !(s > 0 && s <= 24 * 3600))
    throw new AppError('invalidInput', `bench drift: ${name} must be HH:MM after 00:00, up to 24:00, not "${value}"`);
  return s;
}

/** The profiles, the predictors and the Twin's worker pool, loaded by the kinds that use them. */
async function core(): Promise<{
  embeddedProfiles: typeof import('../profiles/index.js').embeddedProfiles;
  PredictorRegistry: typeof import('../ml/registry.js').PredictorRegistry;
  TwinPool: typeof import('../jobs/simulate-pool.js').TwinPool;
}> {
  const [{ embeddedProfiles }, { PredictorRegistry }, { TwinPool }] = await Promise.all([
    import('../profiles/index.js'),
    import('../ml/registry.js'),
    import('../jobs/simulate-pool.js'),
  ]);
  return { embeddedProfiles, PredictorRegistry, TwinPool };
}

/** bench sweeps: 1 vs 2 worker processes on the sweep queue; exit 1 when 2 are not 1.7x faster. */
async function benchSweepsKind(
  values: {
    workloads: string;
    'batch-rows': string;
    threads: string;
    redis?: string | undefined;
    repeats?: string | undefined;
    json: boolean;
    quiet: boolean;
  },
  target: string,
  cpu: string,
): Promise<number> {
  const { sweepQueueAddress } = await import('../training/sweep-queue.js');
  const redisUrl = values.redis === undefined ? undefined : sweepQueueAddress(values.redis, '--redis').url;
  const { benchSweeps, formatSweepBench, sweepBenchBar } = await import('../bench/sweeps.js');
  const o = {
    model: 'qwen-2.5-7b-instruct',
    gpu: 'h100-64gb',
    seed: 1,
    workloads: intOption(values.workloads, '--workloads'),
    repeats: intOption(values.repeats ?? '3', '--repeats'),
    batchRows: intOption(values['batch-rows'], '--batch-rows'),
    threads: intOption(values.threads, '--threads'),
    workerCounts: [1, 2],
    ...(redisUrl ? { redisUrl } : {}),
  };
  const progress = new Progress(`bench ${target}`, o.repeats * o.workerCounts.length, { quiet: values.quiet });
  let runs = 0;
  const result = await benchSweeps({
    ...o,
    onRun: (workers, seconds) => {
      const last = `runs; last: ${workers} worker(s) ${seconds.toFixed(1)} s`;
      progress.update(++runs, o.repeats * o.workerCounts.length, last);
      progress.detail(`${workers} worker(s): ${seconds.toFixed(1)} s`);
    },
  });
  progress.finish();
  if (values.json) writeJson(result, true);
  else process.stdout.write(`${formatSweepBench(result)}\n${cpu}\n`);
  const two = result.rows.find((r) => r.workers === 2)!;
  return two.speedup >= sweepBenchBar && result.sameRows ? 0 : 1;
}

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyOf } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { bundleFiles, PredictorMetadata } from '../ml/bundle.js';
import { writeFlatBundle } from '../ml/bundle-store.js';
import { defaultPredictorsDir } from '../ml/registry.js';
import { openSweepRunner, type SweepRunnerChoice } from '../training/open-sweep-runner.js';
import { maxBatchRows } from '../training/sweep-batch.js';
import { defaultKeyPrefix, sweepQueueAddress } from '../training/sweep-queue.js';
import { trainPredictors } from '../training/train.js';
import { intOption, parseCommandArgs, parseWorkers, quietOption, requireOption } from './args.js';
import { Progress } from './progress.js';
import { readJsonFile } from './io.js';
import { commandProfiles, profilesOption } from './profiles-option.js';

export async function runTrain(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('train', argv, {
    model: { type: 'string' },
    gpu: { type: 'string' },
    tp: { type: 'string' },
    seed: { type: 'string', default: '1' },
    workloads: { type: 'string', default: '8000' },
    runs: { type: 'string' },
    dataset: { type: 'string' },
    workers: { type: 'string' },
    runner: { type: 'string' },
    queue: { type: 'string' },
    'batch-rows': { type: 'string' },
    'worker-wait-s': { type: 'string', default: '60' },
    'teacher-trees': { type: 'string' },
    'dense-samples': { type: 'string' },
    out: { type: 'string' },
    created: { type: 'string' },
    check: { type: 'boolean', default: false },
    ...profilesOption,
    ...quietOption,
  });
  const profiles = commandProfiles(values);
  const profile = profiles.get(
    requireOption(values.model, '--model'),
    requireOption(values.gpu, '--gpu'),
    values.tp === undefined ? undefined : intOption(values.tp, '--tp', 1),
  );
  const key = keyOf(profile);
  const seed = intOption(values.seed, '--seed', 0);
  const workloads = intOption(values.workloads, '--workloads');
  if (values.runs && !existsSync(values.runs))
    throw new AppError('invalidInput', `--runs: ${values.runs} does not exist`);
  const out = values.out ?? join(defaultPredictorsDir, key);
  let created = values.created ?? new Date().toISOString();
  let scratch: string | null = null;
  let datasetFile = values.dataset;
  if (values.check) {
    const existing = PredictorMetadata.parse(readJsonFile(join(out, 'metadata.json')));
    created = values.created ?? existing.created;
    if (!datasetFile) {
      scratch = mkdtempSync(join(tmpdir(), 'lora-placer-train-'));
      datasetFile = join(scratch, 'sweep.jsonl');
    }
  }
  if (!datasetFile) {
    mkdirSync(join('.cache', 'sweeps'), { recursive: true });
    datasetFile = join('.cache', 'sweeps', `${key}-seed${seed}.jsonl`);
  }
  const teacherTrees = values['teacher-trees'] && intOption(values['teacher-trees'], '--teacher-trees');
  const denseSamples = values['dense-samples'] && intOption(values['dense-samples'], '--dense-samples', 100);
  const progress = new Progress(`train: sweep ${key}`, null, { quiet: values.quiet });
  const runner = await openSweepRunner(
    runnerChoice(values, (line) => progress.log(line)),
    profiles,
  );
  const started = Date.now();
  try {
    const bundle = await trainPredictors({
      profile,
      seed,
      workloads,
      datasetFile,
      runner,
      realRunsFile: values.runs ?? null,
      created,
      log: (line) => progress.log(line),
      progress: false,
      onProgress: (done, total) => progress.update(done, total, 'rows'),
      ...(teacherTrees ? { teacherTrees } : {}),
      ...(denseSamples ? { denseSamples } : {}),
    });
    progress.finish();
    const seconds = (Date.now() - started) / 1000;
    if (values.check) {
      let differences = 0;
      for (const [name, text] of bundleFiles(bundle)) {
        const path = join(out, name);
        const same = existsSync(path) && readFileSync(path, 'utf8') === text;
        process.stdout.write(`${same ? 'same' : 'DIFFERENT'}  ${path}\n`);
        if (!same) differences++;
      }
      process.stdout.write(`retrained in ${seconds.toFixed(0)} s\n`);
      return differences > 0 ? 1 : 0;
    }
    for (const path of writeFlatBundle(out, bundle)) process.stdout.write(`wrote ${path}\n`);
    const m = bundle.metadata.metrics;
    process.stdout.write(`trained ${key} (version ${bundle.metadata.version}) in ${seconds.toFixed(0)} s\n`);
    process.stdout.write(
      `  Twin hold-out (${m.twinHoldout.student.rows} rows): student throughput SMAPE ` +
        `${m.twinHoldout.student.throughput.smapeResearch.toFixed(2)} %, starvation macro-F1 ` +
        `${m.twinHoldout.student.starved.macroF1.toFixed(3)}\n`,
    );
    if (m.realRuns) {
      process.stdout.write(
        `  real runs (${m.realRuns.student.rows}): student throughput SMAPE ` +
          `${m.realRuns.student.throughput.smapeResearch.toFixed(2)} %, starvation macro-F1 ` +
          `${m.realRuns.student.starved.macroF1.toFixed(3)}\n`,
      );
    }
    return 0;
  } finally {
    progress.finish();
    await runner.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Where the sweep runs: --queue URL (or --runner queue with REDIS_URL) on the sweep queue that
 * `lora-placer worker` processes and SWEEP_WORKER=1 replicas take jobs from; else local threads.
 */
function runnerChoice(
  values: {
    runner?: string | undefined;
    queue?: string | undefined;
    workers?: string | undefined;
    'batch-rows'?: string | undefined;
    'worker-wait-s': string;
  },
  log: (line: string) => void,
): SweepRunnerChoice {
  const kind = values.runner ?? (values.queue === undefined ? 'local' : 'queue');
  if (kind !== 'local' && kind !== 'queue')
    throw new AppError('invalidInput', `--runner: expected local or queue, got "${kind}"`);
  if (kind === 'local') {
    if (values.queue !== undefined) throw new AppError('invalidInput', '--queue: not with --runner local');
    if (values['batch-rows'] !== undefined)
      throw new AppError('invalidInput', '--batch-rows: only with --queue or --runner queue');
    return { kind, threads: parseWorkers(values.workers) };
  }
  if (values.workers !== undefined)
    throw new AppError('invalidInput', '--workers: not with a queue (each `lora-placer worker` has --concurrency)');
  const flag = values.queue === undefined ? 'REDIS_URL' : '--queue';
  const url = requireOption(values.queue ?? process.env.REDIS_URL, '--queue', 'a redis:// URL, or REDIS_URL');
  return {
    kind,
    address: sweepQueueAddress(url, flag, process.env.REDIS_KEY_PREFIX ?? defaultKeyPrefix),
    ...(values['batch-rows'] === undefined ? {} : { batchRows: batchRowsOption(values['batch-rows']) }),
    workerWaitMs: intOption(values['worker-wait-s'], '--worker-wait-s') * 1000,
    log,
  };
}

function batchRowsOption(value: string): number {
  const n = intOption(value, '--batch-rows');
  if (n > maxBatchRows) throw new AppError('invalidInput', `--batch-rows: at most ${maxBatchRows}, got ${n}`);
  return n;
}

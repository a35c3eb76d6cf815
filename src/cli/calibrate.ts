import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { calibrate } from '../profiles/calibration/calibrate.js';
import { defaultProfilesDir } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { sharegptTables } from '../twin/index.js';
import { parseCommandArgs, requireOption } from './args.js';

/** Options of calibrate --bench (refit a profile to stock-vLLM benchmarks: src/cli/calibrate-bench.ts). */
export const benchOptions = {
  bench: { type: 'string', multiple: true },
  profile: { type: 'string' },
  from: { type: 'string' },
  'max-loras': { type: 'string' },
  'max-lora-rank': { type: 'string' },
  'max-cpu-loras': { type: 'string' },
  'max-num-seqs': { type: 'string' },
  'max-num-batched-tokens': { type: 'string' },
  adapters: { type: 'string' },
  'lora-assignment': { type: 'string' },
  seed: { type: 'string' },
} as const;

// --max-model-len is shared: MODEL=TOKENS with tables, the server's TOKENS with --bench
const tableOptions = ['data', 'gpu', 'model', 'mixed-runs-model', 'check'] as const;

export async function runCalibrate(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'calibrate',
    argv,
    {
      data: { type: 'string' },
      gpu: { type: 'string' },
      model: { type: 'string', multiple: true },
      'max-model-len': { type: 'string', multiple: true },
      'mixed-runs-model': { type: 'string' },
      out: { type: 'string' },
      check: { type: 'boolean', default: false },
      ...benchOptions,
    },
    Number.MAX_SAFE_INTEGER,
  );
  if (values.bench !== undefined) {
    const mixed = tableOptions.find((o) => (o !== 'check' ? values[o] !== undefined : values.check));
    if (mixed) throw new AppError('invalidInput', `calibrate: --${mixed} is for measurement tables, not with --bench`);
    const { runCalibrateBench } = await import('./calibrate-bench.js');
    return runCalibrateBench(values, [...values.bench, ...positionals]);
  }
  const stray = (Object.keys(benchOptions) as (keyof typeof benchOptions)[]).find((o) => values[o] !== undefined);
  if (stray) throw new AppError('invalidInput', `calibrate: --${stray} goes with --bench FILE...`);
  if (positionals.length > 0)
    throw new AppError('invalidInput', `calibrate: "${positionals[0]}": files are read with --bench FILE...`);
  const data = requireOption(values.data, '--data', 'directory of measurement tables');
  const gpu = requireOption(values.gpu, '--gpu', 'name of the GPU the tables were measured on, e.g. h100-64gb');
  const maxModelLen: Record<string, number> = {};
  for (const spec of values['max-model-len'] ?? []) {
    const [m, n] = spec.split('=');
    const v = Number(n);
    if (!m || !Number.isInteger(v) || v <= 0)
      throw new AppError('invalidInput', `--max-model-len: expected MODEL=TOKENS, got "${spec}"`);
    maxModelLen[m] = v;
  }
  const shapes = sharegptTables();
  let sum = 0;
  let sumSq = 0;
  for (const o of shapes.output.values) {
    sum += o;
    sumSq += o * o;
  }
  const outcome = calibrate({
    dataDir: data,
    gpu,
    ...(values.model ? { models: values.model } : {}),
    maxModelLen,
    ...(values['mixed-runs-model'] ? { mixedRunsModel: values['mixed-runs-model'] } : {}),
    // vLLM's benchmark_serving always applies its ShareGPT filter; a decoder's context holds, weighted
    // by how long it runs, half its output
    mixedShape: { promptMean: shapes.prompt.mean, outputMean: shapes.output.mean, outputContext: sumSq / (2 * sum) },
  });
  for (const w of outcome.warnings) process.stderr.write(`warning: ${w}\n`);
  const out = values.out ?? defaultProfilesDir;
  let differences = 0;
  for (const p of outcome.profiles) {
    const file = join(out, `${p.model}@${p.gpu}.json`);
    const text = `${JSON.stringify(p, null, 2)}\n`;
    if (values.check) {
      const { readFileSync, existsSync } = await import('node:fs');
      const same = existsSync(file) && readFileSync(file, 'utf8') === text;
      process.stdout.write(`${same ? 'same' : 'DIFFERENT'}  ${file}\n`);
      if (!same) differences++;
    } else {
      mkdirSync(out, { recursive: true });
      writeFileSync(file, text);
      process.stdout.write(`wrote ${file}\n`);
    }
    summarizeProfile(p);
  }
  return differences > 0 ? 1 : 0;
}

function summarizeProfile(p: import('../profiles/index.js').Profile): void {
  const b = p.forward.base;
  const l = p.forward.lora;
  const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(100 * x).toFixed(1)} %`);
  process.stdout.write(
    [
      `  ${p.model}@${p.gpu}: maxModelLen ${p.maxModelLen}, KV fit rms ${p.kvCapacity.fit.rmsError.toFixed(0)} tokens`,
      `  base step  ${b.constantMs.toFixed(2)} ms + ${b.perDecodeMs.toFixed(4)}/decode + ` +
        `${b.perContextKiloTokenMs.toFixed(4)}/kctx + ${b.perPrefillTokenMs.toFixed(5)}/prefill token  (rms ` +
        `${pct(b.fit.rmsRelativeError)})`,
      `  LoRA       ${l.enabledMs.toFixed(2)} + ${l.firstAdapterMs.toFixed(2)} + ` +
        `slots*(${l.perSlotMs.toFixed(4)} + ${l.perSlotDecodeMs.toExponential(2)}*decodes + ` +
        `${l.perSlotPrefillTokenMs.toExponential(2)}*prefill)*tile + ${l.perAdapterMs.toFixed(3)}*adapters, tile ` +
        `+${pct(l.rankTileFactor)}  (rms ${pct(l.fit.rmsRelativeError)})`,
      `  scheduler  ${p.scheduler.constantMs.toFixed(3)} + ${p.scheduler.perRunningMs.toExponential(2)}*running ` +
        `+ ${p.scheduler.perWaitingMs.toExponential(2)}*waiting + ` +
        `${p.scheduler.perSkippedMs.toExponential(2)}*skipped ms`,
      `  loads      disk ${p.adapterLoad.diskToCpuMsPerRank.toFixed(3)} ms/rank, frontend ` +
        `${p.frontend.ttftOverheadMs.toFixed(2)} ms`,
      '',
    ].join('\n'),
  );
}

import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { embeddedProfiles } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { benchTwin, formatTwinBench } from '../bench/twin.js';
import { benchPredict, formatPredictBench } from '../bench/predict.js';
import { PredictorRegistry } from '../ml/registry.js';
import { writeJson } from './io.js';

export const benchHelp = `bench twin|predict [--repeats N] [--json]   benchmark tables: Twin speed, prediction cost`;

export async function runBench(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { repeats: { type: 'string', default: '7' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true,
  });
  const target = positionals[0];
  const repeats = Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) throw new AppError('invalidInput', `--repeats: expected a positive integer, got "${values.repeats}"`);
  const cpu = `machine: ${cpus()[0]?.model ?? 'unknown CPU'}, node ${process.version}`;
  if (target === 'predict') {
    const rows = benchPredict(PredictorRegistry.fromDirectory(embeddedProfiles()), 20_000, repeats);
    if (values.json) writeJson(rows, true);
    else process.stdout.write(`${formatPredictBench(rows, repeats)}\n${cpu}\n`);
    return 0;
  }
  if (target !== 'twin') throw new AppError('invalidInput', `bench: unknown target "${target ?? ''}" (available: twin, predict)`);
  const rows = benchTwin(embeddedProfiles(), repeats);
  if (values.json) {
    writeJson(rows.map(({ result, ...r }) => ({ ...r, throughputTotal: result.throughput.total, completed: result.completedRequests, steps: result.steps })), true);
  } else {
    process.stdout.write(`${formatTwinBench(rows)}\n${cpu}\n`);
  }
  return 0;
}

import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { embeddedProfiles } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { benchTwin, formatTwinBench } from '../bench/twin.js';
import { writeJson } from './io.js';

export const benchHelp = `bench twin [--repeats N] [--json]   benchmark tables: the Twin's simulated seconds per wall second`;

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
  if (target !== 'twin') throw new AppError('invalidInput', `bench: unknown target "${target ?? ''}" (available: twin)`);
  const rows = benchTwin(embeddedProfiles(), repeats);
  if (values.json) {
    writeJson(rows.map(({ result, ...r }) => ({ ...r, throughputTotal: result.throughput.total, completed: result.completedRequests, steps: result.steps })), true);
  } else {
    const cpu = cpus()[0]?.model ?? 'unknown CPU';
    process.stdout.write(`${formatTwinBench(rows)}\nmachine: ${cpu}, node ${process.version}\n`);
  }
  return 0;
}

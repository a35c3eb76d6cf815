import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { embeddedProfiles, loadProfileFile, type Profile } from '../profiles/index.js';
import type { BenchData } from '../refit/bench-run.js';
import { figureLabels } from '../refit/figures.js';
import { loadBench, type CommandLineServer } from '../refit/load-bench.js';
import { pct, refitProfile, signedPct, type RefitOutcome } from '../refit/refit.js';
import { AppError } from '../shared/errors.js';
import { AdapterId } from '../twin/index.js';
import { intOption, requireOption } from './args.js';
import { ExitCode } from './exit-codes.js';

interface BenchValues {
  out?: string | undefined;
  profile?: string | undefined;
  from?: string | undefined;
  'max-loras'?: string | undefined;
  'max-lora-rank'?: string | undefined;
  'max-cpu-loras'?: string | undefined;
  'max-model-len'?: string[] | undefined;
  'max-num-seqs'?: string | undefined;
  'max-num-batched-tokens'?: string | undefined;
  adapters?: string | undefined;
  'lora-assignment'?: string | undefined;
  seed?: string | undefined;
}

/**
 * calibrate --bench FILE...: refits a profile's few constants to stock-vLLM benchmarks (src/refit/refit.ts),
 * prints what moved and the residuals before and after, and writes the refitted profile unless it is refused
 * (exit 1, nothing written).
 */
export async function runCalibrateBench(values: BenchValues, files: string[]): Promise<number> {
  if (files.length === 0) throw new AppError('invalidInput', 'calibrate --bench: no file given');
  const out = requireOption(values.out, '--out', 'directory to write the refitted profile to');
  const start = startingProfile(values);
  const data = loadBench(files, serverFlags(values));
  const seed = values.seed === undefined ? 0 : intOption(values.seed, '--seed', 0);
  const outcome = refitProfile(start, data, seed);
  process.stdout.write(report(start, data, outcome));
  if (outcome.refused) {
    process.stderr.write(`lora-placer: calibrate --bench refused the fit: ${outcome.refused}\n`);
    return ExitCode.failure;
  }
  mkdirSync(out, { recursive: true });
  const file = join(out, `${outcome.profile.model}@${outcome.profile.gpu}.json`);
  writeFileSync(file, `${JSON.stringify(outcome.profile, null, 2)}\n`);
  process.stdout.write(`wrote ${file}\n`);
  return ExitCode.ok;
}

function startingProfile(values: BenchValues): Profile {
  if (values.from !== undefined && values.profile !== undefined)
    throw new AppError('invalidInput', 'calibrate --bench: --profile or --from, not both');
  if (values.from !== undefined) return loadProfileFile(values.from);
  const name = requireOption(values.profile, '--profile', 'MODEL@GPU to start from, or --from PROFILE.json');
  const at = name.lastIndexOf('@');
  if (at <= 0 || at === name.length - 1)
    throw new AppError('invalidInput', `--profile: expected MODEL@GPU, got ${JSON.stringify(name)}`);
  return embeddedProfiles().get(name.slice(0, at), name.slice(at + 1));
}

function serverFlags(values: BenchValues): CommandLineServer {
  const int = (flag: Exclude<keyof BenchValues, 'max-model-len'>): number | undefined =>
    values[flag] === undefined ? undefined : intOption(values[flag]!, `--${flag}`);
  const flags: CommandLineServer = {};
  const set = <K extends keyof CommandLineServer>(key: K, v: CommandLineServer[K] | undefined): void => {
    if (v !== undefined) flags[key] = v;
  };
  set('maxLoras', int('max-loras'));
  set('maxLoraRank', int('max-lora-rank'));
  set('maxCpuLoras', int('max-cpu-loras'));
  const lens = values['max-model-len'] ?? [];
  if (lens.length > 1) throw new AppError('invalidInput', '--max-model-len: one value with --bench');
  set('maxModelLen', lens[0] === undefined ? undefined : intOption(lens[0], '--max-model-len'));
  set('maxNumSeqs', int('max-num-seqs'));
  set('maxNumBatchedTokens', int('max-num-batched-tokens'));
  if (values.adapters !== undefined) flags.adapters = parseAdapters(values.adapters);
  const assignment = values['lora-assignment'];
  if (assignment !== undefined) {
    if (assignment !== 'random' && assignment !== 'round-robin')
      throw new AppError('invalidInput', `--lora-assignment: random or round-robin, got ${JSON.stringify(assignment)}`);
    flags.loraAssignment = assignment;
  }
  return flags;
}

/** --adapters NAME:RANK,NAME:RANK,... (the --lora-modules the server was started with, in that order). */
function parseAdapters(text: string): { id: string; rank: number }[] {
  return text.split(',').map((item) => {
    const at = item.lastIndexOf(':');
    const id = item.slice(0, at);
    if (at <= 0 || !AdapterId.safeParse(id).success)
      throw new AppError('invalidInput', `--adapters: expected NAME:RANK,..., got ${JSON.stringify(item)}`);
    const rank = intOption(item.slice(at + 1), `--adapters (rank of ${id})`);
    if (rank > 512) throw new AppError('invalidInput', `--adapters: rank of ${id} above 512`);
    return { id, rank };
  });
}

/** A path as short as it reads well: relative to the working directory when below it. */
function shown(file: string): string {
  const r = relative(process.cwd(), file);
  return r === '' || r.startsWith('..') ? file : r;
}

function report(start: Profile, data: BenchData, o: RefitOutcome): string {
  const lines: string[] = [];
  lines.push(
    `calibrate --bench: ${start.model}@${start.gpu} refitted to ${data.runs.length} run(s) on ` +
      `${data.servers.length} server(s)`,
  );
  const c = o.counts;
  lines.push(
    `  engine steps   ${c.steps} seen, ${c.decodeOnly + c.withPrefill} readable (${c.decodeOnly} decode-only, ` +
      `${c.withPrefill} with prompts)${o.stepFit ? `, ${o.stepFit.rows} fitted, ${o.stepFit.trimmed} trimmed` : ''}`,
  );
  if (o.stepFit) {
    const f = o.stepFit;
    lines.push(
      f.method === 'steps'
        ? `  step model     rms residual ${f.rmsErrorMs.toFixed(3)} ms per step (${pct(f.rmsRelativeError)})`
        : `  step model     by replaying the runs (no token timelines): rms relative residual of their ` +
            `figures ${pct(f.rmsRelativeError)}`,
    );
    lines.push(`    ${'term'.padEnd(24)}${'start'.padStart(12)}${'refitted'.padStart(12)}${'change'.padStart(10)}`);
    for (const r of f.refitted) {
      const change = r.start === 0 ? '' : signedPct(r.fitted / r.start - 1);
      lines.push(
        `    ${r.key.padEnd(24)}${num(r.start).padStart(12)}${num(r.fitted).padStart(12)}${change.padStart(10)}`,
      );
    }
    for (const k of f.kept) lines.push(`    ${k.key.padEnd(24)}kept: ${k.reason}`);
  } else lines.push('  step model     kept: no run has token timelines or per-request times');
  if (o.kvFit) {
    const k = o.kvFit;
    lines.push(
      `  KV capacity    ${k.offsetTokens >= 0 ? '+' : ''}${Math.round(k.offsetTokens)} tokens at every setting` +
        (k.perSlotRankTokens !== 0 ? `, ${k.perSlotRankTokens.toFixed(3)} fewer per slot and unit of rank` : ''),
    );
    lines.push(
      `    ${'server'.padEnd(40)}${'slots'.padStart(6)}${'rank'.padStart(6)}${'logged'.padStart(10)}` +
        `${'start'.padStart(10)}${'refitted'.padStart(10)}`,
    );
    for (const p of k.points)
      lines.push(
        `    ${shown(p.server).padEnd(40)}${String(p.slots).padStart(6)}${String(p.rank).padStart(6)}` +
          `${String(p.measured).padStart(10)}${String(p.start).padStart(10)}${String(p.fitted).padStart(10)}`,
      );
  } else lines.push('  KV capacity    kept: no server log with a "GPU KV cache size" line');
  lines.push('residuals (simulated - measured) / measured: starting profile, refitted');
  lines.push(
    `    ${'run'.padEnd(40)}${'figure'.padEnd(14)}${'measured'.padStart(12)}${'start'.padStart(11)}` +
      `${'refitted'.padStart(11)}`,
  );
  for (const r of o.residuals) {
    const unit = r.figure === 'outputTokensPerS' ? '' : ' ms';
    const rel = (v: number | null): string => (v === null ? 'no start' : signedPct(v));
    lines.push(
      `    ${shown(r.run).padEnd(40)}${figureLabels[r.figure].padEnd(14)}` +
        `${`${r.measured.toFixed(1)}${unit}`.padStart(12)}${rel(r.start).padStart(11)}${rel(r.fitted).padStart(11)}`,
    );
  }
  lines.push(`    ${'root-mean-square'.padEnd(66)}${pct(o.startError).padStart(11)}${pct(o.fittedError).padStart(11)}`);
  return `${lines.join('\n')}\n`;
}

function num(v: number): string {
  return Math.abs(v) >= 0.01 || v === 0 ? v.toFixed(4) : v.toExponential(3);
}

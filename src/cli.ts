#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import {
  benchHelp,
  calibrateHelp,
  placeHelp,
  predictHelp,
  profileHelp,
  profilesHelp,
  serveHelp,
  simulateHelp,
  trainHelp,
  validateHelp,
  boundsHelp,
  workerHelp,
} from './cli/help.js';
import { ExitCode, exitCodesHelp } from './cli/exit-codes.js';
import { AppError, isAppError } from './shared/errors.js';

type Run = (argv: string[]) => Promise<number>;

interface Command {
  /** imports the command's module when the command runs (--version and --help load none of them) */
  load: () => Promise<Run>;
  help: string;
}

const commands: Record<string, Command> = {
  simulate: { load: async () => (await import('./cli/simulate.js')).runSimulate, help: simulateHelp },
  predict: { load: async () => (await import('./cli/predict.js')).runPredict, help: predictHelp },
  place: { load: async () => (await import('./cli/place.js')).runPlace, help: placeHelp },
  validate: { load: async () => (await import('./cli/validate.js')).runValidate, help: validateHelp },
  bounds: { load: async () => (await import('./cli/bounds.js')).runBounds, help: boundsHelp },
  train: { load: async () => (await import('./cli/train.js')).runTrain, help: trainHelp },
  worker: { load: async () => (await import('./cli/worker.js')).runWorker, help: workerHelp },
  calibrate: { load: async () => (await import('./cli/calibrate.js')).runCalibrate, help: calibrateHelp },
  bench: { load: async () => (await import('./cli/bench.js')).runBench, help: benchHelp },
  profile: { load: async () => (await import('./cli/profile.js')).runProfile, help: profileHelp },
  profiles: { load: async () => (await import('./cli/profiles.js')).runProfiles, help: profilesHelp },
  serve: { load: async () => (await import('./cli/serve.js')).runServe, help: serveHelp },
};

/** package.json's version (the same relative place from src/ under tsx and from dist/). */
function version(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const usage = `lora-placer: how many GPUs, which adapters where, and which vLLM LoRA flags.

usage: lora-placer <command> [options]   (lora-placer <command> --help for details)
       lora-placer --version | -V

${Object.values(commands)
  .map((c) => `  ${c.help.split('\n')[0]}`)
  .join('\n')}

Long commands (bench place/drift, train, validate, place with verify) report progress on stderr: a line
redrawn in place on a terminal, else a plain line every 5 s; --quiet silences it (docs/cli.md).

${exitCodesHelp}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage}\n`);
    return name ? ExitCode.ok : ExitCode.badInput;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${version()}\n`);
    return ExitCode.ok;
  }
  const command = commands[name];
  if (!command)
    throw new AppError('invalidInput', `unknown command "${name}" (commands: ${Object.keys(commands).join(', ')})`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return ExitCode.ok;
  }
  const run = await command.load();
  return run(rest);
}

function exitCodeOf(err: unknown): number {
  if (isAppError(err)) return err.status < 500 ? ExitCode.badInput : ExitCode.failure;
  // node:util parseArgs errors (unknown option, missing value) are bad input too
  if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))
    return ExitCode.badInput;
  return ExitCode.failure;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = exitCodeOf(err);
    if (isAppError(err)) {
      process.stderr.write(`lora-placer: ${err.message}\n`);
      const issues = (err.details as { issues?: { path: string; message: string }[] } | undefined)?.issues;
      if (issues && issues.length > 1) for (const i of issues) process.stderr.write(`  ${i.path}: ${i.message}\n`);
    } else if (code === 2) {
      process.stderr.write(`lora-placer: ${(err as Error).message}\n`);
    } else {
      process.stderr.write(`lora-placer: internal error: ${(err as Error).message}\n`);
    }
    process.exitCode = code;
  },
);

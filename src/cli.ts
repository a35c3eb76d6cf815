#!/usr/bin/env node
import { runBench, benchHelp } from './cli/bench.js';
import { runCalibrate, calibrateHelp } from './cli/calibrate.js';
import { runServe, serveHelp } from './cli/serve.js';
import { runPlace, placeHelp } from './cli/place.js';
import { runPredict, predictHelp } from './cli/predict.js';
import { runSimulate, simulateHelp } from './cli/simulate.js';
import { runTrain, trainHelp } from './cli/train.js';
import { runValidate, validateHelp } from './cli/validate.js';
import { profilesHelp, runProfiles } from './cli/profiles.js';
import { ExitCode, exitCodesHelp } from './cli/exit-codes.js';
import { readFileSync } from 'node:fs';
import { AppError, isAppError } from './shared/errors.js';

interface Command {
  run: (argv: string[]) => Promise<number>;
  help: string;
}

const commands: Record<string, Command> = {
  simulate: { run: runSimulate, help: simulateHelp },
  predict: { run: runPredict, help: predictHelp },
  place: { run: runPlace, help: placeHelp },
  validate: { run: runValidate, help: validateHelp },
  train: { run: runTrain, help: trainHelp },
  calibrate: { run: runCalibrate, help: calibrateHelp },
  bench: { run: runBench, help: benchHelp },
  profiles: { run: runProfiles, help: profilesHelp },
  serve: { run: runServe, help: serveHelp },
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
  return command.run(rest);
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

import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** What one run of the CLI answered: its exit status (null when killed) and what it printed. */
export type CliRun = { status: number | null; stdout: string; stderr: string };

export type CliOptions = {
  /** Written to the CLI's stdin (none: an empty stdin). */
  input?: string;
  /** Set over this process's environment (an empty string hides a variable such as PROFILES_DIR). */
  env?: Record<string, string>;
  /** The run is killed after this long (status null): a hung CLI fails its test instead of the whole run. */
  timeoutMs?: number;
};

// src/cli.ts through tsx, so the tests run the source without a build
const command = (args: string[]) => ['--import', 'tsx', join(root, 'src/cli.ts'), ...args];

/** Runs `lora-placer <args>` in the checkout's root and waits for it. */
export function cli(args: string[], options: CliOptions = {}): CliRun {
  const r = spawnSync(process.execPath, command(args), {
    cwd: root,
    input: options.input,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    env: { ...process.env, ...options.env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI without blocking this process (so e.g. the logs of worker processes it started keep flowing). */
export function cliAsync(args: string[], options: Pick<CliOptions, 'env'> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, command(args), {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

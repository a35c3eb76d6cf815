import { spawn, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SweepQueueAddress } from '../training/sweep-queue.js';

/** A `lora-placer worker` child process (bench sweeps; the queue's integration tests). */
export interface WorkerProcess {
  process: ChildProcess;
  /** the name it gives the jobs it takes (host:pid) */
  name: string;
  /** its stderr so far: one line per job */
  log: () => string;
  /** SIGTERM (finish the running jobs) or SIGKILL (a crash); resolves when it has exited */
  stop: (signal?: NodeJS.Signals) => Promise<void>;
}

/** The CLI next to this file: dist/cli.js, or src/cli.ts through tsx when lora-placer runs from source. */
function cliCommand(): string[] {
  const fromSource = import.meta.url.endsWith('.ts');
  const cli = fileURLToPath(new URL(`../cli.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  return fromSource ? ['--import', 'tsx', cli] : [cli];
}

/** Starts a worker on the queue at `address` and waits until it takes jobs. */
export async function startWorkerProcess(
  address: SweepQueueAddress,
  {
    threads = 1,
    lockS = 30,
    readyTimeoutMs = 60_000,
  }: { threads?: number; lockS?: number; readyTimeoutMs?: number } = {},
): Promise<WorkerProcess> {
  const args = ['worker', '--redis', address.url, '--concurrency', String(threads), '--lock-s', String(lockS)];
  const child = spawn(process.execPath, [...cliCommand(), ...args], {
    env: { ...process.env, REDIS_KEY_PREFIX: address.keyPrefix },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + readyTimeoutMs;
  while (!log.includes(' takes sweep jobs from ')) {
    if (child.exitCode !== null) throw new Error(`lora-placer worker exited with ${child.exitCode}: ${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`lora-placer worker did not start within ${readyTimeoutMs} ms: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    process: child,
    name: `${hostname()}:${child.pid}`,
    log: () => log,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../src/shared/free-port.js';

const root = join(import.meta.dirname, '..', '..');

export interface ServiceProcess {
  process: ChildProcess;
  base: string;
  port: number;
  /** stderr so far (logs at the level asked for) */
  stderr: () => string;
  /** resident set size of the process now, from /proc */
  rssBytes: () => number;
  stop: () => Promise<number | null>;
}

export const exited = (p: ChildProcess): Promise<number | null> =>
  new Promise((r) =>
    p.exitCode !== null || p.signalCode !== null ? r(p.exitCode) : p.once('exit', (code) => r(code)),
  );

/**
 * Starts `src/main.ts` (or, `built`, `dist/main.js` as `npm start` runs it: no tsx in the memory figures) on a free
 * loopback port with `env` and waits for /readyz; `nodeArgs` go before the script.
 */
export async function startService(
  env: Record<string, string>,
  readyTimeoutMs = 60_000,
  { built = false, nodeArgs = [] }: { built?: boolean; nodeArgs?: string[] } = {},
): Promise<ServiceProcess> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const args = built
    ? [...nodeArgs, join(root, 'dist/main.js')]
    : ['--import', 'tsx', ...nodeArgs, join(root, 'src/main.ts')];
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error('the service was not ready in time');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    process: child,
    base,
    port,
    stderr: () => stderr,
    rssBytes: () =>
      Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      return exited(child);
    },
  };
}

/** /healthz latencies (ms) sampled one request at a time, every `everyMs`, and the peak RSS seen meanwhile. */
export async function sampleHealthz(
  service: Pick<ServiceProcess, 'base' | 'rssBytes'>,
  durationMs: number,
  everyMs = 20,
): Promise<{ latenciesMs: number[]; rssPeakBytes: number }> {
  const latenciesMs: number[] = [];
  let rssPeakBytes = service.rssBytes();
  const rss = setInterval(() => (rssPeakBytes = Math.max(rssPeakBytes, service.rssBytes())), 50);
  try {
    for (const end = Date.now() + durationMs; Date.now() < end; await new Promise((r) => setTimeout(r, everyMs))) {
      const t0 = performance.now();
      await (await fetch(`${service.base}/healthz`)).arrayBuffer();
      latenciesMs.push(performance.now() - t0);
    }
  } finally {
    clearInterval(rss);
  }
  return { latenciesMs, rssPeakBytes: Math.max(rssPeakBytes, service.rssBytes()) };
}

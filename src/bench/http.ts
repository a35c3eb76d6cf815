import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import { freePort } from '../shared/free-port.js';
import { median } from './twin.js';

export interface HttpBenchOptions {
  durationS: number;
  connections: number;
  repeats: number;
  /** workloads of the refresh running during the second half (big enough to outlast it) */
  refreshWorkloads: number;
}

export interface HttpBenchRow {
  route: string;
  phase: 'idle' | 'refresh running';
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** smallest and largest p99 over the repeats: the machine's noise */
  p99RangeMs: [number, number];
  non2xx: number;
  repeats: number;
}

export interface HttpBenchResult {
  readyMs: number;
  rows: HttpBenchRow[];
  refreshStillRunning: boolean;
}

/** the Twin's reference scenario (Llama, 16 adapters, 16 slots, rates 3.2/1.6/0.8 cycled, rank 8) */
const predictBody = {
  model: 'llama-3.1-8b-instruct',
  gpu: 'h100-64gb',
  engine: { maxLoras: 16 },
  adapters: Array.from({ length: 16 }, (_, i) => ({ id: `lora-${i}`, rank: 8, rate: [3.2, 1.6, 0.8][i % 3]! })),
};

const placementBody = {
  model: 'llama-3.1-8b-instruct',
  gpu: 'h100-64gb',
  adapters: Array.from({ length: 100 }, (_, i) => ({
    id: `adapter-${i}`,
    rank: i % 4 === 0 ? 16 : 8,
    rate: Number((2 / (1 + i) ** 0.8).toFixed(4)),
  })),
};

/**
 * The service as a process (node dist/main.js) and autocannon as another: requests/s and latency of
 * /v1/predict and /v1/placements, idle and while a model refresh runs.
 */
export async function benchHttp(o: HttpBenchOptions): Promise<HttpBenchResult> {
  const autocannon = autocannonPath();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const modelsDir = mkdtempSync(join(tmpdir(), 'lora-placer-bench-http-'));
  const started = Date.now();
  const server = spawn(process.execPath, [fileURLToPath(new URL('../main.js', import.meta.url))], {
    // a queue longer than the connections: every placement is admitted, so the rows measure served work (503s of a full
    // queue: bench robustness)
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      MODELS_DIR: modelsDir,
      REFRESH_THREADS: '1',
      WORK_QUEUE_MAX: String(Math.max(16, 2 * o.connections)),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady(base, server);
    const readyMs = Date.now() - started;
    const load = (route: string, body: unknown, phase: HttpBenchRow['phase']): HttpBenchRow =>
      measure(autocannon, `${base}${route}`, body, phase, o);
    const rows = [load('/v1/predict', predictBody, 'idle'), load('/v1/placements', placementBody, 'idle')];
    const refresh = await call('POST', `${base}/v1/models/refresh`, {
      model: 'qwen-2.5-7b-instruct',
      gpu: 'h100-64gb',
      workloads: o.refreshWorkloads,
      seed: 99,
    });
    if (refresh.status !== 202) throw new AppError('internal', `bench http: refresh not started (${refresh.status})`);
    const job = refresh.body as { id: string };
    await new Promise((r) => setTimeout(r, 2000)); // let the refresh thread get busy
    rows.push(
      load('/v1/predict', predictBody, 'refresh running'),
      load('/v1/placements', placementBody, 'refresh running'),
    );
    const state = ((await call('GET', `${base}/v1/models/refresh/${job.id}`)).body as { state: string }).state;
    return { readyMs, rows, refreshStillRunning: state === 'running' };
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => (server.exitCode !== null ? r(null) : server.once('exit', r)));
    rmSync(modelsDir, { recursive: true, force: true });
  }
}

function measure(
  autocannon: string,
  url: string,
  body: unknown,
  phase: HttpBenchRow['phase'],
  o: HttpBenchOptions,
): HttpBenchRow {
  const args = [
    '-c',
    String(o.connections),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    JSON.stringify(body),
    '-j',
  ];
  runAutocannon(autocannon, [...args, '-d', '2', url]); // warm-up: JIT, connections
  const runs = Array.from({ length: o.repeats }, () =>
    runAutocannon(autocannon, [...args, '-d', String(o.durationS), url]),
  );
  return { route: new URL(url).pathname, phase, ...summarizeRuns(runs), repeats: o.repeats };
}

/** Medians over repeated autocannon runs, and the spread of their p99 (the machine's noise). */
export function summarizeRuns(runs: AutocannonResult[]): {
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  p99RangeMs: [number, number];
  non2xx: number;
} {
  const p99s = runs.map((r) => r.latency.p99);
  return {
    requestsPerS: median(runs.map((r) => r.requests.average)),
    p50Ms: median(runs.map((r) => r.latency.p50)),
    p99Ms: median(p99s),
    p99RangeMs: [Math.min(...p99s), Math.max(...p99s)],
    non2xx: runs.reduce((s, r) => s + r.non2xx + r.errors, 0),
  };
}

/** autocannon as a child process without blocking this one (so its own timers, e.g. an RSS sampler, keep running). */
export function runAutocannonAsync(autocannon: string, args: string[]): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [autocannon, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as AutocannonResult)
        : reject(new AppError('internal', `autocannon failed: ${err.slice(0, 500)}`)),
    );
  });
}

export interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}

export function runAutocannon(autocannon: string, args: string[]): AutocannonResult {
  const r = spawnSync(process.execPath, [autocannon, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new AppError('internal', `autocannon failed: ${r.stderr.slice(0, 500)}`);
  return JSON.parse(r.stdout) as AutocannonResult;
}

/**
 * One request on a fresh connection: the benchmark blocks for minutes between its own requests, longer
 * than the server keeps an idle keep-alive socket (fetch would reuse a closed one). `raw` keeps the
 * answer as text (it may not be JSON); a server that closes before reading the whole body still
 * answers with what it sent.
 */
export async function call(
  method: string,
  url: string,
  body?: unknown,
  o: { raw?: boolean } = {},
): Promise<{ status: number; body: unknown; text?: string }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: o.raw ? null : text ? JSON.parse(text) : null, text }),
        );
      },
    );
    req.once('error', reject);
    req.end(payload);
  });
}

export function autocannonPath(): string {
  try {
    return createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  } catch {
    throw new AppError(
      'invalidInput',
      'bench http needs the dev dependency autocannon: run `npm ci` (without --omit=dev)',
    );
  }
}

export async function waitReady(base: string, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null)
      throw new AppError('internal', `bench http: the service exited with code ${server.exitCode}`);
    const ok = await call('GET', `${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new AppError('internal', 'bench http: the service was not ready within 60 s');
}

export function formatHttpBench(r: HttpBenchResult, o: HttpBenchOptions): string {
  const head =
    `bench http: service and autocannon (${o.connections} connections, ${o.durationS} s x ${o.repeats}, ` +
    `medians) as separate processes on loopback; ready after ${r.readyMs} ms`;
  const lines = [
    head,
    '',
    '| route | phase | requests/s | p50 ms | p99 ms | p99 range ms | non-2xx |',
    '|---|---|---:|---:|---:|---:|---:|',
  ];
  for (const row of r.rows) {
    lines.push(
      `| ${row.route} | ${row.phase} | ${Math.round(row.requestsPerS)} | ${row.p50Ms}` +
        ` | ${row.p99Ms} | ${row.p99RangeMs[0]}–${row.p99RangeMs[1]} | ${row.non2xx} |`,
    );
  }
  if (!r.refreshStillRunning) lines.push('', 'note: the refresh ended before the last measurement did');
  return lines.join('\n');
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import { freePort } from '../shared/free-port.js';
import { autocannonPath, call, runAutocannonAsync, summarizeRuns, waitReady, type AutocannonResult } from './http.js';

const llama = { model: 'llama-3.1-8b-instruct', gpu: 'h100-64gb' };
const smallScenario = { ...llama, engine: { maxLoras: 4 }, adapters: [{ id: 'a', rank: 8, rate: 1 }], durationS: 60 };
const many = (n: number, f: (i: number) => object) => Array.from({ length: n }, (_, i) => f(i));

/** One hostile request of the hardening report, as sent again here. */
interface Attack {
  name: string;
  method: string;
  path: string;
  body: unknown;
}

/** The requests of the report's table (issue "Hardening"), in its order. */
export function attacks(): Attack[] {
  const engine = (over: object) => ({ ...smallScenario, engine: { maxLoras: 4, ...over } });
  return [
    {
      name: 'placement, 1 adapter, outputTokens mean 1,000,000',
      method: 'POST',
      path: '/v1/placements',
      body: { ...llama, adapters: [{ id: 'a', rank: 32, rate: 1, outputTokens: { mean: 1_000_000 } }] },
    },
    {
      name: 'the same at rate 14.41',
      method: 'POST',
      path: '/v1/placements',
      body: { ...llama, adapters: [{ id: 'a', rank: 32, rate: 14.41, outputTokens: { mean: 1_000_000 } }] },
    },
    {
      name: 'rate 14.41, outputTokens 100,000 (fits max_model_len)',
      method: 'POST',
      path: '/v1/placements',
      body: { ...llama, adapters: [{ id: 'a', rank: 32, rate: 14.41, outputTokens: { mean: 100_000 } }] },
    },
    {
      name: 'simulate, regime periodS 1e-300',
      method: 'POST',
      path: '/v1/simulate',
      body: { ...smallScenario, arrivals: { process: 'regime', periodS: 1e-300 } },
    },
    {
      name: 'simulate, 1,000 adapters x 1,000 req/s, 604,800 s',
      method: 'POST',
      path: '/v1/simulate',
      body: {
        ...smallScenario,
        adapters: many(1000, (i) => ({ id: `a${i}`, rank: 8, rate: 1000 })),
        durationS: 604_800,
      },
    },
    { name: 'simulate, maxLoraRank 12', method: 'POST', path: '/v1/simulate', body: engine({ maxLoraRank: 12 }) },
    {
      name: 'simulate, maxNumBatchedTokens 1',
      method: 'POST',
      path: '/v1/simulate',
      body: engine({ maxNumBatchedTokens: 1 }),
    },
    {
      name: 'simulate, rank above maxLoraRank',
      method: 'POST',
      path: '/v1/simulate',
      body: { ...engine({ maxLoraRank: 8 }), adapters: [{ id: 'a', rank: 16, rate: 1 }] },
    },
    {
      name: 'simulate, maxCpuLoras < maxLoras',
      method: 'POST',
      path: '/v1/simulate',
      body: engine({ maxCpuLoras: 2 }),
    },
    {
      name: 'placement, 100,000 invalid adapters (4.4 MB)',
      method: 'POST',
      path: '/v1/placements',
      body: { ...llama, adapters: many(100_000, (i) => ({ id: `a${i}`, rank: 0, rate: -1 })) },
    },
    {
      name: 'predict, 100,000 invalid adapters (4.4 MB)',
      method: 'POST',
      path: '/v1/predict',
      body: { ...smallScenario, adapters: many(100_000, (i) => ({ id: `a${i}`, rank: 0, rate: -1 })) },
    },
    {
      name: 'placement, a 7 MB model name',
      method: 'POST',
      path: '/v1/placements',
      body: { ...llama, model: 'x'.repeat(7_000_000), adapters: [{ id: 'a', rank: 8, rate: 1 }] },
    },
  ];
}

export interface AttackRow {
  name: string;
  status: number;
  code: string;
  answerMs: number;
  answerBytes: number;
  worstHealthzMs: number;
  maxRssMb: number;
}

export interface LoadRow {
  phase: string;
  requestsPerS: number;
  p50Ms: number;
  p99Ms: number;
  p99RangeMs: [number, number];
  non2xx: number;
  worstHealthzMs: number;
  maxRssMb: number;
}

export interface RobustnessResult {
  attacks: AttackRow[];
  modelsDir: { status: string; errorsCounted: number; alive: boolean };
  afterwards: { predict: number; simulate: number };
  slowBody: { cutAfterMs: number; status: string };
  idleSockets: { opened: number; worstHealthzMs: number };
  load: LoadRow[];
}

/** The service process (dist/main.js), its /healthz watched and its RSS sampled while `work` runs. */
class Watched {
  private rssMax = 0;
  private healthzMax = 0;
  private watching = false;

  constructor(
    readonly process: ChildProcess,
    readonly base: string,
  ) {}

  rssMb(): number {
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.process.pid}/status`, 'utf8'))?.[1] ?? 0);
    return kb / 1024;
  }

  /** Runs `work` while polling /healthz every 20 ms (fresh connections) and sampling RSS. */
  async during<T>(work: () => Promise<T>): Promise<{ value: T; worstHealthzMs: number; maxRssMb: number }> {
    this.rssMax = this.rssMb();
    this.healthzMax = 0;
    this.watching = true;
    const watcher = this.watch();
    try {
      const value = await work();
      return { value, worstHealthzMs: this.healthzMax, maxRssMb: this.rssMax };
    } finally {
      this.watching = false;
      await watcher;
    }
  }

  private async watch(): Promise<void> {
    while (this.watching) {
      const t = performance.now();
      const r = await call('GET', `${this.base}/healthz`).catch(() => ({ status: 0 }));
      if (r.status !== 200) this.healthzMax = Infinity;
      this.healthzMax = Math.max(this.healthzMax, performance.now() - t);
      this.rssMax = Math.max(this.rssMax, this.rssMb());
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/**
 * The service as a process, sent the hardening report's requests one by one with /healthz polled and RSS
 * sampled, then its MODELS_DIR broken, a stalled body, 3,000 idle sockets, and autocannon on
 * /v1/predict idle and with 8 of the largest allowed simulations and verified placements in flight.
 */
export async function benchRobustness(o: { durationS: number; repeats: number }): Promise<RobustnessResult> {
  const autocannon = autocannonPath();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const modelsDir = mkdtempSync(join(tmpdir(), 'lora-placer-bench-robust-'));
  mkdirSync(join(modelsDir, 'predictors'));
  const server = spawn(process.execPath, [fileURLToPath(new URL('../main.js', import.meta.url))], {
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'error',
      MODELS_DIR: modelsDir,
      MODELS_RELOAD_S: '1',
      REQUEST_TIMEOUT_MS: '5000',
      HEADERS_TIMEOUT_MS: '5000',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const svc = new Watched(server, base);
  try {
    await waitReady(base, server);
    const rows: AttackRow[] = [];
    for (const a of attacks()) rows.push(await sendAttack(svc, a));
    const modelsDirRow = await breakModelsDir(svc, modelsDir);
    const afterwards = {
      predict: (await call('POST', `${base}/v1/predict`, smallScenario)).status,
      simulate: (await call('POST', `${base}/v1/simulate`, smallScenario)).status,
    };
    const slowBody = await stallBody(port);
    const idleSockets = await idleCrowd(svc, port, 3000);
    const load = await predictUnderLoad(svc, autocannon, o);
    if (server.exitCode !== null)
      throw new AppError('internal', `bench robustness: the service exited with code ${server.exitCode}`);
    return { attacks: rows, modelsDir: modelsDirRow, afterwards, slowBody, idleSockets, load };
  } finally {
    server.kill('SIGKILL');
    await new Promise((r) =>
      server.exitCode !== null || server.signalCode !== null ? r(null) : server.once('exit', r),
    );
    rmSync(modelsDir, { recursive: true, force: true });
  }
}

async function sendAttack(svc: Watched, a: Attack): Promise<AttackRow> {
  const t = performance.now();
  const { value, worstHealthzMs, maxRssMb } = await svc.during(() =>
    call(a.method, `${svc.base}${a.path}`, a.body, { raw: true }),
  );
  const body = value.text ?? '';
  let code = '-';
  try {
    code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? '-';
  } catch {
    code = 'not JSON';
  }
  return {
    name: a.name,
    status: value.status,
    code,
    answerMs: performance.now() - t,
    answerBytes: Buffer.byteLength(body),
    worstHealthzMs,
    maxRssMb,
  };
}

/**
 * MODELS_DIR/predictors made unlistable (a symlink to itself: ELOOP, which denies root too, where
 * chmod 000 would not), then replaced by a regular file: every reload fails, the service keeps serving.
 */
async function breakModelsDir(svc: Watched, modelsDir: string): Promise<RobustnessResult['modelsDir']> {
  const predictors = join(modelsDir, 'predictors');
  const errorsNow = async (): Promise<number> =>
    Number(
      /lora_placer_models_dir_errors_total (\d+)/.exec(
        (await call('GET', `${svc.base}/metrics`, undefined, { raw: true })).text ?? '',
      )?.[1] ?? 0,
    );
  const before = await errorsNow();
  rmSync(predictors, { recursive: true, force: true });
  symlinkSync(predictors, predictors);
  await new Promise((r) => setTimeout(r, 2500));
  rmSync(predictors, { force: true });
  writeFileSync(predictors, 'not a directory');
  await new Promise((r) => setTimeout(r, 2500));
  const errors = (await errorsNow()) - before;
  const alive = (await call('GET', `${svc.base}/healthz`)).status === 200;
  rmSync(predictors, { force: true });
  mkdirSync(predictors);
  return {
    status: 'predictors a symlink loop (2.5 s), then a regular file (2.5 s), re-read every second',
    errorsCounted: errors,
    alive,
  };
}

/** Headers and 10 bytes of a 1,000-byte body, then silence: when does the service answer and close? */
async function stallBody(port: number): Promise<RobustnessResult['slowBody']> {
  const socket = await open(port);
  let answer = '';
  socket.on('data', (d: Buffer) => (answer += d.toString()));
  const t = performance.now();
  const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now() - t)));
  socket.write(
    'POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ' +
      'application/json\r\nContent-Length: 1000\r\n\r\n{"model": ',
  );
  const cutAfterMs = await closed;
  return { cutAfterMs, status: answer.split('\r\n')[0] ?? '(nothing)' };
}

async function idleCrowd(svc: Watched, port: number, count: number): Promise<RobustnessResult['idleSockets']> {
  const sockets: Socket[] = [];
  try {
    const { worstHealthzMs } = await svc.during(async () => {
      for (let i = 0; i < count; i++) sockets.push(await open(port));
      await new Promise((r) => setTimeout(r, 1000));
    });
    return { opened: sockets.length, worstHealthzMs };
  } finally {
    for (const s of sockets) s.destroy();
  }
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * The largest simulation the default limits allow: 10,000 adapters, one slot, a day, 1.99 million expected requests.
 */
const largestSimulation = {
  ...llama,
  engine: { maxLoras: 1 },
  adapters: many(10_000, (i) => ({ id: `a${i}`, rank: 8, rate: 0.0023 })),
  durationS: 86_400,
};
/**
 * The largest verified placement they allow: rates x verifyDurationS = 19.8 million of MAX_VERIFIED_REQUESTS' 20
 * million.
 */
const largestVerified = {
  ...llama,
  verify: true,
  adapters: many(1000, (i) => ({ id: `p${i}`, rank: i % 3 ? 8 : 16, rate: 5.5 })),
};

/**
 * autocannon on /v1/predict, idle, then with 4 + 4 of the largest simulations and verified placements kept in flight.
 */
async function predictUnderLoad(
  svc: Watched,
  autocannon: string,
  o: { durationS: number; repeats: number },
): Promise<LoadRow[]> {
  const measure = async (phase: string): Promise<LoadRow> => {
    await runAutocannonAsync(autocannon, predictArgs(svc.base, 2));
    const runs: AutocannonResult[] = [];
    const { worstHealthzMs, maxRssMb } = await svc.during(async () => {
      for (let i = 0; i < o.repeats; i++)
        runs.push(await runAutocannonAsync(autocannon, predictArgs(svc.base, o.durationS)));
    });
    return { phase, ...summarizeRuns(runs), worstHealthzMs, maxRssMb };
  };
  const idle = await measure('idle');
  const controller = new AbortController();
  const heavy = [...many(4, () => largestSimulation), ...many(4, () => largestVerified)].map((body, i) =>
    fetch(`${svc.base}${i < 4 ? '/v1/simulate' : '/v1/placements'}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: controller.signal,
    }).catch(() => null),
  );
  await new Promise((r) => setTimeout(r, 2000));
  const loaded = await measure('8 largest simulations / verified placements in flight');
  controller.abort();
  await Promise.all(heavy);
  return [idle, loaded];
}

function predictArgs(base: string, durationS: number): string[] {
  return [
    '-c',
    '10',
    '-d',
    String(durationS),
    '-m',
    'POST',
    '-H',
    'content-type=application/json',
    '-b',
    JSON.stringify({
      ...llama,
      engine: { maxLoras: 16 },
      adapters: many(16, (i) => ({ id: `lora-${i}`, rank: 8, rate: [3.2, 1.6, 0.8][i % 3]! })),
    }),
    '-j',
    `${base}/v1/predict`,
  ];
}

export function formatRobustnessBench(r: RobustnessResult, o: { durationS: number; repeats: number }): string {
  const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(v < 10 ? 1 : 0) : 'no answer');
  const lines = [
    'bench robustness: the service (dist/main.js, default limits, VERIFY_THREADS 1) sent ' +
      "the hardening report's requests one at a time; /healthz polled every 20 ms meanwhile",
    '',
    '| request | status | code | answer ms | answer bytes | worst /healthz ms | max RSS MB |',
    '|---|---:|---|---:|---:|---:|---:|',
    ...r.attacks.map(
      (a) =>
        `| ${a.name} | ${a.status} | ${a.code} | ${ms(a.answerMs)} | ` +
        `${a.answerBytes} | ${ms(a.worstHealthzMs)} | ${Math.round(a.maxRssMb)} |`,
    ),
    '',
    `MODELS_DIR ${r.modelsDir.status}: ${r.modelsDir.errorsCounted} errors counted ` +
      `(lora_placer_models_dir_errors_total), process ${r.modelsDir.alive ? 'alive' : 'DEAD'}`,
    `afterwards: /v1/predict ${r.afterwards.predict}, /v1/simulate ${r.afterwards.simulate}`,
    'a body stalled after 10 of 1,000 bytes ' +
      `(REQUEST_TIMEOUT_MS 5000): "${r.slowBody.status}", connection closed after ${ms(r.slowBody.cutAfterMs)} ms`,
    `${r.idleSockets.opened} idle sockets opened: worst /healthz ${ms(r.idleSockets.worstHealthzMs)} ms`,
    '',
    `/v1/predict under autocannon (10 connections, ${o.durationS} s x ${o.repeats}, medians):`,
    '',
    '| phase | requests/s | p50 ms | p99 ms | p99 range ms | non-2xx | worst /healthz ms | max RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...r.load.map(
      (l) =>
        `| ${l.phase} | ${Math.round(l.requestsPerS)} | ${l.p50Ms} | ${l.p99Ms} | ` +
        `${l.p99RangeMs[0]}–${l.p99RangeMs[1]} | ${l.non2xx} | ${ms(l.worstHealthzMs)} | ${Math.round(l.maxRssMb)} |`,
    ),
  ];
  return lines.join('\n');
}

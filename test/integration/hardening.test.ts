import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, startService, type ServiceProcess } from '../helpers/service-process.js';

const root = join(import.meta.dirname, '..', '..');
const llama = { model: 'llama-3.1-8b-instruct', gpu: 'h100-64gb' };

const post = (base: string, path: string, body: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Polls /healthz every `everyMs` until `done` settles; resolves with the slowest answer in ms. */
async function slowestHealthz(base: string, done: Promise<unknown>, everyMs = 25): Promise<number> {
  let finished = false;
  void done.finally(() => (finished = true));
  let worst = 0;
  while (!finished) {
    const t = performance.now();
    const r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
    worst = Math.max(worst, performance.now() - t);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return worst;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

describe('the service process under hostile requests', () => {
  let svc: ServiceProcess;
  // the largest verified placement these limits allow: rates x verifyDurationS = MAX_VERIFIED_REQUESTS
  const verifiedLimit = 360_000;
  beforeAll(async () => {
    svc = await startService({
      REQUEST_TIMEOUT_MS: '2000',
      HEADERS_TIMEOUT_MS: '2000',
      VERIFY_THREADS: '2',
      MAX_VERIFIED_REQUESTS: String(verifiedLimit),
      MAX_CONNECTIONS: '1024',
    });
  }, 90_000);
  afterAll(() => svc.stop());

  it('keeps /healthz under 250 ms while the largest allowed ' +
    'simulation and verified placement run, RSS under 2 GiB', async () => {
    // 10,000 adapters, one slot, a day: 1.99 million expected requests, just under MAX_SIMULATED_REQUESTS
    const simulation = post(svc.base, '/v1/simulate', {
      ...llama,
      engine: { maxLoras: 1 },
      adapters: Array.from({ length: 10_000 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0.0023 })),
      durationS: 86_400,
    });
    const placement = post(svc.base, '/v1/placements', {
      ...llama,
      verify: true,
      adapters: Array.from({ length: 400 }, (_, i) => ({ id: `p${i}`, rank: i % 2 ? 8 : 16, rate: 0.25 })),
    });
    let maxRss = 0;
    const rss = setInterval(() => (maxRss = Math.max(maxRss, svc.rssBytes())), 100);
    const both = Promise.all([simulation, placement]);
    const worst = await slowestHealthz(svc.base, both);
    clearInterval(rss);
    const [sim, placed] = await both;
    expect(sim.status, await sim.clone().text()).toBe(200);
    expect(placed.status, await placed.clone().text()).toBe(200);
    expect(
      ((await placed.json()) as { verification: { simulatedGpus: number } }).verification.simulatedGpus,
    ).toBeGreaterThan(0);
    expect(worst).toBeLessThan(250);
    expect(maxRss).toBeLessThan(2 * 1024 ** 3);
    expect(
      (
        await post(svc.base, '/v1/predict', {
          ...llama,
          engine: { maxLoras: 4 },
          adapters: [{ id: 'a', rank: 8, rate: 1 }],
        })
      ).status,
    ).toBe(200);
  }, 120_000);

  it('cuts a body stalled mid-way at REQUEST_TIMEOUT_MS with a 408 in the error shape', async () => {
    const socket = await openSocket(svc.port);
    let answer = '';
    socket.on('data', (d) => (answer += d.toString()));
    const closed = new Promise<number>((r) => socket.once('close', () => r(performance.now())));
    const started = performance.now();
    socket.write(
      'POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ' +
        '1000\r\n\r\n{"model": ',
    );
    const elapsed = (await closed) - started;
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'LP_ERR_REQUEST_TIMEOUT', message: expect.any(String) },
    });
    expect(elapsed).toBeGreaterThan(1900);
    expect(elapsed).toBeLessThan(4000);
  }, 20_000);

  it('answers /healthz with 3,000 idle sockets open (idle ones are closed past MAX_CONNECTIONS)', async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 3000; i++) sockets.push(await openSocket(svc.port).catch(() => openSocket(svc.port)));
    try {
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        const r = await fetch(`${svc.base}/healthz`);
        expect(r.status).toBe(200);
        expect(performance.now() - t).toBeLessThan(1000);
      }
      const stillOpen = sockets.filter((s) => !s.destroyed && s.readyState === 'open').length;
      expect(stillOpen).toBeLessThanOrEqual(1024);
    } finally {
      for (const s of sockets) s.destroy();
    }
  }, 60_000);

  it('refuses a second service on the same port with one line, exit 1', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
      cwd: root,
      env: { ...process.env, PORT: String(svc.port), HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `lora-placer: cannot listen on 127.0.0.1:${svc.port}: the port is already in use (set PORT / HOST)`,
    ]);
  }, 40_000);

  it('refuses an empty or non-decimal PORT instead of listening on a random one', () => {
    for (const port of ['', '0x1f90']) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
        cwd: root,
        env: { ...process.env, PORT: port },
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/invalid configuration: PORT: must be a decimal integer from 1 to 65535/);
    }
  }, 60_000);
});

describe('shutdown', () => {
  it('answers the request in flight on SIGTERM, then exits 0', async () => {
    const svc = await startService({});
    const inFlight = post(svc.base, '/v1/simulate', {
      ...llama,
      engine: { maxLoras: 8 },
      adapters: Array.from({ length: 100 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0.5 })),
      durationS: 3600,
    });
    await new Promise((r) => setTimeout(r, 300));
    svc.process.kill('SIGTERM');
    expect((await inFlight).status).toBe(200);
    expect(await exited(svc.process)).toBe(0);
  }, 90_000);

  it('exits 1 at SHUTDOWN_TIMEOUT_MS when work outlasts it', async () => {
    const svc = await startService({ SHUTDOWN_TIMEOUT_MS: '500' });
    void post(svc.base, '/v1/simulate', {
      ...llama,
      engine: { maxLoras: 1 },
      adapters: Array.from({ length: 10_000 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0.0023 })),
      durationS: 86_400,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    const t = performance.now();
    svc.process.kill('SIGTERM');
    expect(await exited(svc.process)).toBe(1);
    expect(performance.now() - t).toBeLessThan(3000);
  }, 90_000);
});

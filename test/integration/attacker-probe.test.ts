/**
 * The attacker's probe of issue 22, against the service process on a real redis-server: for 20 s, 16 clients
 * without a token ask a 10,000-adapter pool's manifests with a new namespace each time (before: a render of
 * about a second on the HTTP thread per request, /healthz p50 0.92 s, Redis-backed routes answering 503 as their
 * client timed out on the blocked loop, 670 MB kept), while two observed pools read hostile Prometheus answers
 * every second (10 MB of nested arrays: /healthz 4.9-7.5 s and 1.78 GB before; 100,000 series of unlisted
 * adapters: 1.3 s stalls). Bars: /healthz p99 under 250 ms and RSS under 1 GiB throughout.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { llama } from '../helpers/app.js';
import { startFakePrometheus, type FakePrometheus } from '../helpers/fake-prometheus.js';
import { describeWith } from '../helpers/real-parts.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { sampleHealthz, startService, type ServiceProcess } from '../helpers/service-process.js';
import { skewedWorkload } from '../helpers/workloads.js';

const root = join(import.meta.dirname, '..', '..');
const token = 'attacker-probe-token';
const GiB = 1024 ** 3;
const floodMs = 20_000;
const floodClients = 16;

interface FloodResult {
  requests: number;
  statuses: Record<string, number>;
  bytes: number;
}

/** The manifests flood in its own process (test/helpers/manifests-flood.ts). */
function manifestsFlood(base: string, pool: string): Promise<FloodResult> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'test/helpers/manifests-flood.ts'), base, pool, `${floodClients}`, `${floodMs}`],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as FloodResult) : reject(new Error(`flood exited ${code}: ${err}`)),
    ),
  );
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
};

describeWith(['redis-server'], "the attacker's probe: manifests and Prometheus floods at once", () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-probe-'));
  let redis: RedisServer;
  let prometheus: FakePrometheus;
  let service: ServiceProcess;
  let gpuCount = 0;
  const put = (path: string, body: unknown) =>
    fetch(`${service.base}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
  const observed = (pool: string) => ({
    workload: llama,
    prometheus: {
      selector: `pool="${pool}"`,
      periodS: 1,
      graceS: 600,
      adapters: [
        { id: 'ad-a', rank: 8 },
        { id: 'ad-b', rank: 16 },
      ],
    },
  });

  beforeAll(async () => {
    redis = await startRedis(dir);
    prometheus = await startFakePrometheus();
    prometheus.state.rates = { 'ad-a': 2, 'ad-b': 1 };
    service = await startService({
      REDIS_URL: redis.url,
      PROMETHEUS_URL: prometheus.url,
      API_TOKEN: token,
      POOL_STALE_S: '600',
    });
    // about 580 GPUs: the size of plan whose render took the HTTP thread 1.16 s
    const big = await put('/v1/pools/big', skewedWorkload(10_000, 7_000_000));
    const answer = (await big.json()) as { placement: { gpuCount: number } };
    expect(big.status, JSON.stringify(answer).slice(0, 300)).toBe(200);
    gpuCount = answer.placement.gpuCount;
    for (const pool of ['obs-nested', 'obs-many'])
      expect((await put(`/v1/pools/${pool}/source`, observed(pool))).status).toBe(200);
  }, 120_000);
  afterAll(async () => {
    await service?.stop();
    await prometheus?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps /healthz p99 under 250 ms and RSS under 1 GiB, and answers every manifests request', async () => {
    expect(gpuCount).toBeGreaterThan(500);
    prometheus.state.answerBySelector = { 'pool="obs-nested"': 'nested', 'pool="obs-many"': 'many-series' };
    prometheus.state.nestedBytes = 10 * 1024 * 1024;
    prometheus.state.extraSeries = 100_000;
    const queriesBefore = prometheus.queries.length;
    const [flood, health] = await Promise.all([
      manifestsFlood(service.base, 'big'),
      sampleHealthz(service, floodMs, 20),
    ]);
    const hostileReads = prometheus.queries.slice(queriesBefore);
    const p99 = percentile(health.latenciesMs, 0.99);
    const summary =
      `/healthz p99 ${p99.toFixed(0)} ms, max ${Math.max(...health.latenciesMs).toFixed(0)} ms over ` +
      `${health.latenciesMs.length} samples; RSS peak ${(health.rssPeakBytes / 2 ** 20).toFixed(0)} MiB; ` +
      `manifests ${JSON.stringify(flood.statuses)} (${(flood.bytes / 2 ** 20).toFixed(0)} MiB); ` +
      `${hostileReads.length} Prometheus queries`;
    process.stdout.write(`attacker's probe: ${summary}\n`);

    expect(health.latenciesMs.length, summary).toBeGreaterThan(100);
    expect(p99, summary).toBeLessThan(250);
    expect(health.rssPeakBytes, summary).toBeLessThan(GiB);
    // the flood ran, and none of it was refused or failed (before: 503 as the store's client timed out)
    expect(flood.requests, summary).toBeGreaterThanOrEqual(floodClients * 2);
    expect(Object.keys(flood.statuses), summary).toEqual(['200']);
    // both hostile answers were read several times meanwhile (three queries a read, a read a second)
    for (const selector of ['pool="obs-nested"', 'pool="obs-many"'])
      expect(hostileReads.filter((q) => q.includes(selector)).length, selector).toBeGreaterThanOrEqual(9);

    const pool = async (name: string) => (await (await fetch(`${service.base}/v1/pools/${name}`)).json()) as any;
    expect((await pool('obs-nested')).observation.error).toBe(
      'Prometheus (PROMETHEUS_URL) answered something that is not an instant vector',
    );
    expect((await pool('obs-many')).observation).toMatchObject({ error: null, ignoredSeries: 100_000 });
    expect((await fetch(`${service.base}/v1/pools/big/autoscale`)).status).toBe(200);
    expect(service.process.exitCode).toBeNull();
  }, 90_000);
});

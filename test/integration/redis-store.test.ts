import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/real-parts.js';
import { freePort } from '../../src/shared/free-port.js';
import { AppError } from '../../src/shared/errors.js';
import { RedisPoolStore } from '../../src/store/redis-store.js';
import { buildTestApp, llama, smallWorkload } from '../helpers/app.js';
import { startFakePrometheus } from '../helpers/fake-prometheus.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { storeContract, storedPlan } from '../helpers/store-contract.js';

const token = 'redis-itest-token';
const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

describeWith(['redis-server'], 'state in a real redis-server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-redis-'));
  let redis: RedisServer;
  let prefixes = 0;
  beforeAll(async () => {
    redis = await startRedis(dir);
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // every store gets its own key prefix: the contract's tests do not see each other's keys
  storeContract('redis', async () => new RedisPoolStore({ url: redis.url, keyPrefix: `contract-${++prefixes}:` }));

  it('answers AppError storeUnavailable (503), promptly, when nothing listens at REDIS_URL', async () => {
    const store = new RedisPoolStore({
      url: `redis://127.0.0.1:${await freePort()}`,
      keyPrefix: 'down:',
      commandTimeoutMs: 1000,
    });
    const started = Date.now();
    const failure = await store.putPlan(storedPlan('a', 1), 10).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).code).toBe('LP_ERR_STORE_UNAVAILABLE');
    expect((failure as AppError).status).toBe(503);
    expect((failure as AppError).message).toMatch(/cannot be reached/);
    expect((failure as AppError).retryAfterS).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(5000);
    await store.close();
  });

  // issue 22: one malformed record answered 503 "cannot be reached" on every list, dropped every pool's gauges
  // and stopped the observer for every pool
  it('skips a malformed record, counts and logs it once; other pools keep working everywhere; the pool itself ' +
    'answers 500 LP_ERR_STORE_RECORD_INVALID until a PUT rewrites it', async () => {
    const prometheus = await startFakePrometheus();
    prometheus.state.rates = { 'ad-a': 2, 'ad-b': 1 };
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const app = await buildTestApp({
      store: new RedisPoolStore({ url: redis.url, keyPrefix: 'bad:' }),
      logger,
      prometheus: { url: prometheus.url, timeoutMs: 2000, maxBytes: 1024 * 1024 },
      poolStaleS: 60,
    });
    const raw = new Redis(redis.url);
    try {
      await app.ready();
      for (const pool of ['good', 'broken-plan', 'broken-summary'])
        expect(
          (await app.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: smallWorkload() })).statusCode,
        ).toBe(200);
      const source = {
        workload: llama,
        prometheus: { periodS: 1, windowS: 30, hysteresis: 0.1, graceS: 0, adapters: [{ id: 'ad-a', rank: 8 }] },
      };
      expect((await app.inject({ method: 'PUT', url: '/v1/pools/watched/source', payload: source })).statusCode).toBe(
        200,
      );
      await raw.hset('bad:plan-summaries', 'broken-summary', 'not json');
      await raw.hset('bad:plans', 'broken-plan', JSON.stringify({ pool: 'broken-plan', placement: 'none' }));

      const list = await app.inject({ url: '/v1/pools' });
      expect(list.statusCode).toBe(200);
      expect(list.json().pools.map((p: { pool: string }) => p.pool)).toEqual(['broken-plan', 'good', 'watched']);
      expect((await app.inject({ url: '/v1/pools/good/autoscale' })).statusCode).toBe(200);
      for (const path of ['/v1/pools/broken-plan', '/v1/pools/broken-plan/autoscale']) {
        const broken = await app.inject({ url: path });
        expect(broken.statusCode).toBe(500);
        expect(broken.json().error.code).toBe('LP_ERR_STORE_RECORD_INVALID');
        expect(broken.json().error.message).toMatch(/pool "broken-plan".*malformed/);
        expect(broken.json().error.message).not.toMatch(/cannot be reached/);
      }
      const metrics = (await app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(/^lora_placer_desired_replicas\{pool="good"\} [1-9]/m);
      expect(metrics).toMatch(/^lora_placer_pool_plan_stale\{pool="watched"\} 0$/m);
      expect(metrics).toMatch(/^lora_placer_store_bad_records\{kind="summary"\} 1$/m);
      expect(metrics).toMatch(/^lora_placer_store_bad_records\{kind="plan"\} 1$/m);
      expect(metrics).toMatch(/^lora_placer_store_reachable 1$/m);
      // the observer goes on reading the observed pool
      const attempted = async () => (await app.inject({ url: '/v1/pools/watched' })).json().observation.attemptedAt;
      const before = await attempted();
      for (const deadline = Date.now() + 5000; (await attempted()) === before && Date.now() < deadline; )
        await new Promise((r) => setTimeout(r, 100));
      expect(await attempted()).not.toBe(before);
      // logged once per record (the observer lists the pools every second), naming the pool and the record
      const logged = lines.map((l) => JSON.parse(l)).filter((l) => /malformed/.test(l.msg));
      expect(logged.filter((l) => l.pool === 'broken-summary')).toEqual([
        expect.objectContaining({ record: 'summary', pool: 'broken-summary' }),
      ]);
      expect(logged.some((l) => l.pool === 'broken-plan' && l.record === 'plan')).toBe(true);

      // a PUT rewrites the records
      for (const pool of ['broken-plan', 'broken-summary'])
        expect(
          (await app.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: smallWorkload() })).statusCode,
        ).toBe(200);
      expect((await app.inject({ url: '/v1/pools/broken-plan' })).statusCode).toBe(200);
      expect((await app.inject({ url: '/v1/pools' })).json().pools).toHaveLength(4);
      const healed = (await app.inject({ url: '/metrics' })).body;
      expect(healed).toMatch(/^lora_placer_store_bad_records\{kind="summary"\} 0$/m);
      expect(healed).toMatch(/^lora_placer_store_bad_records\{kind="plan"\} 0$/m);
    } finally {
      raw.disconnect();
      await app.close();
      await prometheus.close();
    }
  }, 30_000);

  describe('two service processes on one Redis', () => {
    const env = () => ({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: 'svc:', API_TOKEN: token, POOL_STALE_S: '3600' });
    let a: ServiceProcess;
    let b: ServiceProcess;
    const json = async (base: string, path: string): Promise<{ status: number; body: any }> => {
      const r = await fetch(`${base}${path}`);
      return { status: r.status, body: await r.json() };
    };
    const put = (base: string, pool: string, workload: unknown) =>
      fetch(`${base}/v1/pools/${pool}`, { method: 'PUT', headers: auth, body: JSON.stringify(workload) });
    beforeAll(async () => {
      [a, b] = await Promise.all([startService(env()), startService(env())]);
    }, 90_000);
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
    });

    it('answers the same pools, plans and autoscale from either replica', async () => {
      for (const [pool, scale] of [
        ['llama-a', 1],
        ['llama-b', 3],
      ] as const) {
        const w = smallWorkload({
          adapters: smallWorkload().adapters.map((ad: { rate: number }) => ({ ...ad, rate: ad.rate * scale })),
        });
        expect((await put(a.base, pool, w)).status).toBe(200);
      }
      expect((await put(b.base, 'qwen-c', smallWorkload({ model: 'qwen-2.5-7b-instruct' }))).status).toBe(200);
      for (const pool of ['llama-a', 'llama-b', 'qwen-c']) {
        const [fromA, fromB] = [await json(a.base, `/v1/pools/${pool}`), await json(b.base, `/v1/pools/${pool}`)];
        expect(fromA.status).toBe(200);
        expect(fromB).toEqual(fromA);
        expect(fromA.body.placement.modelVersion).toMatch(/\S/);
        const [scaleA, scaleB] = [
          await json(a.base, `/v1/pools/${pool}/autoscale`),
          await json(b.base, `/v1/pools/${pool}/autoscale`),
        ];
        expect(scaleA.status).toBe(200);
        expect(scaleB).toEqual(scaleA);
        expect(scaleA.body.desiredReplicas).toBe(fromA.body.placement.gpuCount);
      }
      expect((await json(b.base, '/v1/pools')).body).toEqual((await json(a.base, '/v1/pools')).body);
      expect((await json(b.base, '/v1/pools')).body.pools.map((p: { pool: string }) => p.pool)).toEqual([
        'llama-a',
        'llama-b',
        'qwen-c',
      ]);
      // a delete on one is seen by the other
      expect(
        (
          await fetch(`${b.base}/v1/pools/qwen-c`, {
            method: 'DELETE',
            headers: { authorization: auth.authorization },
          })
        ).status,
      ).toBe(204);
      expect((await json(a.base, '/v1/pools/qwen-c')).status).toBe(404);
      // readiness names the backend
      expect((await json(a.base, '/readyz')).body.store).toEqual({
        backend: 'redis',
        reachable: true,
        state: 'reachable',
      });
    }, 60_000);

    it('loses nothing acknowledged when a replica is killed (-9) in the middle of a plan, ' +
      'and answers the same after restart', async () => {
      const before = (await json(b.base, '/v1/pools')).body;
      const plansBefore = await Promise.all(
        before.pools.map((p: { pool: string }) => json(b.base, `/v1/pools/${p.pool}`)),
      );
      // a verified placement keeps the replica busy for a while: kill it while it works
      const inFlight = put(
        a.base,
        'llama-verified',
        smallWorkload({ verify: true, adapters: smallWorkload().adapters.map((ad: object) => ({ ...ad })) }),
      ).catch((err: unknown) => err);
      // killed once its worker is running the placement, not before the request arrived
      const running = async () =>
        /^lora_placer_work_tasks\{state="running"\} 1$/m.test(await (await fetch(`${a.base}/metrics`)).text());
      const deadline = Date.now() + 20_000;
      while (!(await running()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      a.process.kill('SIGKILL');
      expect(await inFlight).toBeInstanceOf(Error);
      a = await startService(env());
      const after = (await json(a.base, '/v1/pools')).body;
      const kept = after.pools.filter((p: { pool: string }) => p.pool !== 'llama-verified');
      expect(kept).toEqual(before.pools);
      for (const plan of plansBefore) expect(await json(a.base, `/v1/pools/${plan.body.pool}`)).toEqual(plan);
      // the PUT was never acknowledged; if it was stored, it is whole
      const maybe = await json(a.base, '/v1/pools/llama-verified');
      expect([200, 404]).toContain(maybe.status);
      if (maybe.status === 200) expect(maybe.body.placement.gpuCount).toBeGreaterThan(0);
    }, 90_000);

    it('answers 503 on pool routes while Redis is down, ' +
      'stays alive and unready, and recovers with the data when it is back', async () => {
      const before = (await json(a.base, '/v1/pools')).body;
      await redis.stop();
      const down = await json(b.base, '/v1/pools');
      expect(down.status).toBe(503);
      expect(down.body.error.code).toBe('LP_ERR_STORE_UNAVAILABLE');
      expect(Number((await fetch(`${b.base}/v1/pools`)).headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await put(b.base, 'while-down', smallWorkload())).status).toBe(503);
      expect((await fetch(`${b.base}/healthz`)).status).toBe(200);
      const ready = await json(b.base, '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.store).toEqual({ backend: 'redis', reachable: false, state: 'unreachable' });
      const metrics = await fetch(`${b.base}/metrics`);
      expect(metrics.status).toBe(200);
      const scraped = await metrics.text();
      expect(scraped).toMatch(/^lora_placer_store_reachable 0$/m);
      expect(scraped).toMatch(/^lora_placer_store_full 0$/m);
      await redis.restart();
      const deadline = Date.now() + 20_000;
      let back = await json(b.base, '/v1/pools').catch(() => ({ status: 0, body: null }));
      while (back.status !== 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        back = await json(b.base, '/v1/pools').catch(() => ({ status: 0, body: null }));
      }
      expect(back).toEqual({ status: 200, body: before });
      expect(b.process.exitCode).toBeNull();
    }, 60_000);
  });
});

// issue 22: every Redis failure read "cannot be reached" (503 LP_ERR_STORE_UNAVAILABLE, no Retry-After), a full
// Redis left /readyz and lora_placer_store_reachable saying all was well, and a timed-out write was in fact applied
describeWith(['redis-server'], 'a redis-server that is full or holds writes back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-redis-full-'));
  let redis: RedisServer;
  let raw: Redis;
  beforeAll(async () => {
    redis = await startRedis(dir, ['--maxmemory', '4mb', '--maxmemory-policy', 'noeviction']);
    raw = new Redis(redis.url);
  }, 30_000);
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('full (maxmemory, noeviction): a PUT answers 503 LP_ERR_STORE_FULL with Retry-After; reads and DELETE go on; ' +
    '/readyz stays ready and says full, and so does lora_placer_store_full', async () => {
    const app = await buildTestApp({ store: new RedisPoolStore({ url: redis.url, keyPrefix: 'full:' }) });
    try {
      for (const pool of ['kept', 'doomed'])
        expect(
          (await app.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: smallWorkload() })).statusCode,
        ).toBe(200);
      // big fillers, then small ones, until Redis refuses even a small write
      let fillers = 0;
      for (const size of [64 * 1024, 1024]) {
        for (;;) {
          const refused = await raw.set(`filler:${fillers}`, 'x'.repeat(size)).then(
            () => null,
            (err: Error) => err,
          );
          if (refused) {
            expect(refused.message).toMatch(/^OOM /);
            break;
          }
          if (++fillers > 5000) throw new Error('redis-server never refused a write: is maxmemory set?');
        }
      }
      const put = await app.inject({ method: 'PUT', url: '/v1/pools/new', payload: smallWorkload() });
      expect(put.statusCode).toBe(503);
      expect(put.json().error.code).toBe('LP_ERR_STORE_FULL');
      expect(put.json().error.message).toMatch(/full/);
      expect(put.json().error.message).not.toMatch(/cannot be reached/);
      expect(Number(put.headers['retry-after'])).toBeGreaterThan(0);
      // a full store still answers reads: lists, autoscale, predictions
      const list = await app.inject({ url: '/v1/pools' });
      expect(list.statusCode).toBe(200);
      expect(list.json().pools.map((p: { pool: string }) => p.pool)).toEqual(['doomed', 'kept']);
      expect((await app.inject({ url: '/v1/pools/kept/autoscale' })).statusCode).toBe(200);
      const ready = await app.inject({ url: '/readyz' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json().store).toEqual({ backend: 'redis', reachable: true, state: 'full' });
      const metrics = (await app.inject({ url: '/metrics' })).body;
      expect(metrics).toMatch(/^lora_placer_store_reachable 1$/m);
      expect(metrics).toMatch(/^lora_placer_store_full 1$/m);
      // a replica none of whose writes was refused reads it from INFO memory (here: maxmemory lowered below use)
      const other = await buildTestApp({ store: new RedisPoolStore({ url: redis.url, keyPrefix: 'full:' }) });
      try {
        await raw.config('SET', 'maxmemory', '1mb');
        expect((await other.inject({ url: '/readyz' })).json().store.state).toBe('full');
      } finally {
        await raw.config('SET', 'maxmemory', '4mb');
        await other.close();
      }
      // deleting pools frees memory: it works while the store is full
      expect((await app.inject({ method: 'DELETE', url: '/v1/pools/doomed' })).statusCode).toBe(204);
      await raw.del(...Array.from({ length: fillers }, (_, i) => `filler:${i}`));
      expect((await app.inject({ method: 'PUT', url: '/v1/pools/new', payload: smallWorkload() })).statusCode).toBe(
        200,
      );
      expect((await app.inject({ url: '/readyz' })).json().store.state).toBe('reachable');
      expect((await app.inject({ url: '/metrics' })).body).toMatch(/^lora_placer_store_full 0$/m);
    } finally {
      await app.close();
    }
  }, 60_000);

  it('a write held past the command timeout answers 503 LP_ERR_STORE_TIMEOUT with Retry-After, saying it may have ' +
    'been applied, as it then is', async () => {
    const app = await buildTestApp({
      store: new RedisPoolStore({ url: redis.url, keyPrefix: 'slow:', commandTimeoutMs: 300 }),
    });
    try {
      // writes wait until the pause ends (reads run, unless queued behind a write on the same connection)
      await raw.call('CLIENT', 'PAUSE', '3000', 'WRITE');
      const pausedAt = Date.now();
      const put = await app.inject({ method: 'PUT', url: '/v1/pools/late', payload: smallWorkload() });
      expect(Date.now() - pausedAt).toBeLessThan(3000);
      expect(put.statusCode).toBe(503);
      expect(put.json().error.code).toBe('LP_ERR_STORE_TIMEOUT');
      expect(put.json().error.message).toMatch(/may or may not have been applied/);
      expect(Number(put.headers['retry-after'])).toBeGreaterThan(0);
      // the read queues behind the held write on the one connection: it times out too, and says nothing of writes
      const read = await app.inject({ url: '/v1/pools/late' });
      expect(read.json().error.code).toBe('LP_ERR_STORE_TIMEOUT');
      expect(read.json().error.message).not.toMatch(/applied/);
      await sleep(3000 - (Date.now() - pausedAt) + 300);
      expect((await app.inject({ url: '/v1/pools/late' })).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  }, 30_000);
});

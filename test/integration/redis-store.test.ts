import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/real-parts.js';
import { freePort } from '../../src/shared/free-port.js';
import { AppError } from '../../src/shared/errors.js';
import { RedisPoolStore } from '../../src/store/redis-store.js';
import { smallWorkload } from '../helpers/app.js';
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
    expect(Date.now() - started).toBeLessThan(5000);
    await store.close();
  });

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
      expect((await json(a.base, '/readyz')).body.store).toEqual({ backend: 'redis', reachable: true });
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
      expect((await put(b.base, 'while-down', smallWorkload())).status).toBe(503);
      expect((await fetch(`${b.base}/healthz`)).status).toBe(200);
      const ready = await json(b.base, '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.store).toEqual({ backend: 'redis', reachable: false });
      const metrics = await fetch(`${b.base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toMatch(/^lora_placer_store_reachable 0$/m);
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

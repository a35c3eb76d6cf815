import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, smallWorkload } from '../helpers/app.js';

const token = 'test-token-123';

describe('pools and autoscaling', async () => {
  let now = Date.parse('2026-11-21T12:00:00Z');
  const app = await buildTestApp({ apiToken: token, poolStaleS: 600, now: () => now });
  afterAll(() => app.close());
  const auth = { authorization: `Bearer ${token}` };
  const put = (pool: string, payload: unknown, headers: Record<string, string> = auth) =>
    app.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: payload as object, headers });
  const gauge = async (name: string, pool: string): Promise<number | undefined> => {
    const text = (await app.inject({ url: '/metrics' })).body;
    const line = text.split('\n').find((l) => l.startsWith(`${name}{pool="${pool}"}`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };

  it('needs the token to change a pool', async () => {
    const r = await put('llama-prod', smallWorkload(), {});
    expect(r.statusCode).toBe(401);
    expect(r.json().error.code).toBe('LP_ERR_UNAUTHORIZED');
    expect((await put('llama-prod', smallWorkload(), { authorization: 'Bearer wrong-token-1' })).statusCode).toBe(401);
  });

  it('stores a workload, plans it, and feeds KEDA and Prometheus the same replica count', async () => {
    const r = await put('llama-prod', smallWorkload());
    expect(r.statusCode).toBe(200);
    const gpus = r.json().placement.gpuCount;
    expect(gpus).toBeGreaterThan(0);
    expect((await app.inject({ url: '/v1/pools/llama-prod' })).json().placement.gpuCount).toBe(gpus);
    const a = await app.inject({ url: '/v1/pools/llama-prod/autoscale' });
    expect(a.statusCode).toBe(200);
    expect(a.json()).toMatchObject({ pool: 'llama-prod', desiredReplicas: gpus, stale: false });
    expect(a.json().lowerBoundReplicas).toBeLessThanOrEqual(gpus);
    expect(await gauge('lora_placer_desired_replicas', 'llama-prod')).toBe(gpus);
    expect((await app.inject({ url: '/v1/pools' })).json().pools.map((p: { pool: string }) => p.pool)).toEqual([
      'llama-prod',
    ]);
  });

  it('answers 503 once the workload was not updated within POOL_STALE_S, and recovers on the next PUT', async () => {
    now += 601_000;
    const a = await app.inject({ url: '/v1/pools/llama-prod/autoscale' });
    expect(a.statusCode).toBe(503);
    expect(a.json().error.code).toBe('LP_ERR_STALE_PLAN');
    expect(a.json().error.details.stale).toBe(true);
    expect(await gauge('lora_placer_pool_plan_stale', 'llama-prod')).toBe(1);
    await put('llama-prod', smallWorkload());
    expect((await app.inject({ url: '/v1/pools/llama-prod/autoscale' })).statusCode).toBe(200);
  });

  it('rejects bad pool names and bad workloads, 404s unknown pools, forgets deleted ones', async () => {
    expect((await put('Bad_Name!', smallWorkload())).json().error.message).toMatch(/params\.pool/);
    expect((await put('p2', smallWorkload({ adapters: [] }))).statusCode).toBe(400);
    expect((await app.inject({ url: '/v1/pools/ghost/autoscale' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: '/v1/pools/llama-prod', headers: auth })).statusCode).toBe(204);
    expect((await app.inject({ url: '/v1/pools/llama-prod' })).statusCode).toBe(404);
    expect(await gauge('lora_placer_desired_replicas', 'llama-prod')).toBeUndefined();
  });
});

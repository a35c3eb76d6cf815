import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, llama } from '../helpers/app.js';

const token = 'refresh-token-2';
const auth = { authorization: `Bearer ${token}` };

describe('refreshes are bounded and can be cancelled', async () => {
  // big enough to still be sweeping when it is cancelled
  const app = await buildTestApp({
    apiToken: token,
    refresh: { modelsDir: null, workloads: 2000, maxWorkloads: 5000, threads: 1, seed: 3 },
  });
  afterAll(() => app.close());
  const start = (payload: object) => app.inject({ method: 'POST', url: '/v1/models/refresh', payload, headers: auth });

  it('refuses more workloads than REFRESH_MAX_WORKLOADS with 413', async () => {
    const r = await start({ ...llama, workloads: 1_000_000 });
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toMatchObject({
      code: 'LP_ERR_TOO_MUCH_WORK',
      details: { limit: 'REFRESH_MAX_WORKLOADS', allowed: 5000 },
    });
  });

  it('cancels a running refresh: the job ends cancelled, the served model stays, a new refresh may start', async () => {
    const served = (await app.inject({ url: '/v1/models' }))
      .json()
      .models.find((m: { model: string; gpu: string }) => m.model === llama.model && m.gpu === llama.gpu).version;
    const job = (await start(llama)).json();
    expect(job.state).toBe('running');
    expect((await app.inject({ method: 'DELETE', url: `/v1/models/refresh/${job.id}` })).statusCode).toBe(401);
    const cancelled = await app.inject({ method: 'DELETE', url: `/v1/models/refresh/${job.id}`, headers: auth });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ id: job.id, state: 'cancelled', error: 'cancelled by request' });
    expect(
      (await app.inject({ url: '/v1/models' }))
        .json()
        .models.find((m: { model: string; gpu: string }) => m.model === llama.model && m.gpu === llama.gpu).version,
    ).toBe(served);
    const again = await app.inject({ method: 'DELETE', url: `/v1/models/refresh/${job.id}`, headers: auth });
    expect(again.statusCode).toBe(409);
    expect(
      (await app.inject({ method: 'DELETE', url: '/v1/models/refresh/no-such-job', headers: auth })).statusCode,
    ).toBe(404);
    const next = await start({ ...llama, workloads: 50 });
    expect(next.statusCode).toBe(202);
    await app.inject({ method: 'DELETE', url: `/v1/models/refresh/${next.json().id}`, headers: auth });
  }, 60_000);
});

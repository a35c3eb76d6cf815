import { afterAll, describe, expect, it } from 'vitest';
import { PoolPlans } from '../../src/api/pool-plans.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { MemoryPoolStore } from '../../src/store/memory-store.js';
import { buildTestApp, llama, smallWorkload } from '../helpers/app.js';
import { storedPlan } from '../helpers/store-contract.js';

const tiny = { workloads: 50, threads: 1, seed: 7, teacherTrees: 4, denseSamples: 3000, modelsDir: null };

// Two apps on one store stand for two replicas on one Redis (test/integration/redis-store.test.ts runs real ones).
describe('replicas sharing a store', async () => {
  const store = new MemoryPoolStore();
  const one = await buildTestApp({ store, replicaId: 'replica-1', refresh: tiny });
  const two = await buildTestApp({ store, replicaId: 'replica-2', refresh: tiny });
  afterAll(async () => {
    await one.close();
    await two.close();
  });

  it('a pool PUT on one replica is planned, listed and autoscaled the same on the other', async () => {
    expect((await one.inject({ method: 'PUT', url: '/v1/pools/shared', payload: smallWorkload() })).statusCode).toBe(
      200,
    );
    for (const path of ['/v1/pools/shared', '/v1/pools/shared/autoscale', '/v1/pools'])
      expect((await two.inject({ url: path })).json()).toEqual((await one.inject({ url: path })).json());
  });

  // issue 22: a pool deleted on one replica kept its series on the others forever
  it("drops a pool's series on every replica once another replica deleted it", async () => {
    const put = (payload: object) => one.inject({ method: 'PUT', url: '/v1/pools/moving', payload });
    expect((await put(smallWorkload())).statusCode).toBe(200);
    // four adapters leave, four join: the re-plan moves adapters, counted by the replica that stored it
    const base = smallWorkload();
    const joined = Array.from({ length: 4 }, (_, i) => ({ id: `new-${i}`, rank: 8, rate: 0.5 }));
    const moved = (await put({ ...base, adapters: base.adapters.slice(4).concat(joined) })).json().placement.moves;
    expect(moved.count).toBeGreaterThan(0);
    const series = async () =>
      (await one.inject({ url: '/metrics' })).body.split('\n').filter((l) => l.includes('pool="moving"'));
    expect(await series()).toContain(`lora_placer_adapter_moves_total{pool="moving"} ${moved.count}`);
    expect((await two.inject({ method: 'DELETE', url: '/v1/pools/moving' })).statusCode).toBe(204);
    expect(await series()).toEqual([]);
  });

  it('accepts one of two refreshes started at once on one replica', async () => {
    const answers = await Promise.all(
      [1, 2].map(() => one.inject({ method: 'POST', url: '/v1/models/refresh', payload: llama })),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([202, 409]);
    const started = answers.find((a) => a.statusCode === 202)!.json();
    expect((await one.inject({ method: 'DELETE', url: `/v1/models/refresh/${started.id}` })).json().state).toBe(
      'cancelled',
    );
  });

  it('runs one refresh at a time across the replicas, and either one answers for it', async () => {
    const started = await one.inject({ method: 'POST', url: '/v1/models/refresh', payload: llama });
    expect(started.statusCode).toBe(202);
    const refused = await two.inject({ method: 'POST', url: '/v1/models/refresh', payload: llama });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.details).toEqual({ runningOn: 'replica-1' });
    const seen = (await two.inject({ url: `/v1/models/refresh/${started.json().id}` })).json();
    expect(seen).toMatchObject({ id: started.json().id, replica: 'replica-1', state: 'running' });
    // only the replica running it can cancel it
    expect(
      (await two.inject({ method: 'DELETE', url: `/v1/models/refresh/${started.json().id}` })).json().error.message,
    ).toMatch(/another replica/);
    let ended = seen;
    while (ended.state === 'running') {
      await new Promise((r) => setTimeout(r, 200));
      ended = (await two.inject({ url: `/v1/models/refresh/${started.json().id}` })).json();
    }
    expect(ended).toEqual((await one.inject({ url: `/v1/models/refresh/${started.json().id}` })).json());
    expect(ended.finishedAt).not.toBeNull();
    // the lease was freed: the other replica may refresh now
    const next = await two.inject({ method: 'POST', url: '/v1/models/refresh', payload: llama });
    expect(next.statusCode).toBe(202);
    await two.inject({ method: 'DELETE', url: `/v1/models/refresh/${next.json().id}` });
  }, 120_000);

  it('ends as failed a job left running by a replica that died (it no longer holds the refresh lease)', async () => {
    const earlier = (await store.listJobs())[0]!;
    await store.putJob(
      {
        ...earlier,
        id: 'orphan-1',
        state: 'running',
        replica: 'replica-gone',
        error: null,
        finishedAt: null,
        durationS: null,
      },
      100,
    );
    const job = (await one.inject({ url: '/v1/models/refresh/orphan-1' })).json();
    expect(job).toMatchObject({ state: 'failed', error: expect.stringMatching(/stopped before it ended/) });
    expect((await store.getJob('orphan-1'))!.state).toBe('failed');
  });
});

describe('re-planning a pool after a model swap', () => {
  const predictors = PredictorRegistry.fromDirectory(embeddedProfiles());
  const served = predictors.get(llama.model, llama.gpu).version;
  const plans = (store: MemoryPoolStore, placeFn: ConstructorParameters<typeof PoolPlans>[0]['placeFn']) =>
    new PoolPlans({ store, predictors, placeFn, staleS: 0, maxPools: 10, replicaId: 'me' });
  const replanned = (gpuCount: number) => async () => ({
    ...storedPlan('x', 0, gpuCount).placement,
    modelVersion: served,
  });

  it('re-plans a pool computed with another model version, keeping its workload and updatedAt', async () => {
    const store = new MemoryPoolStore();
    await store.putPlan(storedPlan('p', 100), 10);
    await plans(store, replanned(4)).recompute(llama.model, llama.gpu);
    const after = (await store.getPlan('p'))!;
    expect(after.placement).toMatchObject({ gpuCount: 4, modelVersion: served });
    expect(after.updatedAt).toBe(100);
  });

  it('does not overwrite a workload PUT while it was re-planning', async () => {
    const store = new MemoryPoolStore();
    await store.putPlan(storedPlan('p', 100), 10);
    const slowPlace = async () => {
      await store.putPlan(storedPlan('p', 200, 9), 10);
      return replanned(4)();
    };
    await plans(store, slowPlace).recompute(llama.model, llama.gpu);
    expect((await store.getPlan('p'))!).toMatchObject({ updatedAt: 200, placement: { gpuCount: 9 } });
  });

  // issue 22: a replica killed while it held `replan:<pool>` left the pool stale until its next PUT
  it('re-plans a pool whose lease holder died, once the lease has expired', async () => {
    const store = new MemoryPoolStore();
    await store.putPlan(storedPlan('p', 100), 10);
    // the dead replica took the lease (same TTL as the survivor's) and never renews nor frees it
    await store.acquireLease('replan:p', 'dead-replica', 300);
    let placed = 0;
    const survivor = new PoolPlans({
      store,
      predictors,
      placeFn: async () => {
        placed++;
        return replanned(4)();
      },
      staleS: 0,
      maxPools: 10,
      replicaId: 'survivor',
      replanLeaseMs: 300,
    });
    expect(await survivor.recompute(llama.model, llama.gpu)).toEqual([]);
    expect(placed).toBe(0);
    const deadline = Date.now() + 3000;
    while ((await store.getPlan('p'))!.placement.modelVersion !== served && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect((await store.getPlan('p'))!.placement).toMatchObject({ gpuCount: 4, modelVersion: served });
    expect(placed).toBe(1);
    expect(await store.leaseHolder('replan:p')).toBeNull();
  });

  it('retries while the holder is alive, and leaves the pool alone once the holder has re-planned it', async () => {
    const store = new MemoryPoolStore();
    await store.putPlan(storedPlan('p', 100), 10);
    await store.acquireLease('replan:p', 'busy-replica', 200);
    // the holder renews its lease, as withLease does, for three lease periods, then stores its plan
    const renew = setInterval(() => void store.acquireLease('replan:p', 'busy-replica', 200), 50);
    let placed = 0;
    const survivor = new PoolPlans({
      store,
      predictors,
      placeFn: async () => {
        placed++;
        return replanned(4)();
      },
      staleS: 0,
      maxPools: 10,
      replicaId: 'survivor',
      replanLeaseMs: 200,
    });
    try {
      await survivor.recompute(llama.model, llama.gpu);
      await new Promise((r) => setTimeout(r, 600));
      expect(placed).toBe(0);
      const read = (await store.getPlan('p'))!;
      await store.replacePlanIf({ ...read, placement: await replanned(6)() }, read.revision!);
    } finally {
      clearInterval(renew);
    }
    await store.releaseLease('replan:p', 'busy-replica');
    await new Promise((r) => setTimeout(r, 500));
    expect(placed).toBe(0);
    expect((await store.getPlan('p'))!.placement.gpuCount).toBe(6);
  });

  it('leaves a pool to the replica holding its lease', async () => {
    const store = new MemoryPoolStore();
    await store.putPlan(storedPlan('p', 100), 10);
    await store.acquireLease('replan:p', 'other-replica', 60_000);
    let placed = 0;
    await plans(store, async () => {
      placed++;
      return replanned(4)();
    }).recompute(llama.model, llama.gpu);
    expect(placed).toBe(0);
    expect((await store.getPlan('p'))!.placement.gpuCount).toBe(2);
  });
});

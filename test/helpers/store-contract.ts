import { describe, expect, it } from 'vitest';
import type { PoolStore, StoredPlan } from '../../src/store/pool-store.js';
import { withLease } from '../../src/store/pool-store.js';

/** A plan with enough of a placement to round-trip (the store keeps it as opaque JSON). */
export function storedPlan(pool: string, updatedAt: number, gpuCount = 2): StoredPlan {
  return {
    pool,
    workload: {
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      adapters: [{ id: 'a', rank: 8, rate: 1 }],
    } as unknown as StoredPlan['workload'],
    placement: { gpuCount, lowerBound: 1, modelVersion: 'v1', gpus: [] } as unknown as StoredPlan['placement'],
    updatedAt,
    computedAt: updatedAt,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What every PoolStore backend must do; `open` gives a fresh, empty store. */
export function storeContract(backend: string, open: () => Promise<PoolStore>): void {
  describe(`the ${backend} store`, () => {
    it('keeps plans whole, lists them by name, replaces and deletes them', async () => {
      const store = await open();
      expect(await store.putPlan(storedPlan('b', 10), 10)).toBe('stored');
      expect(await store.putPlan(storedPlan('a', 20), 10)).toBe('stored');
      expect(await store.getPlan('a')).toEqual({ ...storedPlan('a', 20), revision: expect.any(String) });
      expect((await store.listSummaries()).map((p) => p.pool)).toEqual(['a', 'b']);
      expect((await store.listSummaries())[0]).toEqual({
        pool: 'a',
        model: 'llama-3.1-8b-instruct',
        gpu: 'h100-64gb',
        gpuCount: 2,
        lowerBound: 1,
        modelVersion: 'v1',
        updatedAt: 20,
        computedAt: 20,
        observePeriodS: null,
        observeAttemptedAt: null,
        revision: expect.any(String),
      });
      expect(await store.putPlan(storedPlan('a', 30, 5), 10)).toBe('stored');
      expect((await store.getPlan('a'))!.placement.gpuCount).toBe(5);
      expect((await store.listSummaries())[0]!.gpuCount).toBe(5);
      expect(await store.countPools()).toBe(2);
      expect(await store.hasPool('b')).toBe(true);
      expect(await store.deletePlan('b')).toBe(true);
      expect(await store.deletePlan('b')).toBe(false);
      expect(await store.getPlan('b')).toBeNull();
      expect((await store.listSummaries()).map((p) => p.pool)).toEqual(['a']);
      expect(await store.hasPool('b')).toBe(false);
      await store.close();
    });

    it('refuses a pool past maxPools but still replaces a kept one', async () => {
      const store = await open();
      expect(await store.putPlan(storedPlan('a', 1), 2)).toBe('stored');
      expect(await store.putPlan(storedPlan('b', 1), 2)).toBe('stored');
      expect(await store.putPlan(storedPlan('c', 1), 2)).toBe('full');
      expect(await store.putPlan(storedPlan('a', 2), 2)).toBe('stored');
      expect(await store.countPools()).toBe(2);
      await store.close();
    });

    it('replaces a plan conditionally: only while nobody wrote it since it was read', async () => {
      const store = await open();
      await store.putPlan(storedPlan('a', 100), 10);
      const read = (await store.getPlan('a'))!;
      expect(read.revision).toMatch(/\S/);
      expect(
        await store.replacePlanIf(
          { ...read, placement: storedPlan('a', 100, 7).placement, computedAt: 150 },
          read.revision!,
        ),
      ).toBe(true);
      expect((await store.getPlan('a'))!.placement.gpuCount).toBe(7);
      // a second writer holding the same revision loses, even with the same updatedAt
      expect(await store.replacePlanIf({ ...read, placement: storedPlan('a', 100, 8).placement }, read.revision!)).toBe(
        false,
      );
      expect((await store.getPlan('a'))!.placement.gpuCount).toBe(7);
      expect((await store.listSummaries())[0]).toMatchObject({ gpuCount: 7, computedAt: 150, updatedAt: 100 });
      const beforePut = (await store.getPlan('a'))!.revision!;
      await store.putPlan(storedPlan('a', 200, 3), 10);
      expect(await store.replacePlanIf(storedPlan('a', 100, 9), beforePut)).toBe(false);
      expect((await store.getPlan('a'))!.placement.gpuCount).toBe(3);
      expect(await store.replacePlanIf(storedPlan('ghost', 1), 'none')).toBe(false);
      expect(await store.getPlan('ghost')).toBeNull();
      await store.close();
    });

    it('keeps the newest job records in start order; an update keeps its place', async () => {
      const store = await open();
      for (const id of ['j1', 'j2', 'j3']) await store.putJob({ id, state: 'running' }, 2);
      expect((await store.listJobs()).map((j) => j.id)).toEqual(['j2', 'j3']);
      expect(await store.getJob('j1')).toBeNull();
      await store.putJob({ id: 'j2', state: 'kept', decision: 'worse' }, 2);
      expect(await store.listJobs()).toEqual([
        { id: 'j2', state: 'kept', decision: 'worse' },
        { id: 'j3', state: 'running' },
      ]);
      await store.close();
    });

    it(
      'gives a lease to one owner at a time, ' + 'extends it for its owner, and frees it on expiry or release',
      async () => {
        const store = await open();
        expect(await store.acquireLease('replan:a', 'r1', 300)).toBe(true);
        expect(await store.acquireLease('replan:a', 'r2', 300)).toBe(false);
        expect(await store.acquireLease('replan:a', 'r1', 300)).toBe(true);
        expect(await store.leaseHolder('replan:a')).toBe('r1');
        await store.releaseLease('replan:a', 'r2');
        expect(await store.leaseHolder('replan:a')).toBe('r1');
        await sleep(450);
        expect(await store.leaseHolder('replan:a')).toBeNull();
        expect(await store.acquireLease('replan:a', 'r2', 300)).toBe(true);
        await store.releaseLease('replan:a', 'r2');
        expect(await store.acquireLease('replan:a', 'r1', 300)).toBe(true);
        await store.close();
      },
    );

    it('withLease runs the work for one owner and skips it for another meanwhile', async () => {
      const store = await open();
      let release!: () => void;
      const first = withLease(store, 'job', 'r1', 1000, () => new Promise<string>((r) => (release = () => r('done'))));
      await sleep(20);
      expect(await withLease(store, 'job', 'r2', 1000, async () => 'ran')).toEqual({ ran: false });
      release();
      expect(await first).toEqual({ ran: true, value: 'done' });
      expect(await withLease(store, 'job', 'r2', 1000, async () => 'ran')).toEqual({ ran: true, value: 'ran' });
      await store.close();
    });
  });
}

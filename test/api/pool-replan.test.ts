import { afterAll, describe, expect, it } from 'vitest';
import { alignGpus } from '../../src/placement/gpu-alignment.js';
import { movesBetween } from '../../src/placement/moves.js';
import type { Placement } from '../../src/placement/index.js';
import { buildTestApp, smallWorkload } from '../helpers/app.js';

/** The workload of smallWorkload after a drift: rates up 40 % on a third of the adapters, four leave, four join. */
function drifted() {
  const base = smallWorkload();
  const adapters = base.adapters
    .filter((_, i) => i < 36)
    .map((a, i) => (i % 3 === 1 ? { ...a, rate: a.rate * 1.4 } : a))
    .concat(Array.from({ length: 4 }, (_, i) => ({ id: `new-${i}`, rank: 8, rate: 0.5 })));
  return { ...base, adapters };
}

describe('a pool re-planned from its current placement', async () => {
  const app = await buildTestApp({});
  afterAll(() => app.close());
  const put = (payload: unknown) =>
    app.inject({ method: 'PUT', url: '/v1/pools/drifting', payload: payload as object });
  const movesMetric = async (): Promise<number | undefined> => {
    const line = (await app.inject({ url: '/metrics' })).body
      .split('\n')
      .find((l) => l.startsWith('lora_placer_adapter_moves_total{pool="drifting"}'));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };

  it('reports its moves, fewer than placing from scratch, counted in lora_placer_adapter_moves_total', async () => {
    const first = await put(smallWorkload());
    expect(first.statusCode).toBe(200);
    const current: Placement = first.json().placement;
    // a new pool has nothing to move from
    expect(current.moves).toBeUndefined();

    const second = await put(drifted());
    expect(second.statusCode).toBe(200);
    const next: Placement = second.json().placement;
    expect(next.moves).toBeDefined();
    expect(next.unplaced).toEqual([]);
    expect(next.gpus.every((g) => g.meets.met)).toBe(true);
    // the four new adapters are loaded somewhere; the departed ones are removed from their GPUs
    const added = new Set(next.moves!.added.flatMap((a) => a.adapters));
    for (let i = 0; i < 4; i++) expect(added.has(`new-${i}`)).toBe(true);
    const removed = new Set(next.moves!.removed.flatMap((r) => r.adapters));
    for (const id of ['ad-36', 'ad-37', 'ad-38', 'ad-39']) expect(removed.has(id)).toBe(true);

    const scratch: Placement = (await app.inject({ method: 'POST', url: '/v1/placements', payload: drifted() })).json();
    const scratchMoves = movesBetween(current, scratch, alignGpus(current, scratch)).count;
    expect(next.moves!.count).toBeLessThanOrEqual(scratchMoves);
    expect(await movesMetric()).toBe(next.moves!.count);

    // the same workload again: nothing moves, and the counter stays
    const again: Placement = (await put(drifted())).json().placement;
    expect(again.moves!.count).toBe(0);
    expect(await movesMetric()).toBe(next.moves!.count);
  });

  it('places from scratch what a re-plan cannot answer: a lower maxGpus, the min-latency objective', async () => {
    const capped = { ...drifted(), maxGpus: 1 };
    const scratchCapped: Placement = (
      await app.inject({ method: 'POST', url: '/v1/placements', payload: capped })
    ).json();
    const cappedPlan: Placement = (await put(capped)).json().placement;
    expect(cappedPlan.moves).toBeUndefined();
    expect(cappedPlan.gpuCount).toBe(1);
    expect(cappedPlan.unplaced.length).toBe(scratchCapped.unplaced.length);
    const spread = { ...drifted(), objective: 'min-latency', gpuCount: 3 };
    const spreadPlan: Placement = (await put(spread)).json().placement;
    expect(spreadPlan.moves).toBeUndefined();
    expect(spreadPlan.gpuCount).toBe(3);
  });

  it("drops the pool's series when the pool is deleted", async () => {
    expect((await app.inject({ method: 'DELETE', url: '/v1/pools/drifting' })).statusCode).toBe(204);
    expect(await movesMetric()).toBeUndefined();
  });
});

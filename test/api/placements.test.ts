import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, smallWorkload } from '../helpers/app.js';

describe('POST /v1/placements', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/placements', payload: payload as object });

  it("places every adapter, routes each adapter's whole rate, and renders vLLM flags", async () => {
    const w = smallWorkload();
    const r = await post(w);
    expect(r.statusCode).toBe(200);
    const p = r.json();
    expect(p.gpuCount).toBe(p.gpus.length);
    expect(p.gpuCount).toBeGreaterThanOrEqual(p.lowerBound);
    expect(p.unplaced).toEqual([]);
    const routed = new Map<string, number>();
    for (const g of p.gpus) for (const a of g.adapters) routed.set(a.id, (routed.get(a.id) ?? 0) + a.rate);
    for (const a of w.adapters) expect(routed.get(a.id)).toBeCloseTo(a.rate, 9);
    expect(p.gpus[0].vllmArgs).toEqual(
      expect.arrayContaining(['--enable-lora', `--max-loras=${p.gpus[0].engine.maxLoras}`, '--lora-modules']),
    );
  });

  it('verifies every GPU with the Twin when asked', async () => {
    const r = await post(smallWorkload({ verify: true, options: { verifyDurationS: 120 } }));
    expect(r.statusCode).toBe(200);
    const p = r.json();
    expect(p.verification.simulatedGpus).toBeGreaterThanOrEqual(p.gpuCount);
    for (const g of p.gpus) expect(g.verified.memoryError).toBeNull();
  });

  it('rejects duplicate adapter ids and unknown models', async () => {
    const dup = smallWorkload();
    dup.adapters[3]!.id = dup.adapters[2]!.id;
    const r = await post(dup);
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toMatch(/adapters\.3\.id/);
    expect((await post(smallWorkload({ model: 'nope' }))).json().error.code).toBe('LP_ERR_UNKNOWN_PROFILE');
  });
});

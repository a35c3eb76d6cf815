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

  it('reads a bare number for inputTokens / outputTokens as the mean, and says how to write a bad one', async () => {
    const bare = await post(smallWorkload({ inputTokens: 400, outputTokens: 120 }));
    expect(bare.statusCode, bare.body).toBe(200);
    const spelled = await post(smallWorkload({ inputTokens: { mean: 400 }, outputTokens: { mean: 120 } }));
    const p = bare.json();
    expect(p.gpus).toEqual(spelled.json().gpus);
    const rate = smallWorkload().adapters.reduce((s, a) => s + a.rate, 0);
    expect(p.totals.promptTokensPerSecond).toBeCloseTo(400 * rate, 6);
    expect(p.totals.outputTokensPerSecond).toBeCloseTo(120 * rate, 6);
    const bad = await post(smallWorkload({ outputTokens: '120' }));
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/outputTokens: a number \(the mean, tokens\) or a length object/);
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

import { describe, expect, it } from 'vitest';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { withinHysteresis } from '../../src/placement/hysteresis.js';
import { parseWorkload, place } from '../../src/placement/index.js';
import { embeddedProfiles } from '../../src/profiles/index.js';

const llama = PredictorRegistry.fromDirectory(embeddedProfiles()).get('llama-3.1-8b-instruct', 'h100-64gb');

/** One adapter at 2 req/s, no headroom: the GPU is judged at exactly the figures its answer reports. */
const workload = (slo: object, judgeSloOn?: 'estimate' | 'bound') =>
  parseWorkload({
    model: 'llama-3.1-8b-instruct',
    gpu: 'h100-64gb',
    adapters: [{ id: 'a', rank: 8, rate: 2 }],
    slo,
    options: { headroom: 0, ...(judgeSloOn ? { judgeSloOn } : {}) },
  });

describe('placement judging the SLO on the calibrated bounds', () => {
  it('reports the bounds of each GPU and judges on the estimates by default', async () => {
    const p = await place(workload({ ttftP99Ms: 100_000, itlP99Ms: 100_000 }), llama);
    expect(p.judgedOn).toBe('estimate');
    const g = p.gpus[0]!.predicted;
    expect(g.ttftP99UpperMs).toBeGreaterThan(g.ttftP99Ms);
    expect(g.itlP99UpperMs).toBeGreaterThanOrEqual(g.itlP99Ms);
    expect(g.ttftMeanUpperMs).toBeGreaterThanOrEqual(g.ttftMs);
    expect(g.worstAdapterTtftUpperMs).toBeGreaterThanOrEqual(g.worstAdapterTtftMs);
  });

  it('places a GPU whose estimate meets the p99 TTFT target, not its bound, only when judging estimates', async () => {
    const g = (await place(workload({ ttftP99Ms: 100_000, itlP99Ms: 100_000 }), llama)).gpus[0]!.predicted;
    // a target between the estimate and its bound
    const slo = { ttftP99Ms: Math.round((g.ttftP99Ms + g.ttftP99UpperMs!) / 2), itlP99Ms: 100_000 };
    const byEstimate = await place(workload(slo, 'estimate'), llama);
    expect(byEstimate.gpuCount).toBe(1);
    expect(byEstimate.gpus[0]!.meets.met).toBe(true);
    const byBound = await place(workload(slo, 'bound'), llama);
    expect(byBound.judgedOn).toBe('bound');
    expect(byBound.gpuCount).toBe(0);
    expect(byBound.unplaced).toEqual([
      {
        id: 'a',
        rate: 2,
        reason: expect.stringMatching(/^the upper bound of the predicted p99 TTFT \d+ ms alone on a GPU exceeds/),
      },
    ]);
  });

  it("explains a GPU's binding by the bound it was judged on", async () => {
    const g = (await place(workload({ ttftP99Ms: 100_000, itlP99Ms: 100_000 }), llama)).gpus[0]!.predicted;
    const slo = { ttftP99Ms: Math.ceil(g.ttftP99UpperMs! * 1.02), itlP99Ms: 100_000 };
    const b = (await place(workload(slo, 'bound'), llama)).gpus[0]!.binding!;
    expect(b).toMatchObject({ constraint: 'slo', figure: 'ttftP99Ms', limit: slo.ttftP99Ms });
    expect(b.value).toBeCloseTo(g.ttftP99UpperMs!, 6);
    expect(b.summary).toContain('p99 TTFT, bounded at');
  });

  it('keeps a placement under hysteresis only for a re-plan judging the same figures', async () => {
    const loose = { ttftP99Ms: 100_000, itlP99Ms: 100_000 };
    const current = await place(workload(loose), llama);
    expect(withinHysteresis(workload(loose, 'estimate'), current, 0.1)).toBe(true);
    expect(withinHysteresis(workload(loose, 'bound'), current, 0.1)).toBe(false);
  });
});

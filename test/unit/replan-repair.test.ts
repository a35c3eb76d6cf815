import { describe, expect, it } from 'vitest';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { parseWorkload, place, type Workload } from '../../src/placement/index.js';
import { replan } from '../../src/placement/replan.js';
import type { GpuSimulator } from '../../src/placement/verify.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { simulateParsed } from '../../src/twin/index.js';

const llama = PredictorRegistry.fromDirectory(embeddedProfiles()).get('llama-3.1-8b-instruct', 'h100-64gb');

/** 40 adapters, one hot and 39 small ones, as in replan.test.ts; verified with short runs, no descent. */
const options = { verifyDurationS: 30, descend: false, maxRepairRounds: 2 };
const spread: Workload = {
  model: 'llama-3.1-8b-instruct',
  gpu: 'h100-64gb',
  adapters: Array.from({ length: 40 }, (_, i) => ({
    id: `ad-${i}`,
    rank: i % 3 === 0 ? 16 : 8,
    rate: i === 0 ? 6 : 0.6 + (i % 5) * 0.1,
  })),
  criterion: 'throughput',
  verify: true,
  options,
};

describe('replan: the Twin repairs every GPU it faults', () => {
  it('repairs a GPU that misses after receiving shed items, past maxRepairRounds rounds', async () => {
    const plain: GpuSimulator = async (scenarios) => scenarios.map((sc) => simulateParsed(sc, llama.profile));
    const before = await place(parseWorkload(spread), llama, { simulate: plain });
    expect(before.gpuCount).toBe(2);
    // a stand-in Twin (short runs; only its verdicts matter): a GPU starves when it holds more adapters
    // than its GPU of `before` (the one it shares the most adapters with), so no GPU may grow
    const homes = before.gpus.map((g) => new Set(g.adapters.map((a) => a.id)));
    const standIn: GpuSimulator = async (scenarios) =>
      scenarios.map((sc) => {
        const shared = (home: Set<string>): number => sc.adapters.filter((a) => home.has(a.id)).length;
        const home = homes.reduce((best, h) => (shared(h) > shared(best) ? h : best));
        return { ...simulateParsed(sc, llama.profile), starvedAdapters: [], starved: sc.adapters.length > home.size };
      });
    // every rate at 70 % (room on both GPUs) and a new adapter: the GPU it joins misses and sheds onto
    // the other one, which misses from round 2 on and needs a second cut in round 3, past maxRepairRounds
    // (the rounds used to end there and leave it missing)
    const quieter: Workload = {
      ...spread,
      adapters: [...spread.adapters.map((a) => ({ ...a, rate: 0.7 * a.rate })), { id: 'ad-new', rank: 8, rate: 0.2 }],
    };
    const p = await replan(parseWorkload(quieter), llama, before, { simulate: standIn });
    expect(p.gpus.map((g) => g.meets)).toEqual(p.gpus.map(() => expect.objectContaining({ met: true, basis: 'twin' })));
    expect(p.verification!.gpusMissingCriterion).toBe(0);
    expect(p.verification!.rounds).toBeGreaterThan(options.maxRepairRounds + 1);
    expect(p.unplaced).toEqual([]);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { bundleKey, writeFlatBundle } from '../../src/ml/bundle-store.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { Predictor } from '../../src/ml/predictor.js';
import { parseWorkload, place, type Placement } from '../../src/placement/index.js';
import { vllmArgs } from '../../src/placement/vllm-args.js';
import { embeddedProfiles, profileKey, ProfileStore } from '../../src/profiles/index.js';
import { AppError } from '../../src/shared/errors.js';
import { parseScenario, simulateParsed } from '../../src/twin/index.js';
import { tpBundle, tpGpu, tpModel, tpProfile, tpStores } from '../helpers/tensor-parallel.js';
import { skewedWorkload } from '../helpers/workloads.js';

const llama = { model: 'llama-3.1-8b-instruct', gpu: 'h100-64gb' } as const;
const newPlacementKeys = ['serverCount', 'gpusPerServer', 'totalGpus', 'lowerBoundGpus'];

/** The error `fn` throws (it must throw an AppError). */
function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

/** A placement without the figures that differ between identical runs. */
const stable = (p: Placement) => ({ ...p, elapsedMs: 0 });

describe('profile keys and the profile store', () => {
  it('keys a one-GPU profile model@gpu as before, and a TP-N one model@gpu-tpN', () => {
    expect(profileKey('m', 'g')).toBe('m@g');
    expect(profileKey('m', 'g', 1)).toBe('m@g');
    expect(profileKey('m', 'g', 4)).toBe('m@g-tp4');
  });

  it('selects among profiles that share model and GPU: default the smallest size, else the size asked', () => {
    const one = embeddedProfiles().get(llama.model, llama.gpu);
    const four = tpProfile(4, llama.model);
    const store = new ProfileStore([four, one]);
    expect(store.tensorParallelSizes(llama.model, llama.gpu)).toEqual([1, 4]);
    expect(store.get(llama.model, llama.gpu)).toBe(one);
    expect(store.get(llama.model, llama.gpu, 1)).toBe(one);
    expect(store.get(llama.model, llama.gpu, 4)).toBe(four);
    // with no one-GPU profile, the default is the smallest size there is
    expect(new ProfileStore([four]).get(llama.model, llama.gpu)).toBe(four);
  });

  it('answers an unknown size 404 LP_ERR_UNKNOWN_PROFILE naming the sizes known', () => {
    const store = new ProfileStore([embeddedProfiles().get(llama.model, llama.gpu), tpProfile(4, llama.model)]);
    const err = thrown(() => store.get(llama.model, llama.gpu, 2));
    expect(err.code).toBe('LP_ERR_UNKNOWN_PROFILE');
    expect(err.status).toBe(404);
    expect(err.message).toContain('tensorParallelSize 2');
    expect(err.message).toContain('known tensorParallelSize: 1, 4');
    expect(err.details).toMatchObject({
      tensorParallelSize: 2,
      knownTensorParallelSizes: [1, 4],
      known: ['llama-3.1-8b-instruct@h100-64gb', 'llama-3.1-8b-instruct@h100-64gb-tp4'],
    });
    // an unknown pair keeps the message it always had
    expect(thrown(() => store.get('nope', 'h100-64gb')).message).toMatch(/^no profile for model "nope" on gpu/);
  });

  it('reads a <model>@<gpu>-tpN.json file from a profiles folder under its own key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lora-placer-tp-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, `${tpModel}@${tpGpu}-tp4.json`), JSON.stringify(tpProfile(4)));
    const store = ProfileStore.fromDirectory(dir);
    expect(store.get(tpModel, tpGpu).tensorParallelSize).toBe(4);
    expect(thrown(() => store.get(tpModel, tpGpu, 1)).details).toMatchObject({ knownTensorParallelSizes: [4] });
  });
});

describe('the predictor registry at a tensor-parallel size', () => {
  const { profiles, predictors } = tpStores();

  it('finds the TP-4 predictors with or without the size, and refuses other sizes naming the known', () => {
    expect(predictors.get(tpModel, tpGpu).profile.tensorParallelSize).toBe(4);
    expect(predictors.get(tpModel, tpGpu, 4).profile.tensorParallelSize).toBe(4);
    const err = thrown(() => predictors.get(tpModel, tpGpu, 8));
    expect(err.code).toBe('LP_ERR_UNKNOWN_PROFILE');
    expect(err.details).toMatchObject({ knownTensorParallelSizes: [4] });
    expect(profiles.get(llama.model, llama.gpu).tensorParallelSize).toBeUndefined();
  });

  it('takes the size the profiles default to: a TP-1 profile without predictors is "no predictor", not TP 4', () => {
    const one = embeddedProfiles().get(llama.model, llama.gpu);
    const four = tpProfile(4, llama.model);
    const store = new ProfileStore([one, four]);
    const registry = new PredictorRegistry([new Predictor(four, tpBundle(4, llama.model))], store);
    expect(thrown(() => registry.get(llama.model, llama.gpu)).message).toMatch(/^no predictor for model/);
    expect(registry.get(llama.model, llama.gpu, 4).profile).toBe(four);
  });
});

describe('predictor bundles of a TP-N profile on disk', () => {
  it('live in <model>@<gpu>-tpN/ and load for the TP-N profile; the one-GPU folder name is refused', () => {
    const root = mkdtempSync(join(tmpdir(), 'lora-placer-tp-bundles-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const bundle = tpBundle(4);
    expect(bundleKey(bundle)).toBe(`${tpModel}@${tpGpu}-tp4`);
    writeFlatBundle(join(root, 'good', bundleKey(bundle)), bundle);
    const { profiles } = tpStores();
    const loaded = PredictorRegistry.fromDirectory(profiles, join(root, 'good'));
    expect(loaded.list().map((p) => p.profile.tensorParallelSize)).toEqual([4]);
    expect(loaded.get(tpModel, tpGpu).version).toBe(bundle.metadata.version);
    writeFlatBundle(join(root, 'bad', `${tpModel}@${tpGpu}`), bundle);
    const problems: string[] = [];
    PredictorRegistry.fromDirectory(profiles, join(root, 'bad'), (err) => problems.push(err.message));
    expect(problems).toEqual([expect.stringContaining(`holds ${tpModel}@${tpGpu}-tp4`)]);
  });
});

describe('vLLM arguments of a server', () => {
  const knobs = { maxLoras: 8, maxCpuLoras: 16, maxLoraRank: 16, maxNumBatchedTokens: 2048, maxNumSeqs: 256 };
  it('carry --tensor-parallel-size=N above one GPU, and nothing new for one', () => {
    expect(vllmArgs({ ...knobs, tensorParallelSize: 4, modules: [] })).toContain('--tensor-parallel-size=4');
    expect(vllmArgs({ ...knobs, tensorParallelSize: 1, modules: [] })).toEqual(vllmArgs({ ...knobs, modules: [] }));
    expect(vllmArgs({ ...knobs, modules: [] }).join(' ')).not.toContain('tensor-parallel');
  });
});

describe('placement on servers of 4 GPUs', async () => {
  const { predictors } = tpStores();
  const adapters = skewedWorkload(120, 9000).adapters;
  const tp4 = await place(
    parseWorkload({ model: tpModel, gpu: tpGpu, tensorParallelSize: 4, adapters }),
    predictors.get(tpModel, tpGpu, 4),
  );
  const tp1 = await place(parseWorkload({ ...llama, adapters }), predictors.get(llama.model, llama.gpu));

  it('answers servers and GPUs: totalGpus = servers x 4, lowerBoundGpus = lowerBound x 4', () => {
    expect(tp4.gpuCount).toBeGreaterThan(1);
    expect(tp4.serverCount).toBe(tp4.gpuCount);
    expect(tp4.gpus).toHaveLength(tp4.gpuCount);
    expect(tp4.gpusPerServer).toBe(4);
    expect(tp4.totalGpus).toBe(4 * tp4.gpuCount);
    expect(tp4.lowerBoundGpus).toBe(4 * tp4.lowerBound);
  });

  it('gives every server tensorParallelSize 4 and --tensor-parallel-size=4 in its vllmArgs', () => {
    for (const g of tp4.gpus) {
      expect(g.tensorParallelSize).toBe(4);
      expect(g.vllmArgs.filter((a) => a.startsWith('--tensor-parallel-size'))).toEqual(['--tensor-parallel-size=4']);
    }
  });

  it('places as the TP-1 profile with the same physics does, server for server (the fixture is that profile)', () => {
    // what the size adds is named, nothing else differs
    const strip = (p: Placement) => ({
      ...stable(p),
      model: null,
      serverCount: undefined,
      gpusPerServer: undefined,
      totalGpus: undefined,
      lowerBoundGpus: undefined,
      gpus: p.gpus.map((g) => ({
        ...g,
        // the bounds take the factors of the model's name: the fixture's, uncalibrated, the pooled ones
        predicted: {
          ...g.predicted,
          ttftP99UpperMs: undefined,
          itlP99UpperMs: undefined,
          ttftMeanUpperMs: undefined,
          worstAdapterTtftUpperMs: undefined,
        },
        tensorParallelSize: undefined,
        vllmArgs: g.vllmArgs.filter((a) => a !== '--tensor-parallel-size=4'),
      })),
    });
    expect(JSON.parse(JSON.stringify(strip(tp4)))).toEqual(JSON.parse(JSON.stringify(strip(tp1))));
  });

  it('leaves a one-GPU answer as it was: no new field, and an explicit size 1 answers the same bytes', async () => {
    for (const key of newPlacementKeys) expect(tp1).not.toHaveProperty(key);
    for (const g of tp1.gpus) {
      expect(g).not.toHaveProperty('tensorParallelSize');
      expect(g.vllmArgs.join(' ')).not.toContain('tensor-parallel');
    }
    const explicit = await place(
      parseWorkload({ ...llama, tensorParallelSize: 1, adapters }),
      predictors.get(llama.model, llama.gpu, 1),
    );
    expect(JSON.stringify(stable(explicit))).toBe(JSON.stringify(stable(tp1)));
  });

  it("refuses a workload whose size is not the predictors' (400 naming tensorParallelSize)", async () => {
    const w = parseWorkload({ ...llama, tensorParallelSize: 2, adapters });
    await expect(place(w, predictors.get(llama.model, llama.gpu))).rejects.toMatchObject({
      code: 'LP_ERR_INVALID_INPUT',
      details: { issues: [{ path: 'tensorParallelSize' }] },
    });
  });

  it('verifies TP-4 servers with the Twin on the TP-4 profile', async () => {
    const few = adapters.slice(0, 30);
    const verified = await place(
      parseWorkload({
        model: tpModel,
        gpu: tpGpu,
        tensorParallelSize: 4,
        adapters: few,
        verify: true,
        options: { verifyDurationS: 120, descend: false },
      }),
      predictors.get(tpModel, tpGpu, 4),
    );
    expect(verified.verification?.simulatedGpus).toBeGreaterThan(0);
    for (const g of verified.gpus) expect(g.verified?.completedRequests).toBeGreaterThan(0);
    expect(verified.totalGpus).toBe(4 * verified.gpuCount);
  });
});

describe('a Scenario names its servers', () => {
  const profile = tpProfile(4);
  const scenario = (tensorParallelSize?: number) =>
    parseScenario({
      model: tpModel,
      gpu: tpGpu,
      ...(tensorParallelSize !== undefined ? { tensorParallelSize } : {}),
      engine: { maxLoras: 4 },
      adapters: [{ id: 'a', rank: 8, rate: 1 }],
      durationS: 30,
    });

  it('simulates with the profile of its size, and refuses a profile of another size', () => {
    expect(simulateParsed(scenario(4), profile).completedRequests).toBeGreaterThan(0);
    expect(simulateParsed(scenario(), profile).completedRequests).toBeGreaterThan(0);
    const err = thrown(() => simulateParsed(scenario(2), profile));
    expect(err.code).toBe('LP_ERR_INVALID_INPUT');
    expect(JSON.stringify(err.details)).toContain('tensorParallelSize');
  });

  it('refuses a size out of range at the boundary', () => {
    expect(thrown(() => scenario(0)).code).toBe('LP_ERR_INVALID_INPUT');
    expect(thrown(() => parseScenario({ ...scenario(), tensorParallelSize: 1.5 })).code).toBe('LP_ERR_INVALID_INPUT');
  });
});

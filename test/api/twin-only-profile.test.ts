import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { ThreadBackend } from '../../src/jobs/work-queue.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { profilesWith } from '../../src/profiles/index.js';
import { buildTestApp, llama, smallScenario } from '../helpers/app.js';
import { twinOnly, twinOnlyProfileDir, twinOnlyWorkload } from '../helpers/twin-only-profile.js';

// A profile given in a profile directory (PROFILES_DIR) and no predictors for it: listed with its file,
// answered by short Twin runs on the service's worker threads, said so in the answers.

const fixture = twinOnlyProfileDir();
afterAll(() => fixture.remove());
const profiles = profilesWith([fixture.dir]);
const token = 'twin-only-token';

describe('a profile without predictors, from a profile directory', async () => {
  // a real worker thread: it must read the fixture directory too (the embedded profiles lack the model)
  const app = await buildApp({
    profiles,
    predictors: PredictorRegistry.fromDirectory(profiles),
    work: new ThreadBackend(1),
    apiToken: token,
  });
  afterAll(() => app.close());
  const auth = { authorization: `Bearer ${token}` };
  const post = (url: string, payload: unknown, headers: Record<string, string> = auth) =>
    app.inject({ method: 'POST', url, payload: payload as object, headers });

  it('lists every profile with its source, file, Hugging Face id and whether it has predictors', async () => {
    const r = await app.inject({ method: 'GET', url: '/v1/profiles' });
    expect(r.statusCode).toBe(200);
    const listed = r.json().profiles as Record<string, unknown>[];
    expect(listed.find((p) => p.model === twinOnly.model)).toMatchObject({
      gpu: 'h100-64gb',
      file: fixture.file,
      hasPredictors: false,
      source: { kind: 'calibrated' },
      tensorParallelSize: 1,
      hfModelId: null,
    });
    expect(listed.find((p) => p.model === llama.model && p.gpu === llama.gpu)).toMatchObject({
      hasPredictors: true,
      hfModelId: 'meta-llama/Llama-3.1-8B-Instruct',
      source: { kind: 'calibrated', measuredOn: expect.stringContaining('h100-64gb') },
    });
  });

  it('places with the Twin alone, says so and what it cost, the same answer for the same seed', async () => {
    const first = await post('/v1/placements', twinOnlyWorkload());
    expect(first.statusCode).toBe(200);
    const p = first.json();
    expect(p).toMatchObject({ model: twinOnly.model, estimator: 'twin', unplaced: [] });
    expect(p.modelVersion).toMatch(/^twin-v1-/);
    expect(p.twinEstimate.runs).toBeGreaterThan(0);
    expect(p.twinEstimate.note).toContain('no predictors for llama-twin-only@h100-64gb');
    const again = (await post('/v1/placements', twinOnlyWorkload())).json();
    const stable = (x: { gpus: unknown; routing: unknown; twinEstimate: { runs: number } }) => ({
      gpus: x.gpus,
      routing: x.routing,
      runs: x.twinEstimate.runs,
    });
    expect(stable(again)).toEqual(stable(p));
    const reseeded = (await post('/v1/placements', twinOnlyWorkload({ options: { verifySeed: 5 } }))).json();
    expect(reseeded.gpus.map((g: { predicted: unknown }) => g.predicted)).not.toEqual(
      p.gpus.map((g: { predicted: unknown }) => g.predicted),
    );
  });

  it('predicts from a short Twin run on the work queue, with the token the Twin routes need', async () => {
    const body = smallScenario(twinOnly);
    expect((await post('/v1/predict', body, {})).statusCode).toBe(401);
    const r = await post('/v1/predict', body);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ estimator: 'twin', memoryError: false, twinEstimate: { runs: 1 } });
    // a profile with predictors still answers without the token, on the HTTP thread
    const trees = await post('/v1/predict', smallScenario(), {});
    expect(trees.statusCode).toBe(200);
    expect(trees.json().estimator).toBe('predictors');
  });

  it('keeps a pool of it current (its plan made with the Twin estimator is not stale)', async () => {
    const put = await app.inject({
      method: 'PUT',
      url: '/v1/pools/twin-pool',
      payload: twinOnlyWorkload(),
      headers: auth,
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ stale: false, placement: { estimator: 'twin' } });
    const autoscale = await app.inject({ method: 'GET', url: '/v1/pools/twin-pool/autoscale' });
    expect(autoscale.json()).toMatchObject({ stale: false, desiredReplicas: put.json().placement.gpuCount });
  });
});

describe('models named by their Hugging Face id', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });

  it('simulates, predicts and places them, the answers naming the profile', async () => {
    const hf = { model: 'META-LLAMA/Llama-3.1-8B-Instruct' };
    expect((await post('/v1/simulate', smallScenario(hf))).json()).toEqual(
      expect.objectContaining({ memoryError: null }),
    );
    const predicted = await post('/v1/predict', smallScenario(hf));
    expect(predicted.json().modelVersion).toBe((await post('/v1/predict', smallScenario())).json().modelVersion);
    const placed = (
      await post('/v1/placements', twinOnlyWorkload({ model: 'meta-llama/llama-3.1-8b-instruct' }))
    ).json();
    expect(placed).toMatchObject({ model: llama.model, estimator: 'predictors' });
    const unknown = await post('/v1/predict', smallScenario({ model: 'meta-llama/Llama-3.1-70B-Instruct' }));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toContain('meta-llama/Llama-3.1-8B-Instruct');
  });
});

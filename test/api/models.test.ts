import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../src/ml/bundle-store.js';
import { Predictor } from '../../src/ml/predictor.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles, profileKey } from '../../src/profiles/index.js';
import { buildTestApp, llama } from '../helpers/app.js';
import { predictorKeys, embeddedKeys } from '../helpers/embedded-profiles.js';

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const token = 'refresh-token-1';
const auth = { authorization: `Bearer ${token}` };
const tiny = { workloads: 50, threads: 1, seed: 7, teacherTrees: 4, denseSamples: 3000 };

/** The embedded registry with the Llama throughput student replaced by a constant: any real candidate beats it. */
function degradedRegistry(): PredictorRegistry {
  const profiles = embeddedProfiles();
  const registry = PredictorRegistry.fromDirectory(profiles);
  const served = registry.get(llama.model, llama.gpu);
  const trees = {
    ...served.bundle.trees,
    throughput: { ...served.bundle.trees.throughput, root: { distribution: 0 } },
  };
  registry.swap(new Predictor(served.profile, { metadata: { ...served.bundle.metadata, version: 'degraded' }, trees }));
  return registry;
}

async function waitForJob(app: Awaited<ReturnType<typeof buildTestApp>>, id: string): Promise<Record<string, unknown>> {
  for (;;) {
    const job = (await app.inject({ url: `/v1/models/refresh/${id}` })).json();
    if (job.state !== 'running') return job;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('models and refresh', async () => {
  it('lists profiles and the served models with their metrics', async () => {
    const app = await buildTestApp();
    const profiles = (await app.inject({ url: '/v1/profiles' })).json().profiles;
    type Listed = { model: string; gpu: string; tensorParallelSize: number; hasPredictors: boolean };
    const key = (p: Listed) => profileKey(p.model, p.gpu, p.tensorParallelSize);
    expect(profiles.map(key)).toEqual(embeddedKeys);
    // built profiles without predictors are answered by the Twin; the calibrated ones and two built ones have theirs
    expect(
      profiles
        .filter((p: Listed) => p.hasPredictors)
        .map(key)
        .sort(),
    ).toEqual(predictorKeys);
    const models = (await app.inject({ url: '/v1/models' })).json().models;
    const meta = JSON.parse(
      readFileSync(
        new URL('../../models/predictors/llama-3.1-8b-instruct@h100-64gb/metadata.json', import.meta.url),
        'utf8',
      ),
    );
    const llamaModel = models.find(
      (m: { model: string; gpu: string }) => m.model === llama.model && m.gpu === llama.gpu,
    );
    expect(llamaModel.version).toBe(meta.version);
    expect(llamaModel.metrics.realRuns.throughput.smapeResearch).toBe(
      meta.metrics.realRuns.student.throughput.smapeResearch,
    );
    await app.close();
  });

  it('refuses refreshes without the token, of unknown models and with bad bodies', async () => {
    const app = await buildTestApp({ apiToken: token, refresh: { ...tiny, modelsDir: null } });
    const post = (payload: unknown, headers: Record<string, string> = auth) =>
      app.inject({ method: 'POST', url: '/v1/models/refresh', payload: payload as object, headers });
    expect((await post(llama, {})).statusCode).toBe(401);
    expect((await post({ model: 'nope', gpu: 'h100-64gb' })).json().error.code).toBe('LP_ERR_UNKNOWN_PROFILE');
    expect((await post({ ...llama, workloads: 3 })).json().error.message).toMatch(/workloads/);
    expect((await app.inject({ url: '/v1/models/refresh/none' })).statusCode).toBe(404);
    await app.close();
  });

  it('refreshes in the background, one at a time, and swaps ' +
    'in a model that is not worse, persisted atomically', async () => {
    const app = await buildTestApp({
      predictors: degradedRegistry(),
      apiToken: token,
      refresh: { ...tiny, modelsDir: dir },
    });
    const started = await app.inject({ method: 'POST', url: '/v1/models/refresh', payload: llama, headers: auth });
    expect(started.statusCode).toBe(202);
    expect(started.headers.location).toBe(`/v1/models/refresh/${started.json().id}`);
    expect(
      (await app.inject({ method: 'POST', url: '/v1/models/refresh', payload: llama, headers: auth })).statusCode,
    ).toBe(409);
    // the event loop stays free while the refresh runs
    expect((await app.inject({ url: '/healthz' })).statusCode).toBe(200);
    const job = await waitForJob(app, started.json().id);
    expect(job.state).toBe('replaced');
    const candidate = job.candidate as { version: string };
    const models = (await app.inject({ url: '/v1/models' })).json().models;
    const refreshed = models.find(
      (m: { model: string; gpu: string }) => m.model === llama.model && m.gpu === llama.gpu,
    );
    expect(refreshed.version).toBe(candidate.version);
    const onDisk = readBundle(join(dir, 'predictors', 'llama-3.1-8b-instruct@h100-64gb')).metadata;
    expect(onDisk.version).toBe(candidate.version);
    const metrics = (await app.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/lora_placer_refresh_duration_seconds_count\{outcome="replaced"\} 1/);
    expect(metrics).toContain(
      `lora_placer_model_info{model="llama-3.1-8b-instruct",gpu="h100-64gb",version="${candidate.version}"} 1`,
    );
    await app.close();
  }, 180_000);

  it('a failed refresh leaves the old model serving and shows in the job and the metrics', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, 'x');
    const app = await buildTestApp({ refresh: { ...tiny, modelsDir: file } });
    const before = (await app.inject({ url: '/v1/models' })).json().models;
    const started = await app.inject({ method: 'POST', url: '/v1/models/refresh', payload: llama });
    const job = await waitForJob(app, started.json().id);
    expect(job.state).toBe('failed');
    expect(job.error).toMatch(/ENOTDIR|not a directory/i);
    expect((await app.inject({ url: '/v1/models' })).json().models).toEqual(before);
    expect((await app.inject({ url: '/metrics' })).body).toMatch(/lora_placer_refresh_failures_total 1/);
    await app.close();
  });
});

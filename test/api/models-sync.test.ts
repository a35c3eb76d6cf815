import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelsDirSync } from '../../src/jobs/models-sync.js';
import { studentVersion, writeBundle, type PredictorBundle } from '../../src/ml/bundle.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { buildTestApp, llama, smallWorkload } from '../helpers/app.js';

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const profiles = embeddedProfiles();
const bundleDir = join(dir, 'predictors', 'llama-3.1-8b-instruct@h100-64gb');

/** The embedded Llama bundle with its throughput leaf values scaled: another, consistent version. */
function variant(scale: number): PredictorBundle {
  const base = PredictorRegistry.fromDirectory(profiles).get(llama.model, llama.gpu).bundle;
  const root = JSON.parse(JSON.stringify(base.trees.throughput.root), (k, v) => (k === 'distribution' && typeof v === 'number' ? v * scale : v));
  const trees = { ...base.trees, throughput: { ...base.trees.throughput, root } };
  return { trees, metadata: { ...base.metadata, version: studentVersion(trees) } };
}

describe('MODELS_DIR: models another replica refreshed', () => {
  it('are served from the start, and swapped in when they change', async () => {
    const first = variant(0.5);
    writeBundle(bundleDir, first);
    const app = await buildTestApp({ modelsSync: { dir, intervalS: 0 } });
    const served = async () => (await app.inject({ url: '/v1/models' })).json().models.find((m: { model: string }) => m.model === llama.model).version;
    expect(await served()).toBe(first.metadata.version);
    await app.close();
  });

  it('re-plan the pools of a model swapped in while serving', async () => {
    writeBundle(bundleDir, variant(0.5));
    const app = await buildTestApp({ modelsSync: { dir, intervalS: 0.1 } });
    await app.ready();
    expect((await app.inject({ method: 'PUT', url: '/v1/pools/p1', payload: smallWorkload() })).statusCode).toBe(200);
    const next = variant(0.75);
    writeBundle(bundleDir, next);
    const planned = async () => (await app.inject({ url: '/v1/pools/p1' })).json().placement.modelVersion;
    while ((await planned()) !== next.metadata.version) await new Promise((r) => setTimeout(r, 50));
    const a = await app.inject({ url: '/v1/pools/p1/autoscale' });
    expect(a.statusCode).toBe(200);
    expect(a.json().modelVersion).toBe(next.metadata.version);
    await app.close();
  });

  it('skip a bundle whose trees do not match its metadata (caught mid-write), and load it once complete', () => {
    const predictors = PredictorRegistry.fromDirectory(profiles);
    const errors: string[] = [];
    const sync = new ModelsDirSync({ dir, predictors, profiles, onError: (e) => errors.push(e.message) });
    const next = variant(0.25);
    writeBundle(bundleDir, next);
    writeFileSync(join(bundleDir, 'metadata.json'), JSON.stringify({ ...next.metadata, version: 'half-written' }));
    expect(sync.syncOnce()).toEqual([]);
    expect(errors[0]).toMatch(/do not hash/);
    writeBundle(bundleDir, next);
    expect(sync.syncOnce()).toEqual(['llama-3.1-8b-instruct@h100-64gb']);
    expect(predictors.get(llama.model, llama.gpu).version).toBe(next.metadata.version);
    expect(sync.syncOnce()).toEqual([]);
  });
});

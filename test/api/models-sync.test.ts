import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelsDirSync } from '../../src/jobs/models-sync.js';
import { studentVersion, writeBundle, type PredictorBundle } from '../../src/ml/bundle.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { buildTestApp, llama } from '../helpers/app.js';

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

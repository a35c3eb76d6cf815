import {
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  chmodSync,
  readFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelsDirSync } from '../../src/jobs/models-sync.js';
import { writeFlatBundle, writeVersionedBundle } from '../../src/ml/bundle-store.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { buildTestApp, llama, smallWorkload } from '../helpers/app.js';
import { llamaBundleName, variant } from '../helpers/bundle-variant.js';

/** the version of the embedded Llama predictors (models/predictors), whatever the last training made it */
const embeddedLlamaVersion = (
  JSON.parse(
    readFileSync(
      new URL('../../models/predictors/llama-3.1-8b-instruct@h100-64gb/metadata.json', import.meta.url),
      'utf8',
    ),
  ) as { version: string }
).version;

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const profiles = embeddedProfiles();
const bundleDir = join(dir, 'predictors', llamaBundleName);

describe('MODELS_DIR: models another replica refreshed', () => {
  it('are served from the start, and swapped in when they change', async () => {
    const first = variant(0.5);
    writeVersionedBundle(bundleDir, first);
    const app = await buildTestApp({ modelsSync: { dir, intervalS: 0 } });
    const served = async () =>
      (await app.inject({ url: '/v1/models' }))
        .json()
        .models.find((m: { model: string; gpu: string }) => m.model === llama.model && m.gpu === llama.gpu).version;
    expect(await served()).toBe(first.metadata.version);
    await app.close();
  });

  it('re-plan the pools of a model swapped in while serving', async () => {
    writeVersionedBundle(bundleDir, variant(0.5));
    const app = await buildTestApp({ modelsSync: { dir, intervalS: 0.1 } });
    await app.ready();
    expect((await app.inject({ method: 'PUT', url: '/v1/pools/p1', payload: smallWorkload() })).statusCode).toBe(200);
    const next = variant(0.75);
    writeVersionedBundle(bundleDir, next);
    const planned = async () => (await app.inject({ url: '/v1/pools/p1' })).json().placement.modelVersion;
    while ((await planned()) !== next.metadata.version) await new Promise((r) => setTimeout(r, 50));
    const a = await app.inject({ url: '/v1/pools/p1/autoscale' });
    expect(a.statusCode).toBe(200);
    expect(a.json().modelVersion).toBe(next.metadata.version);
    await app.close();
  });

  it(
    'skip a flat (legacy) bundle whose trees do not match its metadata (caught mid-write), ' +
      'and load it once complete',
    () => {
      const legacy = mkdtempSync(join(tmpdir(), 'lora-placer-sync-flat-'));
      const flatDir = join(legacy, 'predictors', llamaBundleName);
      const predictors = PredictorRegistry.fromDirectory(profiles);
      const errors: string[] = [];
      const sync = new ModelsDirSync({ dir: legacy, predictors, profiles, onError: (e) => errors.push(e.message) });
      const next = variant(0.25);
      writeFlatBundle(flatDir, next);
      writeFileSync(join(flatDir, 'metadata.json'), JSON.stringify({ ...next.metadata, version: 'half-written' }));
      expect(sync.syncOnce()).toEqual([]);
      expect(errors[0]).toMatch(/do not hash/);
      writeFlatBundle(flatDir, next);
      expect(sync.syncOnce()).toEqual([llamaBundleName]);
      expect(predictors.get(llama.model, llama.gpu).version).toBe(next.metadata.version);
      expect(sync.syncOnce()).toEqual([]);
      rmSync(legacy, { recursive: true, force: true });
    },
  );
});

describe('MODELS_DIR problems never stop the service', () => {
  const served = variant(0.5);

  /** A MODELS_DIR serving `served`, synced once; `errors` collects what onError gets, as "dir: message". */
  function syncedModelsDir() {
    const modelsDir = mkdtempSync(join(tmpdir(), 'lora-placer-sync-bad-'));
    const predictorsDir = join(modelsDir, 'predictors');
    writeVersionedBundle(join(predictorsDir, llamaBundleName), served);
    const predictors = PredictorRegistry.fromDirectory(profiles);
    const errors: string[] = [];
    const sync = new ModelsDirSync({
      dir: modelsDir,
      predictors,
      profiles,
      onError: (e, d) => errors.push(`${d}: ${e.message}`),
    });
    expect(sync.syncOnce()).toEqual([llamaBundleName]);
    expect(errors).toEqual([]);
    /** one pass that must not throw, report exactly one problem, and keep the served model */
    const passReportsOne = (message: RegExp): void => {
      errors.length = 0;
      expect(sync.syncOnce()).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(message);
      expect(predictors.get(llama.model, llama.gpu).version).toBe(served.metadata.version);
    };
    return { modelsDir, predictorsDir, sync, errors, passReportsOne };
  }

  const asRoot = process.getuid?.() === 0;
  it(
    'predictors unreadable ' +
      `(${asRoot ? 'running as root, where chmod 000 denies nothing: a symlink loop' : 'chmod 000'}): reported on ` +
      'every pass, served model kept, recovered after',
    () => {
      const t = syncedModelsDir();
      const aside = join(t.modelsDir, 'predictors-aside');
      if (asRoot) {
        renameSync(t.predictorsDir, aside);
        symlinkSync(t.predictorsDir, t.predictorsDir);
      } else {
        chmodSync(t.predictorsDir, 0);
      }
      t.passReportsOne(/cannot list predictor bundles in .*predictors: /);
      t.passReportsOne(/cannot list predictor bundles/);
      if (asRoot) {
        rmSync(t.predictorsDir);
        renameSync(aside, t.predictorsDir);
      } else {
        chmodSync(t.predictorsDir, 0o755);
      }
      t.errors.length = 0;
      expect(t.sync.syncOnce()).toEqual([]);
      expect(t.errors).toEqual([]);
      rmSync(t.modelsDir, { recursive: true, force: true });
    },
  );

  it('predictors replaced by a regular file', () => {
    const t = syncedModelsDir();
    rmSync(t.predictorsDir, { recursive: true });
    writeFileSync(t.predictorsDir, 'not a folder');
    t.passReportsOne(/cannot list predictor bundles in .*predictors: ENOTDIR/);
    rmSync(t.modelsDir, { recursive: true, force: true });
  });

  it('predictors/<model>@<gpu> replaced by a regular file', () => {
    const t = syncedModelsDir();
    rmSync(join(t.predictorsDir, llamaBundleName), { recursive: true });
    writeFileSync(join(t.predictorsDir, llamaBundleName), 'not a folder');
    t.passReportsOne(/llama-3\.1-8b-instruct@h100-64gb: .* is not a directory, so not a predictor bundle/);
    rmSync(t.modelsDir, { recursive: true, force: true });
  });

  it('predictors removed while serving', () => {
    const t = syncedModelsDir();
    rmSync(t.predictorsDir, { recursive: true });
    t.passReportsOne(/llama-3\.1-8b-instruct@h100-64gb is gone; the model loaded from it stays served/);
    mkdirSync(t.predictorsDir);
    t.passReportsOne(/is gone/);
    rmSync(t.modelsDir, { recursive: true, force: true });
  });

  it(
    'start-up with predictors a regular file: the app builds, ' + 'warns through onError, serves the embedded models',
    async () => {
      const modelsDir = mkdtempSync(join(tmpdir(), 'lora-placer-sync-start-'));
      writeFileSync(join(modelsDir, 'predictors'), 'not a folder');
      const app = await buildTestApp({ modelsSync: { dir: modelsDir, intervalS: 0 } });
      const models = (await app.inject({ url: '/v1/models' })).json().models as {
        model: string;
        gpu: string;
        version: string;
      }[];
      expect(models.find((m) => m.model === llama.model && m.gpu === llama.gpu)!.version).toBe(embeddedLlamaVersion);
      await app.close();
      rmSync(modelsDir, { recursive: true, force: true });
    },
  );

  it('fromDirectory with onError reports a bad bundle and loads the others; without it, throws', () => {
    const t = syncedModelsDir();
    const qwenDir = join(t.predictorsDir, 'qwen-2.5-7b-instruct@h100-64gb');
    mkdirSync(qwenDir);
    writeFileSync(join(qwenDir, 'CURRENT'), 'v-000000000000\n');
    const errors: string[] = [];
    const registry = PredictorRegistry.fromDirectory(profiles, t.predictorsDir, (e, d) =>
      errors.push(`${d}: ${e.message}`),
    );
    expect(registry.list().map((p) => p.version)).toEqual([served.metadata.version]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/qwen.*CURRENT names v-000000000000, which is missing/);
    expect(() => PredictorRegistry.fromDirectory(profiles, t.predictorsDir)).toThrow(/which is missing/);
    rmSync(t.modelsDir, { recursive: true, force: true });
  });
});

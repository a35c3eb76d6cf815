import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelsDirSync } from '../../src/jobs/models-sync.js';
import { studentVersion, type PredictorBundle } from '../../src/ml/bundle.js';
import { readBundle } from '../../src/ml/bundle-store.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { Rng } from '../../src/shared/rng.js';
import { llamaBundleName, variant } from '../helpers/bundle-variant.js';

const writer = fileURLToPath(new URL('../helpers/write-bundles-forever.ts', import.meta.url));
const modelsDir = mkdtempSync(join(tmpdir(), 'lora-placer-crash-'));
afterAll(() => rmSync(modelsDir, { recursive: true, force: true }));
const predictorsDir = join(modelsDir, 'predictors');
const bundleDir = join(predictorsDir, llamaBundleName);
const profiles = embeddedProfiles();
const embeddedVersion = PredictorRegistry.fromDirectory(profiles).get('llama-3.1-8b-instruct', 'h100-64gb').version;

/**
 * Starts the writer on two variants, lets it publish for `delayMs` after it is ready, kills it with
 * SIGKILL; returns how many writes it reported finished.
 */
function writeThenKill(scales: [number, number], delayMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, bundleDir, ...scales.map(String)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      if (!out.startsWith('ready\n') && `${out}${chunk}`.startsWith('ready\n'))
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      out += chunk;
    });
    child.on('error', reject);
    // 'close', not 'exit': the lines written before the kill may still be in the pipe at exit
    child.on('close', (code, signal) =>
      signal === 'SIGKILL'
        ? resolve(out.split('\n').filter((l) => l.startsWith('published ')).length)
        : reject(new Error(`writer exited ${code}`)),
    );
  });
}

/** The Llama version a fresh replica serves from MODELS_DIR; both load paths must agree and report nothing. */
function servedAfterRestart(): string {
  const errors: Error[] = [];
  const direct = PredictorRegistry.fromDirectory(profiles, predictorsDir, (e) => errors.push(e));
  const predictors = PredictorRegistry.fromDirectory(profiles);
  new ModelsDirSync({ dir: modelsDir, predictors, profiles, onError: (e) => errors.push(e) }).syncOnce();
  expect(errors).toEqual([]);
  const version = predictors.get('llama-3.1-8b-instruct', 'h100-64gb').version;
  expect(direct.list().map((p) => p.version)).toEqual(version === embeddedVersion ? [] : [version]);
  return version;
}

describe('a refresh killed (SIGKILL) while publishing to MODELS_DIR', () => {
  it('leaves the old bundle or the new one, whole, for a fresh start to serve', async () => {
    const rng = new Rng(20261121);
    const bundles = new Map<string, PredictorBundle>();
    let served = embeddedVersion;
    let published = 0;
    // 20 kills at least; on a loaded machine a writer publishes less before its kill, so up to 60 runs
    // are made until more than 5 writes had finished (the kills must also land after finished writes)
    for (let run = 0; run < 60 && (run < 20 || published <= 5); run++) {
      // new versions every run, so each run writes version directories, not only CURRENT
      const scales: [number, number] = [0.5 + run / 100, 0.75 + run / 100];
      const order = scales.map((s) => variant(s));
      for (const b of order) bundles.set(b.metadata.version, b);
      const done = await writeThenKill(scales, Math.floor(rng.next() * 60));
      published += done;
      // the write in flight at the kill either switched CURRENT or did not: the last finished one, or the next
      const inFlight = order[done % 2]!.metadata.version;
      const before = done === 0 ? served : order[(done - 1) % 2]!.metadata.version;
      served = servedAfterRestart();
      expect([before, inFlight]).toContain(served);
      if (served === embeddedVersion) continue;
      const onDisk = readBundle(bundleDir);
      expect(studentVersion(onDisk.trees)).toBe(onDisk.metadata.version);
      expect(onDisk).toEqual(bundles.get(served));
    }
    expect(published).toBeGreaterThan(5);
    expect(served).not.toBe(embeddedVersion);
    // every version directory renamed in is whole: its trees hash to its name
    for (const entry of readdirSync(bundleDir).filter((e) => e.startsWith('v-'))) {
      expect(studentVersion(readBundle(join(bundleDir, entry)).trees)).toBe(entry.slice(2));
    }
  }, 180_000);
});

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shippedProfiles } from '../../src/profiles/build/shipped-profiles.js';
import { defaultProfilesDir, keyOf, loadProfileFile, profileKey, sourceOf } from '../../src/profiles/index.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-shipped-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shortName: Record<string, string> = {
  'meta-llama/Llama-3.1-8B-Instruct': 'llama-3.1-8b-instruct',
  'Qwen/Qwen2.5-7B-Instruct': 'qwen-2.5-7b-instruct',
  'mistralai/Mistral-7B-Instruct-v0.3': 'mistral-7b-instruct-v0.3',
  'meta-llama/Llama-3.1-70B-Instruct': 'llama-3.1-70b-instruct',
};

describe('the shipped built profiles (models/profiles)', () => {
  it('lists the 15 of issue 23 at the newest vLLM version with kernel tables for each GPU', () => {
    expect(shippedProfiles.map((s) => `${profileKey(shortName[s.model]!, s.gpu, s.tp)} ${s.vllmVersion}`)).toEqual([
      'llama-3.1-8b-instruct@h100-80gb 0.24.0',
      'llama-3.1-8b-instruct@a100-80gb 0.14.0',
      'llama-3.1-8b-instruct@l40s 0.24.0',
      'llama-3.1-8b-instruct@h200 0.24.0',
      'qwen-2.5-7b-instruct@h100-80gb 0.24.0',
      'qwen-2.5-7b-instruct@a100-80gb 0.14.0',
      'qwen-2.5-7b-instruct@l40s 0.24.0',
      'qwen-2.5-7b-instruct@h200 0.24.0',
      'mistral-7b-instruct-v0.3@h100-80gb 0.24.0',
      'mistral-7b-instruct-v0.3@a100-80gb 0.14.0',
      'mistral-7b-instruct-v0.3@l40s 0.24.0',
      'mistral-7b-instruct-v0.3@h200 0.24.0',
      'llama-3.1-70b-instruct@h100-80gb-tp4 0.24.0',
      'llama-3.1-70b-instruct@a100-80gb-tp4 0.14.0',
      'llama-3.1-70b-instruct@h200-tp2 0.24.0',
    ]);
  });

  it('ships each as <key>.json, built from kernel tables, naming its data and saying it is not calibrated', () => {
    for (const s of shippedProfiles) {
      const key = profileKey(shortName[s.model]!, s.gpu, s.tp);
      const profile = loadProfileFile(join(defaultProfilesDir, `${key}.json`));
      expect(keyOf(profile)).toBe(key);
      expect([profile.gpu, profile.tensorParallelSize, profile.vllmVersion, profile.hfModelId]).toEqual([
        s.gpu,
        s.tp,
        s.vllmVersion,
        s.model,
      ]);
      // kernels, not roofline: a rebuild without ../shared would silently ship the cruder model
      expect(profile.source?.kind, key).toBe('kernels');
      expect(profile.source?.measuredOn).toMatch(/^NVIDIA [^;]+; kernel tables of \w+ \(vLLM \d/);
      expect(profile.source?.data.length).toBeGreaterThan(0);
      for (const file of profile.source?.data ?? []) expect(file).toMatch(/^\.\.\/shared\/data\/operator-profiles\//);
      expect(profile.description).toMatch(/not calibrated on real runs/);
    }
  });

  it('holds no other built profile, and the two calibrated H100 64 GB ones', () => {
    const files = readdirSync(defaultProfilesDir).filter((f) => f.endsWith('.json'));
    const built = shippedProfiles.map((s) => `${profileKey(shortName[s.model]!, s.gpu, s.tp)}.json`);
    const calibrated = files.filter(
      (f) => sourceOf(loadProfileFile(join(defaultProfilesDir, f))).kind === 'calibrated',
    );
    expect(calibrated).toEqual(['llama-3.1-8b-instruct@h100-64gb.json', 'qwen-2.5-7b-instruct@h100-64gb.json']);
    expect(files.filter((f) => !calibrated.includes(f)).sort()).toEqual([...built].sort());
  });
});

describe('profile build --shipped', () => {
  const noData = join(dir, 'no-data');
  const out = join(dir, 'out');

  it('builds the set into --out and --check finds a changed or a stray built profile', () => {
    const write = cli(['profile', 'build', '--shipped', '--data', noData, '--out', out]);
    expect(write.status, write.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(
      shippedProfiles.map((s) => `${profileKey(shortName[s.model]!, s.gpu, s.tp)}.json`).sort(),
    );
    expect(cli(['profile', 'build', '--shipped', '--data', noData, '--out', out, '--check']).status).toBe(0);

    const file = join(out, 'llama-3.1-70b-instruct@h200-tp2.json');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"blockSize": 16', '"blockSize": 32'));
    const changed = cli(['profile', 'build', '--shipped', '--data', noData, '--out', out, '--check']);
    expect(changed.status).toBe(1);
    expect(changed.stdout).toMatch(/DIFFERENT {2}.*llama-3\.1-70b-instruct@h200-tp2\.json/);
    writeFileSync(file, text);

    const l40s = JSON.parse(readFileSync(join(out, 'qwen-2.5-7b-instruct@l40s.json'), 'utf8'));
    writeFileSync(join(out, 'qwen-2.5-7b-instruct@l4.json'), JSON.stringify({ ...l40s, gpu: 'l4' }));
    const stray = cli(['profile', 'build', '--shipped', '--data', noData, '--out', out, '--check']);
    expect(stray.status).toBe(1);
    expect(stray.stdout).toMatch(/NOT IN THE SET {2}.*qwen-2\.5-7b-instruct@l4\.json/);
  });

  it('refuses options of a single build (exit 2 naming them)', () => {
    const r = cli(['profile', 'build', '--shipped', '--model', 'llama-3.1-8b-instruct', '--out', out]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--shipped: builds the listed set; drop --model/);
  });
});

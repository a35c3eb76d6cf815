import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultProfilesDir,
  embeddedProfiles,
  keyOf,
  ProfileStore,
  profilesFrom,
  profilesWith,
} from '../../src/profiles/index.js';
import { AppError } from '../../src/shared/errors.js';
import { embeddedKeys } from '../helpers/embedded-profiles.js';

const root = mkdtempSync(join(tmpdir(), 'lora-placer-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const llamaJson = JSON.parse(readFileSync(join(defaultProfilesDir, 'llama-3.1-8b-instruct@h100-64gb.json'), 'utf8'));

/** A directory holding `profiles` as `<model>@<gpu>.json` (or the given file names). */
function dirWith(name: string, profiles: [string, Record<string, unknown>][]): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, over] of profiles) writeFileSync(join(dir, file), JSON.stringify({ ...llamaJson, ...over }));
  return dir;
}

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

describe('profiles from several directories', () => {
  it('adds the profiles of later directories and lets them override earlier ones of the same model@gpu', () => {
    const first = dirWith('first', [['a.json', { model: 'extra-model', description: 'first' }]]);
    const second = dirWith('second', [
      ['b.json', { model: 'extra-model', description: 'second' }],
      ['c.json', { description: 'llama overridden' }],
    ]);
    const store = profilesWith([first, second]);
    expect(store.get('extra-model', 'h100-64gb').description).toBe('second');
    expect(store.fileOf(store.get('extra-model', 'h100-64gb'))).toBe(join(second, 'b.json'));
    expect(store.get('llama-3.1-8b-instruct', 'h100-64gb').description).toBe('llama overridden');
    expect(store.get('qwen-2.5-7b-instruct', 'h100-64gb').description).toBe(
      embeddedProfiles().get('qwen-2.5-7b-instruct', 'h100-64gb').description,
    );
    expect(store.list().map(keyOf).sort()).toEqual([...embeddedKeys, 'extra-model@h100-64gb'].sort());
    // the other order: the first directory wins
    expect(profilesWith([second, first]).get('extra-model', 'h100-64gb').description).toBe('first');
    // workers read the same directories: the same store, read once
    expect(profilesFrom(store.dirs)).toBe(store);
    expect(embeddedProfiles().fileOf(embeddedProfiles().get('llama-3.1-8b-instruct', 'h100-64gb'))).toBe(
      join(defaultProfilesDir, 'llama-3.1-8b-instruct@h100-64gb.json'),
    );
  });

  it('refuses two files of one model@gpu in the same directory, and a directory it cannot read', () => {
    const twice = dirWith('twice', [
      ['x.json', { model: 'twice-model' }],
      ['y.json', { model: 'twice-model' }],
    ]);
    const e = errorOf(() => ProfileStore.fromDirectories([twice]));
    expect(e.code).toBe('LP_ERR_DATA_FILE');
    expect(e.message).toContain(join(twice, 'x.json'));
    expect(e.message).toContain(join(twice, 'y.json'));
    const missing = errorOf(() => ProfileStore.fromDirectories([join(root, 'nowhere')]));
    expect(missing.code).toBe('LP_ERR_DATA_FILE');
    expect(missing.message).toContain('nowhere');
    const bad = dirWith('bad', [['bad.json', { maxModelLen: -1 }]]);
    expect(errorOf(() => ProfileStore.fromDirectories([bad])).message).toContain('maxModelLen');
  });
});

describe('models by name or Hugging Face id', () => {
  const store = profilesWith([
    dirWith('hf', [['m.json', { model: 'my-mistral', hfModelId: 'mistralai/Mistral-7B-v0.3' }]]),
  ]);

  it('finds a profile by its Hugging Face id, case-insensitively, from the profile or the catalog', () => {
    expect(store.get('meta-llama/Llama-3.1-8B-Instruct', 'h100-64gb').model).toBe('llama-3.1-8b-instruct');
    expect(store.get('META-LLAMA/llama-3.1-8b-instruct', 'h100-64gb').model).toBe('llama-3.1-8b-instruct');
    expect(store.get('Qwen/Qwen2.5-7B-Instruct', 'h100-64gb').model).toBe('qwen-2.5-7b-instruct');
    expect(store.get('mistralai/mistral-7b-v0.3', 'h100-64gb').model).toBe('my-mistral');
    expect(store.get('My-Mistral', 'H100-64GB').model).toBe('my-mistral');
    // the shipped built profile of that id on another card, and none on a card without one
    expect(store.get('meta-llama/Llama-3.1-8B-Instruct', 'a100-80gb').source?.kind).toBe('kernels');
    expect(store.has('meta-llama/Llama-3.1-8B-Instruct', 'l4')).toBe(false);
  });

  it('resolves what get answers, and undefined (not a 404) where get throws: unknown model, card or size', () => {
    const cases: [string, string, number?][] = [
      ['meta-llama/Llama-3.1-8B-Instruct', 'h100-64gb'],
      ['My-Mistral', 'H100-64GB', 1],
      ['llama-3.1-70b-instruct', 'h200'],
      ['llama-3.1-70b-instruct', 'h200', 2],
    ];
    for (const [model, gpu, tp] of cases) expect(store.resolve(model, gpu, tp)).toBe(store.get(model, gpu, tp));
    expect(keyOf(store.resolve('llama-3.1-70b-instruct', 'h200')!)).toBe('llama-3.1-70b-instruct@h200-tp2');
    for (const [model, gpu, tp] of [
      ['meta-llama/Llama-3.1-70B-Instruct', 'h100-64gb'],
      ['llama-3.1-8b-instruct', 'l4'],
      ['llama-3.1-70b-instruct', 'h200', 4],
      ['llama-3.1-70b-instruct', 'h200', 1],
    ] as const) {
      expect(store.resolve(model, gpu, tp)).toBeUndefined();
      expect(store.has(model, gpu, tp)).toBe(false);
      expect(errorOf(() => store.get(model, gpu, tp)).code).toBe('LP_ERR_UNKNOWN_PROFILE');
    }
  });

  it('answers an unknown model with 404, listing the names and ids', () => {
    const e = errorOf(() => store.get('meta-llama/Llama-3.1-70B-Instruct', 'h100-64gb'));
    expect(e.code).toBe('LP_ERR_UNKNOWN_PROFILE');
    expect(e.message).toContain('llama-3.1-8b-instruct@h100-64gb (meta-llama/Llama-3.1-8B-Instruct)');
    const details = e.details as { known: string[]; knownModelIds: string[] };
    expect(details.known).toContain('my-mistral@h100-64gb');
    expect(details.knownModelIds).toEqual(
      expect.arrayContaining([
        'meta-llama/Llama-3.1-8B-Instruct',
        'Qwen/Qwen2.5-7B-Instruct',
        'mistralai/Mistral-7B-v0.3',
      ]),
    );
  });
});

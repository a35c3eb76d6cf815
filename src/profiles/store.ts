import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { hfModelIdOf } from './hub-model-ids.js';
import { keyOf, Profile, profileKey, tensorParallelSizeOf } from './schema.js';

/** `models/profiles` of this package (same relative place from src/ and from dist/). */
export const defaultProfilesDir = fileURLToPath(new URL('../../models/profiles/', import.meta.url));

/** A profile and the file it was read from (null: built in memory). */
interface Entry {
  profile: Profile;
  file: string | null;
}

/**
 * Profiles keyed by `model@gpu` (`model@gpu-tpN` at N GPUs per server, see profileKey), read and validated once.
 * A model is found by its profile name or by its Hugging Face id (`hfModelId`, else the catalog of hub ids),
 * both case-insensitive.
 */
export class ProfileStore {
  private readonly entries = new Map<string, Entry>();
  /** model@gpu -> the tensor-parallel sizes of its profiles, ascending */
  private readonly sizes = new Map<string, number[]>();

  /**
   * `files`: the file each profile came from, by key; `dirs`: the directories the store was read from, in
   * order (worker threads read the same ones: profilesFrom(dirs)); empty for a store built in memory.
   */
  constructor(
    profiles: Iterable<Profile>,
    files: ReadonlyMap<string, string> = new Map(),
    readonly dirs: readonly string[] = [],
  ) {
    for (const p of profiles) {
      const key = keyOf(p);
      if (!this.entries.has(key)) {
        const pair = profileKey(p.model, p.gpu);
        this.sizes.set(
          pair,
          [...(this.sizes.get(pair) ?? []), tensorParallelSizeOf(p)].sort((a, b) => a - b),
        );
      }
      this.entries.set(key, { profile: p, file: files.get(key) ?? null });
    }
  }

  static fromDirectory(dir: string = defaultProfilesDir): ProfileStore {
    return ProfileStore.fromDirectories([dir]);
  }

  /**
   * Every profile of every directory; a later directory's profile replaces an earlier one of the same key.
   * Two files of one directory for the same key are refused: which one was meant is unknown.
   */
  static fromDirectories(dirs: readonly string[]): ProfileStore {
    const profiles = new Map<string, Profile>();
    const files = new Map<string, string>();
    for (const dir of dirs) {
      const seen = new Map<string, string>();
      for (const file of profileFiles(dir)) {
        const p = loadProfileFile(file);
        const key = keyOf(p);
        const other = seen.get(key);
        if (other)
          throw new AppError('dataFile', `profiles ${other} and ${file} are both ${key}: keep one of them in ${dir}`);
        seen.set(key, file);
        profiles.delete(key);
        profiles.set(key, p);
        files.set(key, file);
      }
    }
    return new ProfileStore(profiles.values(), files, dirs);
  }

  list(): Profile[] {
    return [...this.entries.values()].map((e) => e.profile);
  }

  /** The file `profile` was read from (null for a profile built in memory). */
  fileOf(profile: Profile): string | null {
    return this.entries.get(keyOf(profile))?.file ?? null;
  }

  has(model: string, gpu: string, tensorParallelSize?: number): boolean {
    const name = this.modelName(model, gpu);
    if (name === undefined) return false;
    const sizes = this.tensorParallelSizes(name, gpu);
    return tensorParallelSize === undefined || sizes.includes(tensorParallelSize);
  }

  /** The tensor-parallel sizes of the profiles of `model` on `gpu`, ascending (empty: no such profile). */
  tensorParallelSizes(model: string, gpu: string): number[] {
    const name = this.modelName(model, gpu);
    return name === undefined ? [] : (this.sizes.get(profileKey(name, gpu.toLowerCase())) ?? []);
  }

  /**
   * The profile of `model` (its name or Hugging Face id) on `gpu` at `tensorParallelSize` GPUs per server;
   * without it, the one with the fewest (TP 1 when there is one). 404 LP_ERR_UNKNOWN_PROFILE naming the known
   * profiles and ids, or the known sizes.
   */
  get(model: string, gpu: string, tensorParallelSize?: number): Profile {
    const name = this.modelName(model, gpu);
    if (name === undefined) throw this.unknown(model, gpu);
    const card = gpu.toLowerCase();
    const sizes = this.sizes.get(profileKey(name, card)) ?? [];
    const size = tensorParallelSize ?? sizes[0]!;
    const entry = this.entries.get(profileKey(name, card, size));
    if (!entry) throw unknownTensorParallelSize(name, card, size, sizes);
    return entry.profile;
  }

  /** The profile name `model` stands for on `gpu`: itself, or the first profile (in load order) serving that id. */
  private modelName(model: string, gpu: string): string | undefined {
    const name = model.toLowerCase();
    const card = gpu.toLowerCase();
    if (this.sizes.has(profileKey(name, card))) return name;
    for (const { profile } of this.entries.values())
      if (profile.gpu === card && hfModelIdOf(profile)?.toLowerCase() === name) return profile.model;
    return undefined;
  }

  private unknown(model: string, gpu: string): AppError {
    const named = this.list().map((p) => {
      const id = hfModelIdOf(p);
      return id ? `${keyOf(p)} (${id})` : keyOf(p);
    });
    return new AppError(
      'unknownProfile',
      `no profile for model "${model}" on gpu "${gpu}" (known: ${named.join(', ') || 'none'})`,
      {
        model,
        gpu,
        known: [...this.entries.keys()],
        knownModelIds: [...new Set(this.list().flatMap((p) => hfModelIdOf(p) ?? []))],
      },
    );
  }
}

/** 404 for a model@gpu that has profiles, none at this tensor-parallel size. */
export function unknownTensorParallelSize(model: string, gpu: string, size: number, known: number[]): AppError {
  return new AppError(
    'unknownProfile',
    `no profile for model "${model}" on gpu "${gpu}" at tensorParallelSize ${size} ` +
      `(known tensorParallelSize: ${known.join(', ')})`,
    {
      model,
      gpu,
      tensorParallelSize: size,
      known: known.map((n) => profileKey(model, gpu, n)),
      knownTensorParallelSizes: known,
    },
  );
}

function profileFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => join(dir, f));
  } catch (err) {
    throw new AppError('dataFile', `cannot read profiles directory ${dir}: ${(err as Error).message}`);
  }
}

export function loadProfileFile(file: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AppError('dataFile', `cannot read profile ${file}: ${(err as Error).message}`);
  }
  return parseOrThrow(Profile, raw, `profile ${file}`);
}

/** Stores already read, by their directory list: worker threads ask once per task. */
const loaded = new Map<string, ProfileStore>();

/**
 * The profiles of `dirs` (later ones override earlier ones), read once per process and directory list.
 * Worker threads call it with the caller's `ProfileStore.dirs`, so both sides use the same profiles.
 */
export function profilesFrom(dirs: readonly string[]): ProfileStore {
  const absolute = dirs.map((d) => resolve(d));
  const key = JSON.stringify(absolute);
  let store = loaded.get(key);
  if (!store) {
    store = ProfileStore.fromDirectories(absolute);
    loaded.set(key, store);
  }
  return store;
}

/** The embedded profiles (models/profiles) and those of `dirs` (--profiles, PROFILES_DIR), later ones winning. */
export function profilesWith(dirs: readonly string[]): ProfileStore {
  return profilesFrom([defaultProfilesDir, ...dirs]);
}

/** The embedded profiles shipped in models/profiles, loaded on first use. */
export function embeddedProfiles(): ProfileStore {
  return profilesWith([]);
}

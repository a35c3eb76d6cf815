import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { keyOf, Profile, profileKey, tensorParallelSizeOf } from './schema.js';

/** `models/profiles` of this package (same relative place from src/ and from dist/). */
export const defaultProfilesDir = fileURLToPath(new URL('../../models/profiles/', import.meta.url));

/**
 * Profiles keyed by `model@gpu` (`model@gpu-tpN` at N GPUs per server, see profileKey), read and validated once.
 */
export class ProfileStore {
  private readonly profiles = new Map<string, Profile>();
  /** model@gpu -> the tensor-parallel sizes of its profiles, ascending */
  private readonly sizes = new Map<string, number[]>();

  constructor(profiles: Iterable<Profile>) {
    for (const p of profiles) {
      const key = keyOf(p);
      if (!this.profiles.has(key)) {
        const pair = profileKey(p.model, p.gpu);
        this.sizes.set(
          pair,
          [...(this.sizes.get(pair) ?? []), tensorParallelSizeOf(p)].sort((a, b) => a - b),
        );
      }
      this.profiles.set(key, p);
    }
  }

  static fromDirectory(dir: string = defaultProfilesDir): ProfileStore {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    } catch (err) {
      throw new AppError('dataFile', `cannot read profiles directory ${dir}: ${(err as Error).message}`);
    }
    return new ProfileStore(files.sort().map((f) => loadProfileFile(join(dir, f))));
  }

  list(): Profile[] {
    return [...this.profiles.values()];
  }

  /** The tensor-parallel sizes of the profiles of `model` on `gpu`, ascending (empty: no such profile). */
  tensorParallelSizes(model: string, gpu: string): number[] {
    return this.sizes.get(profileKey(model, gpu)) ?? [];
  }

  /**
   * The profile of `model` on `gpu` at `tensorParallelSize` GPUs per server; without it, the one with the fewest
   * (TP 1 when there is one). 404 LP_ERR_UNKNOWN_PROFILE naming the known profiles, or the known sizes.
   */
  get(model: string, gpu: string, tensorParallelSize?: number): Profile {
    const sizes = this.tensorParallelSizes(model, gpu);
    if (sizes.length === 0) {
      const known = [...this.profiles.keys()].join(', ') || 'none';
      throw new AppError('unknownProfile', `no profile for model "${model}" on gpu "${gpu}" (known: ${known})`, {
        model,
        gpu,
        known: [...this.profiles.keys()],
      });
    }
    const size = tensorParallelSize ?? sizes[0]!;
    const profile = this.profiles.get(profileKey(model, gpu, size));
    if (!profile) throw unknownTensorParallelSize(model, gpu, size, sizes);
    return profile;
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

export function loadProfileFile(file: string): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AppError('dataFile', `cannot read profile ${file}: ${(err as Error).message}`);
  }
  return parseOrThrow(Profile, raw, `profile ${file}`);
}

let defaultStore: ProfileStore | undefined;

/** The embedded profiles shipped in models/profiles, loaded on first use. */
export function embeddedProfiles(): ProfileStore {
  defaultStore ??= ProfileStore.fromDirectory();
  return defaultStore;
}

/**
 * The embedded profiles with the profiles of `dirs` on top: a profile in a later directory replaces one with the
 * same model@gpu (built or refitted profiles override the shipped ones; `validate --profiles DIR`).
 */
export function profilesWith(dirs: readonly string[]): ProfileStore {
  const byKey = new Map<string, Profile>();
  for (const p of embeddedProfiles().list()) byKey.set(keyOf(p), p);
  for (const dir of dirs)
    for (const p of ProfileStore.fromDirectory(dir).list()) byKey.set(keyOf(p), p);
  return new ProfileStore(byKey.values());
}

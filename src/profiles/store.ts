import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { Profile, profileKey } from './schema.js';

/** `models/profiles` of this package (same relative place from src/ and from dist/). */
export const defaultProfilesDir = fileURLToPath(new URL('../../models/profiles/', import.meta.url));

/** Profiles keyed by `model@gpu`, read and validated once. */
export class ProfileStore {
  private readonly profiles = new Map<string, Profile>();

  constructor(profiles: Iterable<Profile>) {
    for (const p of profiles) this.profiles.set(profileKey(p.model, p.gpu), p);
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

  get(model: string, gpu: string): Profile {
    const profile = this.profiles.get(profileKey(model, gpu));
    if (!profile) {
      const known = [...this.profiles.keys()].join(', ') || 'none';
      throw new AppError('unknownProfile', `no profile for model "${model}" on gpu "${gpu}" (known: ${known})`, {
        model,
        gpu,
        known: [...this.profiles.keys()],
      });
    }
    return profile;
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
  for (const p of embeddedProfiles().list()) byKey.set(profileKey(p.model, p.gpu), p);
  for (const dir of dirs)
    for (const p of ProfileStore.fromDirectory(dir).list()) byKey.set(profileKey(p.model, p.gpu), p);
  return new ProfileStore(byKey.values());
}

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { hfModelIdOf } from './hub-model-ids.js';
import { keyOf, Profile, profileKey, tensorParallelSizeOf } from './schema.js';

/** `models/profiles` of this package (same relative place from src/ and from dist/). */
export const defaultProfilesDir = fileURLToPath(new URL('../../models/profiles/', import.meta.url));

/** What the store keys and finds a profile by, read from a file without validating the rest of it. */
const ProfileHead = Profile.pick({ model: true, gpu: true, tensorParallelSize: true, hfModelId: true, source: true });
type ProfileHead = z.infer<typeof ProfileHead>;

/**
 * A profile file of the embedded directory, keyed from its head and validated in full on first use: the package
 * ships 17 of them (~0.8 MB; tests validate each), and validating all at every start-up would cost each CLI
 * command and the service tens of milliseconds for the one or two profiles a command uses.
 */
class DeferredProfile {
  private parsed: Profile | undefined;
  constructor(
    readonly head: ProfileHead,
    private readonly raw: unknown,
    readonly file: string,
  ) {}

  get profile(): Profile {
    this.parsed ??= parseOrThrow(Profile, this.raw, `profile ${this.file}`);
    return this.parsed;
  }
}

/** A profile (or its head, validated on first use) and the file it was read from (null: built in memory). */
interface Entry {
  head: ProfileHead;
  file: string | null;
  profile: () => Profile;
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
    profiles: Iterable<Profile | DeferredProfile>,
    files: ReadonlyMap<string, string> = new Map(),
    readonly dirs: readonly string[] = [],
  ) {
    for (const p of profiles) {
      const head = p instanceof DeferredProfile ? p.head : p;
      const key = keyOf(head);
      if (!this.entries.has(key)) {
        const pair = profileKey(head.model, head.gpu);
        this.sizes.set(
          pair,
          [...(this.sizes.get(pair) ?? []), tensorParallelSizeOf(head)].sort((a, b) => a - b),
        );
      }
      const profile = p instanceof DeferredProfile ? () => p.profile : () => p;
      this.entries.set(key, { head, profile, file: files.get(key) ?? null });
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
    const profiles = new Map<string, Profile | DeferredProfile>();
    const files = new Map<string, string>();
    for (const dir of dirs) {
      const seen = new Map<string, string>();
      // the package's own profiles are validated on first use; a user's (--profiles, PROFILES_DIR) at once, so
      // that a bad file is refused when the command or the service starts
      const embedded = resolve(dir) === resolve(defaultProfilesDir);
      for (const file of profileFiles(dir)) {
        const p = embedded ? deferredProfileFile(file) : loadProfileFile(file);
        const key = keyOf(p instanceof DeferredProfile ? p.head : p);
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
    return [...this.entries.values()].map((e) => e.profile());
  }

  /** The keys of every profile (profileKey), in load order, without validating deferred ones. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The file `profile` was read from (null for a profile built in memory). */
  fileOf(profile: Profile): string | null {
    return this.entries.get(keyOf(profile))?.file ?? null;
  }

  /** Whether get() answers a profile (without validating a deferred one). */
  has(model: string, gpu: string, tensorParallelSize?: number): boolean {
    return this.find(model, gpu, tensorParallelSize)?.entry !== undefined;
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
    const found = this.find(model, gpu, tensorParallelSize);
    if (!found) throw this.unknown(model, gpu);
    if (!found.entry) throw unknownTensorParallelSize(found.name, found.card, found.size, found.sizes);
    return found.entry.profile();
  }

  /** The profile get() answers, or undefined where get() throws its 404: one lookup for "this one, if any". */
  resolve(model: string, gpu: string, tensorParallelSize?: number): Profile | undefined {
    return this.find(model, gpu, tensorParallelSize)?.entry?.profile();
  }

  /**
   * The entry of `model` on `gpu` at `tensorParallelSize` (else the fewest GPUs) and what names it; undefined for
   * an unknown model@gpu, no entry for an unknown size.
   */
  private find(model: string, gpu: string, tensorParallelSize?: number) {
    const name = this.modelName(model, gpu);
    if (name === undefined) return undefined;
    const card = gpu.toLowerCase();
    const sizes = this.sizes.get(profileKey(name, card)) ?? [];
    const size = tensorParallelSize ?? sizes[0]!;
    return { name, card, sizes, size, entry: this.entries.get(profileKey(name, card, size)) };
  }

  /** The profile name `model` stands for on `gpu`: itself, or the first profile (in load order) serving that id. */
  private modelName(model: string, gpu: string): string | undefined {
    const name = model.toLowerCase();
    const card = gpu.toLowerCase();
    if (this.sizes.has(profileKey(name, card))) return name;
    for (const { head } of this.entries.values())
      if (head.gpu === card && hfModelIdOf(head)?.toLowerCase() === name) return head.model;
    return undefined;
  }

  private unknown(model: string, gpu: string): AppError {
    const heads = [...this.entries.values()].map((e) => e.head);
    const named = heads.map((p) => {
      const id = hfModelIdOf(p);
      return id ? `${keyOf(p)} (${id})` : keyOf(p);
    });
    const hint = similarGpus(heads, gpu);
    return new AppError(
      'unknownProfile',
      `no profile for model "${model}" on gpu "${gpu}"${hint} (known: ${named.join(', ') || 'none'})`,
      {
        model,
        gpu,
        known: [...this.entries.keys()],
        knownModelIds: [...new Set(heads.flatMap((p) => hfModelIdOf(p) ?? []))],
      },
    );
  }
}

const howMade = {
  calibrated: 'calibrated on real runs',
  kernels: 'built from kernel tables, not calibrated',
  roofline: 'built from a roofline, not calibrated',
  refitted: 'refitted to benchmarks',
} as const;

/**
 * GPU names are exact: a newcomer asking for "h100" (or "H100-80") is told which cards of that family have
 * profiles and which of them were calibrated on real runs, rather than being answered for some other card.
 */
function similarGpus(heads: readonly ProfileHead[], gpu: string): string {
  const family = gpu.toLowerCase().split(/[-_ ]/)[0]!;
  const cards = new Map<string, string>();
  for (const h of heads) {
    if (family === '' || !h.gpu.startsWith(family) || cards.has(h.gpu)) continue;
    cards.set(h.gpu, howMade[h.source?.kind ?? 'calibrated']);
  }
  if (cards.size === 0) return '';
  const list = [...cards].map(([card, how]) => `"${card}" (${how})`);
  return `: GPU names are exact; profiles of this family are on ${list.join(', ')}`;
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
  return parseOrThrow(Profile, readProfileJson(file), `profile ${file}`);
}

/** A profile file keyed from its head; the rest is validated when the profile is first asked for. */
function deferredProfileFile(file: string): DeferredProfile {
  const raw = readProfileJson(file);
  return new DeferredProfile(parseOrThrow(ProfileHead, raw, `profile ${file}`), raw, file);
}

function readProfileJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AppError('dataFile', `cannot read profile ${file}: ${(err as Error).message}`);
  }
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

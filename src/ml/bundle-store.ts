import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync, type Dirent } from 'node:fs';
import { basename, join } from 'node:path';
import { profileKey } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import {
  errno,
  fsyncDir,
  isMissing,
  lstatOrNull,
  readRegularFile,
  writeFileDurably,
  writeFileSynced,
} from '../shared/files.js';
import { parseOrThrow } from '../shared/validate.js';
import { bundleFiles, PredictorMetadata, studentVersion, type PredictorBundle } from './bundle.js';
import { parseTree, type TreeJson } from './tree.js';
import { targetNames, type TargetName } from './targets.js';

/**
 * Largest predictor files read. A distilled tree is about 130 kB (the leaf bound caps it); 64 MiB leaves
 * room for far larger students while refusing a runaway or hostile file before it is in memory.
 * Metadata is a few kB; CURRENT one short line.
 */
export const maxTreeFileBytes = 64 * 1024 * 1024;
export const maxMetadataFileBytes = 1024 * 1024;
export const maxPointerFileBytes = 1024;

/** Every predictor file is read through readRegularFile: these words start its error messages. */
const predictorFile = 'predictor file';

function readJsonFile(path: string, maxBytes: number): unknown {
  const text = readRegularFile(path, maxBytes, predictorFile);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('dataFile', `predictor file ${path} is not JSON: ${(err as Error).message}`);
  }
}

/** The five files of a bundle from one folder, parsed and schema-checked. */
function readBundleFiles(dir: string): PredictorBundle {
  const metadata = parseOrThrow(
    PredictorMetadata,
    readJsonFile(join(dir, 'metadata.json'), maxMetadataFileBytes),
    `predictor metadata in ${dir}`,
  );
  const tree = (t: TargetName): TreeJson =>
    parseTree(readJsonFile(join(dir, `${t}.json`), maxTreeFileBytes), `predictor tree ${dir}/${t}.json`);
  const trees = Object.fromEntries(targetNames.map((t) => [t, tree(t)])) as Record<TargetName, TreeJson>;
  return { metadata, trees };
}

/*
 * Two on-disk layouts of a bundle folder `<root>/<model>@<gpu>/`:
 *
 * flat (the committed models/predictors, written and compared byte for byte by `lora-placer train`):
 *   metadata.json throughput.json itl.json ttft.json starved.json
 *
 * versioned (MODELS_DIR, written by the background refresh; a crash at any moment leaves the old
 * bundle or the new one, whole, because the only thing that switches is one rename of CURRENT):
 *   CURRENT        one line: the version directory served, e.g. v-4c2f16975d51
 *   v-<version>/   the five files above, immutable once renamed in
 *   .tmp-*         a write in progress, or the leftover of one that crashed: never read
 *
 * A folder with CURRENT is read through it (a v-* directory CURRENT does not name is ignored); one
 * without is read flat, so MODELS_DIR bundles written before the versioned layout still load.
 */
const pointerFile = 'CURRENT';
const versionDirPattern = /^v-[0-9a-f]{12}$/;
const tmpPrefix = '.tmp-';
/**
 * Old versions and temp leftovers younger than this are not pruned: replicas sharing MODELS_DIR may
 * publish the same model at once, and one must not delete the directory the other is about to point
 * CURRENT at (a bundle is written in well under a second; a temp dir this old belongs to a dead writer).
 */
export const pruneGraceMs = 10 * 60 * 1000;

/**
 * The folder the served files of `bundleDir` are in: the version directory CURRENT names, or the folder itself (flat).
 */
export function servedFilesDir(bundleDir: string): string {
  const pointer = join(bundleDir, pointerFile);
  if (isMissing(pointer)) return bundleDir;
  const name = readRegularFile(pointer, maxPointerFileBytes, predictorFile).trim();
  // the pattern has no separator and no "..": the directory can only be a child of the bundle folder
  if (!versionDirPattern.test(name))
    throw new AppError(
      'dataFile',
      `${pointer} holds ${JSON.stringify(name.slice(0, 40))}, not a version directory name (v- and 12 hex digits)`,
    );
  const dir = join(bundleDir, name);
  const st = lstatOrNull(dir);
  // lstat, not stat: a symlink named v-* could lead out of the bundle folder
  if (!st?.isDirectory())
    throw new AppError('dataFile', `${pointer} names ${name}, which is ${st ? 'not a directory' : 'missing'}`);
  return dir;
}

/** The served bundle of a folder, either layout, schema-checked (not checked against its names: see loadBundle). */
export function readBundle(bundleDir: string): PredictorBundle {
  return readBundleFiles(servedFilesDir(bundleDir));
}

/**
 * The served bundle of a folder, refused (AppError 'dataFile') unless it is what its names say: the
 * folder is <model>@<gpu> of its metadata, the trees hash to the metadata's version, and a version
 * directory is named after that version.
 */
export function loadBundle(bundleDir: string): PredictorBundle {
  const filesDir = servedFilesDir(bundleDir);
  const bundle = readBundleFiles(filesDir);
  const { version } = bundle.metadata;
  const key = bundleKey(bundle);
  if (basename(bundleDir) !== key) throw new AppError('dataFile', `predictor folder ${bundleDir} holds ${key}`);
  if (studentVersion(bundle.trees) !== version)
    throw new AppError(
      'dataFile',
      `${filesDir}: trees do not hash to version ${version} (being written? retried next pass)`,
    );
  if (filesDir !== bundleDir && basename(filesDir) !== `v-${version}`)
    throw new AppError('dataFile', `${filesDir} holds version ${version}`);
  return bundle;
}

/** The folder name of a bundle: its profile's key (`model@gpu`, `model@gpu-tpN` with tensor parallelism). */
export function bundleKey(bundle: PredictorBundle): string {
  const m = bundle.metadata;
  return profileKey(m.model, m.gpu, m.tensorParallelSize);
}

/** Flat layout (models/predictors, `train`): each file temp + rename, so no file is ever half written. */
export function writeFlatBundle(dir: string, bundle: PredictorBundle): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of bundleFiles(bundle)) {
    const path = join(dir, name);
    writeFileSync(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
    written.push(path);
  }
  return written;
}

/**
 * Versioned layout (MODELS_DIR): the files go, fsynced, into a fresh .tmp-* directory renamed to
 * v-<version> (reused when that version is already there and sound: same trees, same predictions),
 * then CURRENT is switched by temp file + fsync + rename, then older versions are pruned but for the
 * one just replaced. Returns the version directory.
 */
export function writeVersionedBundle(bundleDir: string, bundle: PredictorBundle): string {
  const { version } = bundle.metadata;
  const name = `v-${version}`;
  if (!versionDirPattern.test(name) || studentVersion(bundle.trees) !== version) {
    throw new AppError(
      'internal',
      `bundle ${bundleKey(bundle)}: version ${version} is not the hash of its trees; not written`,
    );
  }
  mkdirSync(bundleDir, { recursive: true });
  const previous = servedVersionName(bundleDir);
  placeVersionDir(bundleDir, name, bundle);
  writeFileDurably(bundleDir, pointerFile, `${name}\n`, tempName(pointerFile));
  pruneBundleDir(bundleDir, new Set(previous ? [name, previous] : [name]));
  return join(bundleDir, name);
}

/** The v-* name CURRENT points at now, if it is sound enough to keep. */
function servedVersionName(bundleDir: string): string | null {
  try {
    const dir = servedFilesDir(bundleDir);
    return dir === bundleDir ? null : basename(dir);
  } catch {
    return null;
  }
}

function placeVersionDir(bundleDir: string, name: string, bundle: PredictorBundle): void {
  const target = join(bundleDir, name);
  if (lstatOrNull(target)?.isDirectory()) {
    if (holdsVersion(target, bundle.metadata.version)) {
      // touched so that another replica's prune sees it as fresh while CURRENT is switched to it
      const now = new Date();
      utimesSync(target, now, now);
      return;
    }
    renameSync(target, join(bundleDir, tempName(`broken-${name}`)));
  }
  const tmp = join(bundleDir, tempName(bundle.metadata.version));
  mkdirSync(tmp);
  for (const [file, text] of bundleFiles(bundle)) writeFileSynced(join(tmp, file), text);
  fsyncDir(tmp);
  try {
    renameSync(tmp, target);
  } catch (err) {
    // another writer renamed the same version in first: same trees, keep theirs
    if (errno(err) !== 'ENOTEMPTY' && errno(err) !== 'EEXIST') throw err;
    rmSync(tmp, { recursive: true, force: true });
  }
  fsyncDir(bundleDir);
}

function holdsVersion(dir: string, version: string): boolean {
  try {
    const b = readBundleFiles(dir);
    return b.metadata.version === version && studentVersion(b.trees) === version;
  } catch {
    return false;
  }
}

/**
 * Removes v-* directories not in `keep` and .tmp-* leftovers, all older than pruneGraceMs. Best effort:
 * the new version is served already, and a leftover the next publish retries is harmless.
 */
function pruneBundleDir(bundleDir: string, keep: Set<string>): void {
  const now = Date.now();
  for (const entry of readdirSync(bundleDir)) {
    const prunable = entry.startsWith(tmpPrefix) || (versionDirPattern.test(entry) && !keep.has(entry));
    const st = prunable ? lstatOrNull(join(bundleDir, entry)) : null;
    try {
      if (st && now - st.mtimeMs >= pruneGraceMs) rmSync(join(bundleDir, entry), { recursive: true, force: true });
    } catch {
      // retried at the next publish
    }
  }
}

/** A .tmp-* name: never read as a bundle, and pruned once stale (also a CURRENT temp file left by a crash). */
function tempName(what: string): string {
  return `${tmpPrefix}${what}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export interface BundleScan {
  /** folders holding a bundle (CURRENT or a flat metadata.json), to be read */
  dirs: string[];
  /** what could not be listed: the root itself, or an entry named like a bundle (<model>@<gpu>) that is no folder */
  problems: { dir: string; err: AppError }[];
}

/**
 * Bundle folders under `root` (one per model@gpu), without throwing: an unreadable root or a stray
 * entry is a problem reported with the listing. A missing root is no problem (nothing published yet),
 * nor is a folder with neither CURRENT nor metadata.json (its first write has not finished).
 */
export function listBundles(root: string): BundleScan {
  let entries: Dirent[];
  try {
    entries = readdirSync(root, { withFileTypes: true });
  } catch (err) {
    if (errno(err) === 'ENOENT') return { dirs: [], problems: [] };
    return {
      dirs: [],
      problems: [
        {
          dir: root,
          err: new AppError('dataFile', `cannot list predictor bundles in ${root}: ${(err as Error).message}`),
        },
      ],
    };
  }
  const scan: BundleScan = { dirs: [], problems: [] };
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const dir = join(root, entry.name);
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) {
      if (!isMissing(join(dir, pointerFile)) || !isMissing(join(dir, 'metadata.json'))) scan.dirs.push(dir);
    } else if (entry.name.includes('@')) {
      scan.problems.push({
        dir,
        err: new AppError('dataFile', `${dir} is not a directory, so not a predictor bundle`),
      });
    }
  }
  return scan;
}

import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  type Dirent,
  type Stats,
} from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { TreeJson } from './tree.js';
import { targetNames, type TargetName } from './targets.js';

const ErrorPair = z.object({ smapeResearch: z.number(), smapeStandard: z.number() });
export const PredictorMetrics = z.object({
  throughput: ErrorPair.extend({ r2: z.number() }),
  itl: ErrorPair,
  ttft: ErrorPair,
  starved: z.object({ accuracy: z.number(), macroF1: z.number() }),
  rows: z.number().int(),
});
export type PredictorMetrics = z.infer<typeof PredictorMetrics>;

const StudentInfo = z.object({ file: z.string(), maxDepth: z.number().int(), maxLeaves: z.number().int(), depth: z.number().int(), leaves: z.number().int(), bytes: z.number().int() });
const TeacherChoice = z.object({ featureFraction: z.number(), minSamplesLeaf: z.number().int(), holdoutError: z.number() });

export const PredictorMetadata = z.object({
  schemaVersion: z.literal(1),
  model: z.string(),
  gpu: z.string(),
  version: z.string().describe('sha256 prefix of the student trees: changes whenever a prediction can'),
  created: z.string(),
  seed: z.number().int(),
  features: z.array(z.string()),
  profileSha256: z.string(),
  protocol: z.object({ durationS: z.number(), maxInFlight: z.number().int() }),
  dataset: z.object({ workloads: z.number().int(), rows: z.number().int(), sha256: z.string(), holdoutRows: z.number().int() }),
  teacher: z.object({
    algorithm: z.string(),
    trees: z.number().int(),
    maxDepth: z.number().int(),
    selected: z.record(z.string(), TeacherChoice),
  }),
  distillation: z.object({ samples: z.number().int(), seed: z.number().int() }),
  students: z.record(z.string(), StudentInfo),
  metrics: z.object({
    twinHoldout: z.object({ teacher: PredictorMetrics, student: PredictorMetrics }),
    realRuns: z.object({ file: z.string(), sha256: z.string(), teacher: PredictorMetrics, student: PredictorMetrics }).nullable(),
  }),
});
export type PredictorMetadata = z.infer<typeof PredictorMetadata>;

export interface PredictorBundle {
  metadata: PredictorMetadata;
  trees: Record<TargetName, TreeJson>;
}

/** The files of a bundle as text, in the byte-exact form they are stored and compared in. */
export function bundleFiles(bundle: PredictorBundle): Map<string, string> {
  const files = new Map<string, string>();
  for (const t of targetNames) files.set(`${t}.json`, `${JSON.stringify(bundle.trees[t])}\n`);
  files.set('metadata.json', `${JSON.stringify(bundle.metadata, null, 2)}\n`);
  return files;
}

export function studentVersion(trees: Record<TargetName, TreeJson>): string {
  const h = createHash('sha256');
  for (const t of targetNames) h.update(JSON.stringify(trees[t]));
  return h.digest('hex').slice(0, 12);
}

/**
 * Largest predictor files read. A distilled tree is about 130 kB (the leaf bound caps it); 64 MiB leaves
 * room for far larger students while refusing a runaway or hostile file before it is in memory.
 * Metadata is a few kB; CURRENT one short line.
 */
export const maxTreeFileBytes = 64 * 1024 * 1024;
export const maxMetadataFileBytes = 1024 * 1024;
export const maxPointerFileBytes = 1024;

/**
 * Every predictor file is read through here: it must be a regular file (a symlink is followed only
 * when its target is one) of at most `maxBytes`, else AppError('dataFile') naming it. Checked before
 * opening, so a FIFO or device is never opened, and again on the open descriptor (opened O_NONBLOCK,
 * so a FIFO swapped in between cannot block the event loop), and the read stops past `maxBytes`.
 */
export function readPredictorFile(path: string, maxBytes: number): string {
  checkRegularFile(path, statPredictorFile(path), maxBytes);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new AppError('dataFile', `cannot open predictor file ${path}: ${(err as Error).message}`);
  }
  try {
    checkRegularFile(path, fstatSync(fd), maxBytes);
    return readAtMost(path, fd, maxBytes);
  } finally {
    closeSync(fd);
  }
}

function statPredictorFile(path: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    const why = errno(err) === 'ENOENT' ? 'is missing' : `cannot be read: ${(err as Error).message}`;
    throw new AppError('dataFile', `predictor file ${path} ${why}`);
  }
}

function checkRegularFile(path: string, st: Stats, maxBytes: number): void {
  if (!st.isFile()) throw new AppError('dataFile', `predictor file ${path} is ${fileKind(st)}, not a regular file`);
  if (st.size > maxBytes) throw new AppError('dataFile', `predictor file ${path} is ${st.size} bytes, more than the ${maxBytes} allowed`);
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'something else';
}

/** Reads to the end, but never more than maxBytes + 1 bytes (a file growing past its stat size). */
function readAtMost(path: string, fd: number, maxBytes: number): string {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) return Buffer.concat(chunks, total).toString('utf8');
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > maxBytes) throw new AppError('dataFile', `predictor file ${path} grew past the ${maxBytes} bytes allowed while being read`);
  }
}

function readJsonFile(path: string, maxBytes: number): unknown {
  const text = readPredictorFile(path, maxBytes);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('dataFile', `predictor file ${path} is not JSON: ${(err as Error).message}`);
  }
}

/** The five files of a bundle from one folder, parsed and schema-checked. */
function readBundleFiles(dir: string): PredictorBundle {
  const metadata = parseOrThrow(PredictorMetadata, readJsonFile(join(dir, 'metadata.json'), maxMetadataFileBytes), `predictor metadata in ${dir}`);
  const tree = (t: TargetName): TreeJson => parseOrThrow(TreeJson, readJsonFile(join(dir, `${t}.json`), maxTreeFileBytes), `predictor tree ${dir}/${t}.json`);
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

/** The folder the served files of `bundleDir` are in: the version directory CURRENT names, or the folder itself (flat). */
export function servedFilesDir(bundleDir: string): string {
  const pointer = join(bundleDir, pointerFile);
  if (isMissing(pointer)) return bundleDir;
  const name = readPredictorFile(pointer, maxPointerFileBytes).trim();
  // the pattern has no separator and no "..": the directory can only be a child of the bundle folder
  if (!versionDirPattern.test(name)) throw new AppError('dataFile', `${pointer} holds ${JSON.stringify(name.slice(0, 40))}, not a version directory name (v- and 12 hex digits)`);
  const dir = join(bundleDir, name);
  const st = lstatOrNull(dir);
  // lstat, not stat: a symlink named v-* could lead out of the bundle folder
  if (!st?.isDirectory()) throw new AppError('dataFile', `${pointer} names ${name}, which is ${st ? 'not a directory' : 'missing'}`);
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
  const { model, gpu, version } = bundle.metadata;
  if (basename(bundleDir) !== `${model}@${gpu}`) throw new AppError('dataFile', `predictor folder ${bundleDir} holds ${model}@${gpu}`);
  if (studentVersion(bundle.trees) !== version) throw new AppError('dataFile', `${filesDir}: trees do not hash to version ${version} (being written? retried next pass)`);
  if (filesDir !== bundleDir && basename(filesDir) !== `v-${version}`) throw new AppError('dataFile', `${filesDir} holds version ${version}`);
  return bundle;
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
    throw new AppError('internal', `bundle ${bundle.metadata.model}@${bundle.metadata.gpu}: version ${version} is not the hash of its trees; not written`);
  }
  mkdirSync(bundleDir, { recursive: true });
  const previous = servedVersionName(bundleDir);
  placeVersionDir(bundleDir, name, bundle);
  writeFileDurably(bundleDir, pointerFile, `${name}\n`);
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

function tempName(what: string): string {
  return `${tmpPrefix}${what}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

function writeFileSynced(path: string, text: string): void {
  const fd = openSync(path, 'wx');
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** temp file + fsync + rename + fsync of the folder: after a crash the file is the old one or the new one. */
function writeFileDurably(dir: string, name: string, text: string): void {
  const tmp = join(dir, tempName(name));
  writeFileSynced(tmp, text);
  renameSync(tmp, join(dir, name));
  fsyncDir(dir);
}

/** Makes renames and creations in `dir` durable (the entries live in the directory, not in the files). */
function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
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
    return { dirs: [], problems: [{ dir: root, err: new AppError('dataFile', `cannot list predictor bundles in ${root}: ${(err as Error).message}`) }] };
  }
  const scan: BundleScan = { dirs: [], problems: [] };
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const dir = join(root, entry.name);
    if (entry.name.startsWith('.')) continue;
    if (entry.isDirectory()) {
      if (!isMissing(join(dir, pointerFile)) || !isMissing(join(dir, 'metadata.json'))) scan.dirs.push(dir);
    } else if (entry.name.includes('@')) {
      scan.problems.push({ dir, err: new AppError('dataFile', `${dir} is not a directory, so not a predictor bundle`) });
    }
  }
  return scan;
}

/** Only "does not exist" counts as missing: an unreadable path is there, and reading it reports why. */
function isMissing(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (err) {
    return errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR';
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

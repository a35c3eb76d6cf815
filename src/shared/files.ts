import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { AppError } from './errors.js';

/**
 * Reads a file that must be a regular file (a symlink is followed only when its target is one) of at
 * most `maxBytes`, else AppError('dataFile') naming it as `what` (e.g. "predictor file"). Checked before
 * opening, so a FIFO or device is never opened, and again on the open descriptor (opened O_NONBLOCK,
 * so a FIFO swapped in between cannot block the event loop), and the read stops past `maxBytes`.
 */
export function readRegularFile(path: string, maxBytes: number, what: string): string {
  checkRegularFile(path, statFile(path, what), maxBytes, what);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new AppError('dataFile', `cannot open ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    checkRegularFile(path, fstatSync(fd), maxBytes, what);
    return readAtMost(path, fd, maxBytes, what);
  } finally {
    closeSync(fd);
  }
}

function statFile(path: string, what: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    const why = errno(err) === 'ENOENT' ? 'is missing' : `cannot be read: ${(err as Error).message}`;
    throw new AppError('dataFile', `${what} ${path} ${why}`);
  }
}

function checkRegularFile(path: string, st: Stats, maxBytes: number, what: string): void {
  if (!st.isFile()) throw new AppError('dataFile', `${what} ${path} is ${fileKind(st)}, not a regular file`);
  if (st.size > maxBytes)
    throw new AppError('dataFile', `${what} ${path} is ${st.size} bytes, more than the ${maxBytes} allowed`);
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'something else';
}

/** Reads to the end, but never more than maxBytes + 1 bytes (a file growing past its stat size). */
function readAtMost(path: string, fd: number, maxBytes: number, what: string): string {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - total));
    const n = readSync(fd, chunk, 0, chunk.length, null);
    if (n === 0) return Buffer.concat(chunks, total).toString('utf8');
    chunks.push(chunk.subarray(0, n));
    total += n;
    if (total > maxBytes)
      throw new AppError('dataFile', `${what} ${path} grew past the ${maxBytes} bytes allowed while being read`);
  }
}

/** Creates `path` (it must not exist yet), writes `text` and fsyncs it before closing. */
export function writeFileSynced(path: string, text: string): void {
  const fd = openSync(path, 'wx');
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * temp file + fsync + rename + fsync of the folder: after a crash the file is the old one or the new one.
 * `tmpName` is the temp file's name in `dir`, chosen by the caller so that it can recognise (and clean up)
 * the leftover of a crashed write.
 */
export function writeFileDurably(dir: string, name: string, text: string, tmpName: string): void {
  const tmp = join(dir, tmpName);
  writeFileSynced(tmp, text);
  renameSync(tmp, join(dir, name));
  fsyncDir(dir);
}

/** Makes renames and creations in `dir` durable (the entries live in the directory, not in the files). */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Only "does not exist" counts as missing: an unreadable path is there, and reading it reports why. */
export function isMissing(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (err) {
    return errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR';
  }
}

export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** The code of a Node system error (ENOENT, EEXIST, ...), if it is one. */
export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

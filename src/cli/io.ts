import { readFileSync } from 'node:fs';
import { AppError, errorKindOf } from '../shared/errors.js';

export interface InputDocuments {
  /** the parsed values, in input order */
  items: unknown[];
  /** true when the input was a single JSON object (answer with one object, not lines) */
  single: boolean;
}

/** Reads a JSON object, a JSON array, or JSONL (one JSON value per line) from a file or stdin. */
export function readInputDocuments(file: string | undefined): InputDocuments {
  let text: string;
  try {
    text = file && file !== '-' ? readFileSync(file, 'utf8') : readFileSync(0, 'utf8');
  } catch (err) {
    throw new AppError('invalidInput', `cannot read ${file ?? 'stdin'}: ${(err as Error).message}`);
  }
  const trimmed = text.trim();
  if (trimmed === '') throw new AppError('invalidInput', `${file ?? 'stdin'} is empty: expected a JSON object, array or JSONL`);
  try {
    const value: unknown = JSON.parse(trimmed);
    if (Array.isArray(value)) return { items: value, single: false };
    return { items: [value], single: true };
  } catch {
    // not one JSON document: try JSONL
  }
  const items: unknown[] = [];
  trimmed.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      items.push(JSON.parse(line));
    } catch (err) {
      throw new AppError('invalidInput', `${file ?? 'stdin'} line ${i + 1}: not valid JSON (${(err as Error).message})`);
    }
  });
  return { items, single: false };
}

/** Prefixes the paths of an AppError raised for item `index` of a batch, e.g. `[3].adapters.0.rate`. */
export function withItemPath(err: unknown, index: number, single: boolean): unknown {
  if (single || !(err instanceof AppError)) return err;
  const details = err.details as { issues?: { path: string; message: string }[] } | undefined;
  const issues = details?.issues?.map((i) => ({ ...i, path: `[${index}].${i.path}` }));
  const message = err.message.replace(/^(invalid [^:]+: )/, `$1[${index}].`);
  return new AppError(errorKindOf(err), message, issues ? { issues } : err.details);
}

export function writeJson(value: unknown, pretty: boolean): void {
  process.stdout.write(`${JSON.stringify(value, null, pretty ? 2 : undefined)}\n`);
}

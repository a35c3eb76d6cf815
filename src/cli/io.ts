import { readFileSync } from 'node:fs';
import { AppError, errorKindOf } from '../shared/errors.js';
import { jsonSyntaxError } from '../shared/json-syntax.js';

export interface InputDocuments {
  /** the parsed values, in input order */
  items: unknown[];
  /** true when the input was a single JSON object (answer with one object, not lines) */
  single: boolean;
}

/** Reads a JSON object, a JSON array, or JSONL (one JSON value per line) from a file or stdin. */
export function readInputDocuments(file: string | undefined): InputDocuments {
  const name = file && file !== '-' ? file : 'stdin';
  let text: string;
  try {
    text = file && file !== '-' ? readFileSync(file, 'utf8') : readFileSync(0, 'utf8');
  } catch (err) {
    throw new AppError('invalidInput', `cannot read ${file ?? 'stdin'}: ${(err as Error).message}`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim() === '')
    throw new AppError('invalidInput', `${name} is empty: expected a JSON object, array or JSONL`);
  let documentError: unknown;
  try {
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value)) return { items: value, single: false };
    return { items: [value], single: true };
  } catch (err) {
    documentError = err;
  }
  // JSONL when the first line is a JSON value on its own; else one malformed document
  const lines = text.split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  if (!lines.slice(first + 1).some((l) => l.trim() !== '') || !parses(lines[first]!)) {
    throw notValidJson(name, text, documentError, 0);
  }
  const items: unknown[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      items.push(JSON.parse(line));
    } catch (err) {
      throw notValidJson(name, line, err, i);
    }
  });
  return { items, single: false };
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** `file:line:column: not valid JSON: ...` (lineOffset: lines before `text` in the file) */
function notValidJson(name: string, text: string, err: unknown, lineOffset: number): AppError {
  const e = jsonSyntaxError(text, err);
  const line = e.line + lineOffset;
  return new AppError('invalidInput', `${name}:${line}:${e.column}: not valid JSON: ${e.message}`, {
    file: name,
    line,
    column: e.column,
  });
}

/** Reads and parses one JSON file; a malformed one is bad input naming `file:line:column`. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('invalidInput', `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw notValidJson(file, text, err, 0);
  }
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

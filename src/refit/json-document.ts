import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { jsonSyntaxError, lineColumnAt } from '../shared/json-syntax.js';

/** A JSON file's parsed value and its text (to place a bad field at its line and column). */
export interface JsonDocument {
  file: string;
  text: string;
  value: unknown;
}

/** Reads and parses a JSON file; malformed or truncated JSON is bad input naming `file:line:column`. */
export function readJsonDocument(file: string): JsonDocument {
  const text = readText(file);
  try {
    return { file, text, value: JSON.parse(text) };
  } catch (err) {
    const e = jsonSyntaxError(text, err);
    throw new AppError('invalidInput', `${file}:${e.line}:${e.column}: not valid JSON: ${e.message}`, {
      file,
      line: e.line,
      column: e.column,
    });
  }
}

export function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('invalidInput', `cannot read ${file}: ${(err as Error).message}`, { file });
  }
}

/**
 * Parses a document with a zod schema; the first bad field is named with its path and its place in the
 * file (`bench.json:1:5123: itls.17.3: Invalid input: expected number`; vLLM writes its JSON on one line).
 */
export function parseDocument<S extends z.ZodType>(schema: S, doc: JsonDocument, what: string): z.output<S> {
  const result = schema.safeParse(doc.value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String).join('.') || '(root)';
  const at = positionOf(doc.text, issue.path);
  const place = at ? `${doc.file}:${at.line}:${at.column}` : doc.file;
  const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more)` : '';
  throw new AppError('invalidInput', `${place}: ${what}: ${path}: ${issue.message}${more}`, {
    file: doc.file,
    ...(at ?? {}),
    field: path,
  });
}

/**
 * Line and column of the value at `path` in a JSON text (of its parent when the key is missing), or null.
 * Walks only along the path and skips sibling values by bracket counting: no recursion, any depth.
 */
export function positionOf(text: string, path: readonly PropertyKey[]): { line: number; column: number } | null {
  let i = skipWs(text, 0);
  for (const key of path) {
    const open = text[i];
    if (open !== '{' && open !== '[') return lineColumnAt(text, i);
    const found = open === '{' ? findMember(text, i, String(key)) : findElement(text, i, Number(key));
    if (found < 0) return lineColumnAt(text, i);
    i = found;
  }
  return i < text.length ? lineColumnAt(text, i) : null;
}

function findMember(text: string, at: number, key: string): number {
  let i = skipWs(text, at + 1);
  while (i < text.length && text[i] !== '}') {
    const keyEnd = skipString(text, i);
    let name: string;
    try {
      name = JSON.parse(text.slice(i, keyEnd)) as string;
    } catch {
      return -1;
    }
    i = skipWs(text, keyEnd);
    if (text[i] !== ':') return -1;
    i = skipWs(text, i + 1);
    if (name === key) return i;
    i = skipWs(text, skipValue(text, i));
    if (text[i] === ',') i = skipWs(text, i + 1);
  }
  return -1;
}

function findElement(text: string, at: number, index: number): number {
  let i = skipWs(text, at + 1);
  for (let k = 0; i < text.length && text[i] !== ']'; k++) {
    if (k === index) return i;
    i = skipWs(text, skipValue(text, i));
    if (text[i] === ',') i = skipWs(text, i + 1);
  }
  return -1;
}

function skipValue(text: string, at: number): number {
  const c = text[at];
  if (c === '"') return skipString(text, at);
  if (c !== '{' && c !== '[') {
    let i = at;
    while (i < text.length && !',]} \t\r\n'.includes(text[i]!)) i++;
    return i;
  }
  let depth = 0;
  for (let i = at; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') i = skipString(text, i) - 1;
    else if (ch === '{' || ch === '[') depth++;
    else if ((ch === '}' || ch === ']') && --depth === 0) return i + 1;
  }
  return text.length;
}

/** Offset just past the string starting at `at`. */
function skipString(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

function skipWs(text: string, at: number): number {
  let i = at;
  while (i < text.length && ' \t\r\n'.includes(text[i]!)) i++;
  return i;
}

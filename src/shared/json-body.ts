import { AppError, invalidInput } from './errors.js';
import { jsonSyntaxError } from './json-syntax.js';

/**
 * Weight of a JSON document: 1 per value, 4 per object (an empty object can miss a few required
 * fields, and each missing field is one validation issue). Validating a document costs time per issue,
 * so bounding the weight bounds what a malformed document can cost before the schema sees it.
 */
export function jsonWeightExceeds(value: unknown, budget: number): boolean {
  let weight = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      weight += 1 + v.length;
      if (weight > budget) return true;
      for (const item of v) if (item !== null && typeof item === 'object') stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      const values = Object.values(v);
      weight += 4 + values.length;
      if (weight > budget) return true;
      for (const item of values) if (item !== null && typeof item === 'object') stack.push(item);
    } else {
      weight += 1;
    }
  }
  return weight > budget;
}

/** The 413 of a document heavier than the budget. */
export function documentTooLarge(budget: number): AppError {
  return new AppError(
    'bodyTooLarge',
    `the request body holds more than ${budget.toLocaleString('en-US')} JSON values (objects count 4); send ` +
      'fewer adapters or events',
    { maxJsonValues: budget },
  );
}

/** Parses a request body received as text (routes whose validation runs on a worker thread). */
export function parseJsonBody(text: string, maxJsonValues: number): unknown {
  if (text.trim() === '') throw new AppError('invalidInput', 'request body is empty; a JSON document is required');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    const e = jsonSyntaxError(text, err);
    throw invalidInput('request body', [
      { path: '(root)', message: `not valid JSON (line ${e.line}, column ${e.column}: ${e.message})` },
    ]);
  }
  if (jsonWeightExceeds(value, maxJsonValues)) throw documentTooLarge(maxJsonValues);
  return value;
}

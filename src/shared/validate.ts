import type { z } from 'zod';
import { AppError, type ErrorIssue } from './errors.js';

/** Dotted path of a zod issue, e.g. `adapters.3.rank`; `(root)` for the value itself. */
export function issuePath(path: readonly PropertyKey[], prefix = ''): string {
  const parts = path.map((p) => String(p));
  const joined = parts.join('.');
  if (prefix && joined) return `${prefix}.${joined}`;
  return prefix || joined || '(root)';
}

/** Parses with a zod schema or throws an AppError naming every offending field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ErrorIssue[] = result.error.issues.map((i) => ({
    path: issuePath(i.path, prefix),
    message: i.message,
  }));
  const first = issues[0];
  const summary = first ? `${first.path}: ${first.message}` : 'invalid';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  throw new AppError('invalidInput', `invalid ${what}: ${summary}${more}`, { issues });
}

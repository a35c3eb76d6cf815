import type { z } from 'zod';
import { AppError, invalidInput, type ErrorIssue } from './errors.js';

/** Longest path or message an issue carries (zod names unknown keys in its message: they are the user's). */
const maxIssueText = 200;

function clip(text: string): string {
  return text.length > maxIssueText ? `${text.slice(0, maxIssueText)}…` : text;
}

/** Dotted path of a zod issue, e.g. `adapters.3.rank`; `(root)` for the value itself. */
export function issuePath(path: readonly PropertyKey[], prefix = ''): string {
  const parts = path.map((p) => String(p));
  const joined = parts.join('.');
  if (prefix && joined) return clip(`${prefix}.${joined}`);
  return clip(prefix || joined || '(root)');
}

/** Parses with a zod schema or throws an AppError naming the offending fields (the first few). */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string, prefix = ''): z.output<S> {
  let result: z.ZodSafeParseResult<z.output<S>>;
  try {
    result = schema.safeParse(value);
  } catch (err) {
    // zod gathers the issues of one array with a spread: hundreds of thousands of them overflow the stack
    if (err instanceof RangeError)
      throw new AppError(
        'invalidInput',
        `invalid ${what}: too many invalid values to report; check the document's arrays`,
      );
    throw err;
  }
  if (result.success) return result.data;
  const issues: ErrorIssue[] = result.error.issues.flatMap(unionBranch).map((i) => ({
    path: issuePath(i.path, prefix),
    message: clip(i.message),
  }));
  throw invalidInput(what, issues);
}

type Issue = z.core.$ZodIssue;

/**
 * A union none of whose options matched says "Invalid input"; when only one option got past the value's
 * type (its issues lie inside the value, e.g. `inputTokens.mean` of a length object), its issues say more.
 */
function unionBranch(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const inside = issue.errors.filter((branch) => branch.some((i) => i.path.length > 0));
  if (inside.length !== 1) return [issue];
  return inside[0]!.map((i) => ({ ...i, path: [...issue.path, ...i.path] }));
}

/**
 * The real programs some tests start (Debian packages): a test suite that needs one declares it with
 * `describeWith`, so that a missing program is never a silent skip.
 *
 * - `npm test` (the developers' loop): a suite whose programs are missing is skipped, and the skip
 *   reporter (test/helpers/skip-reporter.ts) lists it with the package to install at the end of the run.
 * - `npm run test:all` (what CI runs, scripts/test-all.sh): LORA_PLACER_REAL_PARTS=required; a missing
 *   program fails the suite, naming the package, and the reporter fails the run if anything was skipped.
 */
import { spawnSync } from 'node:child_process';
import { describe, it } from 'vitest';

declare module 'vitest' {
  interface TaskMeta {
    /** why a suite was skipped: the programs it needs and their Debian packages */
    skipReason?: string;
  }
}

/** Each program a test starts, and the Debian package that installs it. */
export const realParts = {
  'redis-server': 'redis-server',
  prometheus: 'prometheus',
  promtool: 'prometheus',
  kubectl: 'kubernetes-client',
  chromium: 'chromium',
} as const;
export type RealPart = keyof typeof realParts;

const found = new Map<RealPart, string | null>();

/** Where `part` is on the PATH, or null (asked once per test file). */
export function partPath(part: RealPart): string | null {
  let known = found.get(part);
  if (known === undefined) {
    known = spawnSync('/bin/sh', ['-c', `command -v ${part}`], { encoding: 'utf8' }).stdout.trim() || null;
    found.set(part, known);
  }
  return known;
}

export const hasPart = (part: RealPart): boolean => partPath(part) !== null;

/** True when every real part must be there (the full test command): a missing one fails instead of skipping. */
export function realPartsRequired(): boolean {
  return process.env.LORA_PLACER_REAL_PARTS === 'required';
}

/** What is missing of `parts`, as a sentence naming the Debian packages (null when nothing is). */
export function missingParts(parts: readonly RealPart[]): string | null {
  const missing = parts.filter((p) => !hasPart(p));
  if (missing.length === 0) return null;
  const packages = [...new Set(missing.map((p) => realParts[p]))];
  return (
    `needs ${missing.join(', ')} (Debian package${packages.length > 1 ? 's' : ''} ${packages.join(', ')}: ` +
    'npm run test:all installs them)'
  );
}

/**
 * A describe block that runs when the programs it starts are installed. Otherwise it is skipped with the
 * reason recorded for the skip reporter, or, when real parts are required, it fails naming the package.
 */
export function describeWith(parts: readonly RealPart[], name: string, body: () => void): void {
  const reason = missingParts(parts);
  if (reason === null) {
    describe(name, body);
  } else if (realPartsRequired()) {
    describe(name, () => {
      it(`cannot run: ${reason}`, () => {
        throw new Error(`LORA_PLACER_REAL_PARTS=required and this suite ${reason}`);
      });
    });
  } else {
    describe(name, { skip: true, meta: { skipReason: reason } }, body);
  }
}

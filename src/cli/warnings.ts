import type { Warning } from '../twin/index.js';

/**
 * An answer's warnings as stderr lines: `warning: CODE field: message` (the field of item `index` of a batch as
 * `[index].field`, like error paths). The JSON on stdout keeps them too.
 */
export function warningLines(warnings: readonly Warning[] | undefined, index: number, single: boolean): string[] {
  return (warnings ?? []).map((w) => `warning: ${w.code} ${single ? w.field : `[${index}].${w.field}`}: ${w.message}`);
}

/** Prints an answer's warnings on stderr (warningLines). */
export function printWarnings(warnings: readonly Warning[] | undefined, index: number, single: boolean): void {
  for (const line of warningLines(warnings, index, single)) process.stderr.write(`${line}\n`);
}

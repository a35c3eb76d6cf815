import { availableParallelism } from 'node:os';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError } from '../shared/errors.js';

/**
 * The CLI's argument helpers: every command parses its options here, so an unknown option, a missing
 * value, a stray argument or a malformed number all exit 2 with a message naming the flag.
 */

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs, strict, its errors turned into bad input naming the command. */
export function parseCommandArgs<const O extends Options>(
  command: string,
  argv: string[],
  options: O,
  maxPositionals = 0,
): {
  values: ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>['values'];
  positionals: string[];
} {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    if (err instanceof TypeError && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      throw new AppError('invalidInput', `${command}: ${err.message.split('\n')[0]}`);
    }
    throw err;
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals
      .slice(maxPositionals)
      .map((p) => `"${p}"`)
      .join(', ');
    const takes = maxPositionals === 0 ? 'takes no arguments' : `takes at most ${maxPositionals} argument(s)`;
    throw new AppError('invalidInput', `${command}: ${takes} besides options (got ${extra})`);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

/** --quiet: no progress on stderr (commands that report progress spread it into their options). */
export const quietOption = { quiet: { type: 'boolean', default: false } } as const;

/** The value of a required option, else bad input `--flag: required (hint)`. */
export function requireOption(value: string | undefined, flag: string, hint?: string): string {
  if (value === undefined || value === '')
    throw new AppError('invalidInput', `${flag}: required${hint ? ` (${hint})` : ''}`);
  return value;
}

function toNumber(value: string): number {
  // Number('') and Number(' ') are 0: an empty value is not a number
  return value.trim() === '' ? Number.NaN : Number(value);
}

/** An integer >= min (default 1: "a positive integer"; 0: "a non-negative integer"). */
export function intOption(value: string, flag: string, min = 1): number {
  const n = toNumber(value);
  if (!Number.isInteger(n) || n < min) {
    const what = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new AppError('invalidInput', `${flag}: expected ${what}, got "${value}"`);
  }
  return n;
}

export type NumberRange = 'any' | 'positive' | 'non-negative';

/** A finite number, optionally positive or non-negative; `unit` is appended ("seconds"). */
export function numberOption(value: string, flag: string, range: NumberRange = 'any', unit?: string): number {
  const n = toNumber(value);
  const ok = Number.isFinite(n) && (range === 'any' || (range === 'positive' ? n > 0 : n >= 0));
  if (!ok) {
    const what = range === 'any' ? 'a number' : `a ${range} number`;
    throw new AppError('invalidInput', `${flag}: expected ${what}${unit ? ` of ${unit}` : ''}, got "${value}"`);
  }
  return n;
}

/** numberOption, or undefined when the option was not given. */
export function optionalNumber(
  value: string | undefined,
  flag: string,
  range: NumberRange = 'any',
): number | undefined {
  return value === undefined ? undefined : numberOption(value, flag, range);
}

/** --workers N: a positive integer, default all cores. */
export function parseWorkers(value: string | undefined): number {
  return value === undefined ? availableParallelism() : intOption(value, '--workers');
}

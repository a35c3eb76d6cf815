import { describe, expect, it } from 'vitest';
import {
  intOption,
  numberOption,
  optionalNumber,
  parseCommandArgs,
  parseWorkers,
  requireOption,
} from '../../src/cli/args.js';
import { isAppError } from '../../src/shared/errors.js';

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

describe('CLI argument helpers', () => {
  const options = { seed: { type: 'string' }, json: { type: 'boolean', default: false } } as const;

  it('parses options and positionals', () => {
    const { values, positionals } = parseCommandArgs('x', ['--seed', '3', 'file.json'], options, 1);
    expect(values.seed).toBe('3');
    expect(values.json).toBe(false);
    expect(positionals).toEqual(['file.json']);
  });

  it('turns unknown options, missing values and stray arguments into bad input naming the command', () => {
    for (const argv of [['--frobnicate'], ['--seed'], ['a', 'b']]) {
      const err = errorOf(() => parseCommandArgs('simulate', argv, options, 1));
      expect(isAppError(err)).toBe(true);
      expect((err as unknown as { status: number }).status).toBe(400);
      expect(err.message).toMatch(/^simulate: /);
    }
    expect(errorOf(() => parseCommandArgs('simulate', ['--frobnicate'], options)).message).toContain('--frobnicate');
    expect(errorOf(() => parseCommandArgs('profiles', ['x'], options)).message).toContain('takes no arguments');
  });

  it('checks numbers, naming the flag and the value', () => {
    expect(intOption('4', '--repeats')).toBe(4);
    expect(intOption('0', '--seed', 0)).toBe(0);
    expect(errorOf(() => intOption('0', '--repeats')).message).toBe('--repeats: expected a positive integer, got "0"');
    expect(errorOf(() => intOption('-1', '--seed', 0)).message).toBe(
      '--seed: expected a non-negative integer, got "-1"',
    );
    expect(errorOf(() => intOption('1.5', '--seed', 0)).message).toContain('non-negative integer');
    expect(errorOf(() => intOption('', '--workers')).message).toContain('--workers');
    expect(numberOption('0.25', '--hysteresis')).toBe(0.25);
    expect(errorOf(() => numberOption('abc', '--hysteresis')).message).toBe(
      '--hysteresis: expected a number, got "abc"',
    );
    expect(errorOf(() => numberOption(' ', '--hysteresis')).message).toContain('expected a number');
    expect(errorOf(() => numberOption('0', '--max', 'positive')).message).toBe(
      '--max: expected a positive number, got "0"',
    );
    expect(errorOf(() => numberOption('-1', '--s', 'non-negative', 'seconds')).message).toBe(
      '--s: expected a non-negative number of seconds, got "-1"',
    );
    expect(optionalNumber(undefined, '--x')).toBeUndefined();
    expect(() => optionalNumber('Infinity', '--x', 'positive')).toThrow('--x: expected a positive number');
  });

  it('requires options and defaults --workers to all cores', () => {
    expect(requireOption('a', '--gpu')).toBe('a');
    expect(errorOf(() => requireOption(undefined, '--gpu', 'a GPU name')).message).toBe('--gpu: required (a GPU name)');
    expect(parseWorkers(undefined)).toBeGreaterThanOrEqual(1);
    expect(parseWorkers('2')).toBe(2);
    expect(errorOf(() => parseWorkers('0')).message).toBe('--workers: expected a positive integer, got "0"');
  });
});

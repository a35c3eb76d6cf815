import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonSyntaxError, jsonSyntaxError, lineColumnAt } from '../../src/shared/json-syntax.js';

const valid = (text: string): boolean => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('JSON syntax errors with line and column', () => {
  it('reports a trailing comma on line 14 at the comma', () => {
    const lines = ['{', ...Array.from({ length: 12 }, (_, i) => `  "k${i}": ${i},`), '  "last": [1, 2],', '}'];
    const text = `${lines.join('\n')}\n`;
    expect(lines[13]).toBe('  "last": [1, 2],');
    const e = findJsonSyntaxError(text)!;
    expect(e).toMatchObject({
      line: 14,
      column: lines[13]!.lastIndexOf(',') + 1,
      message: "trailing comma before '}'",
    });
    expect(e.column).toBe(17);
    expect(text[e.position]).toBe(',');
  });

  it('names the line and column of common mistakes', () => {
    expect(findJsonSyntaxError('[1,\n 2,\n]')).toMatchObject({
      line: 2,
      column: 3,
      message: "trailing comma before ']'",
    });
    expect(findJsonSyntaxError('{\n  "a": 1\n  "b": 2\n}')).toMatchObject({
      line: 3,
      column: 3,
      message: "unexpected '\"', expected ',' or '}'",
    });
    expect(findJsonSyntaxError("{\n  'a': 1}")).toMatchObject({ line: 2, column: 3 });
    expect(findJsonSyntaxError('{"a": tru}')).toMatchObject({
      line: 1,
      column: 10,
      message: 'unexpected \'}\' in "true"',
    });
    expect(findJsonSyntaxError('[1]\n[2]')).toMatchObject({
      line: 2,
      column: 1,
      message: "unexpected '[' after the JSON value",
    });
    expect(findJsonSyntaxError('{"a": "x\ny"}')).toMatchObject({ line: 1, column: 9 });
    expect(findJsonSyntaxError('{"a": 01}')).toMatchObject({ column: 8 });
  });

  it('reports an unexpected end at the end of the text', () => {
    const text = '{\n  "model": "m",\n  "adapters": [\n';
    expect(findJsonSyntaxError(text)).toMatchObject({ line: 4, column: 1, position: text.length });
    expect(findJsonSyntaxError(text)!.message).toMatch(/^unexpected end of input/);
    expect(findJsonSyntaxError('{"a": "abc')!.message).toContain('the string opened at line 1, column 7 is not closed');
    expect(findJsonSyntaxError('')).toMatchObject({ line: 1, column: 1 });
  });

  it('accepts exactly what JSON.parse accepts', () => {
    const samples = [
      '{}',
      '[]',
      ' 1 ',
      '-0.5e+3',
      '"\\u00e9\\n"',
      '{"a":[{"b":null}],"c":true}',
      '[1,]',
      '{,}',
      '1.',
      '.5',
      '-',
      '"\\x"',
      '[',
      '{"a"}',
      'nul',
      '\t[\r\n]',
    ];
    for (const s of samples) expect(findJsonSyntaxError(s) === null, s).toBe(valid(s));
    fc.assert(
      fc.property(
        fc.json(),
        fc.nat(),
        fc.constantFrom('', ',', '}', ']', '"', ':', ' ', '\n', 'x', '0', '-', '\\'),
        (json, at, insert) => {
          const i = at % (json.length + 1);
          const text = json.slice(0, i) + insert + json.slice(i);
          const e = findJsonSyntaxError(text);
          expect(e === null).toBe(valid(text));
          if (e) expect(e.position).toBeLessThanOrEqual(text.length);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('scans any depth and falls back to the engine message', () => {
    expect(findJsonSyntaxError(`${'['.repeat(100_000)}${']'.repeat(100_000)}`)).toBeNull();
    expect(jsonSyntaxError('{"a":1,}', new SyntaxError('x')).line).toBe(1);
    expect(jsonSyntaxError('{}', new SyntaxError('boom at position 1'))).toMatchObject({
      position: 1,
      message: 'boom at position 1',
    });
    expect(lineColumnAt('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});

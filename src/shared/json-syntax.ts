/**
 * Where a JSON text is malformed, as line and column. Node 20's JSON.parse names a position for some
 * errors and none for others ("Unexpected token ']', ... is not valid JSON"), so the text is scanned
 * again, iteratively (any depth), to the first offending character. A trailing comma is reported at
 * the comma, not at the bracket after it; an unexpected end at the end of the text.
 */
export interface JsonSyntaxError {
  /** offset of the offending character (UTF-16 code units) */
  position: number;
  /** 1-based */
  line: number;
  /** 1-based, in UTF-16 code units */
  column: number;
  message: string;
}

/** The line and column (both 1-based) of an offset in a text. */
export function lineColumnAt(text: string, position: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(position, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** The first syntax error of `text`, or null when it is one valid JSON value. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  const found = scan(text);
  return found ? { ...found, ...lineColumnAt(text, found.position) } : null;
}

/**
 * The syntax error of a text JSON.parse rejected (its message as a fallback should the scan find
 * none, e.g. a RangeError from the engine).
 */
export function jsonSyntaxError(text: string, err: unknown): JsonSyntaxError {
  const found = findJsonSyntaxError(text);
  if (found) return found;
  const position = Number(/at position (\d+)/.exec(String((err as Error)?.message))?.[1] ?? text.length);
  return { position, ...lineColumnAt(text, position), message: String((err as Error)?.message ?? err).slice(0, 120) };
}

const isWs = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 13;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isHex = (c: number): boolean => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);

function describe(text: string, i: number): string {
  if (i >= text.length) return 'end of input';
  const cp = text.codePointAt(i)!;
  return cp < 32
    ? `control character U+${cp.toString(16).padStart(4, '0').toUpperCase()}`
    : `'${String.fromCodePoint(cp)}'`;
}

const OBJECT = 0;
const ARRAY = 1;
/** What the scanner expects next inside an object or array. */
const FIRST = 0;
const AFTER_VALUE = 1;
const AFTER_COMMA = 2;
const AFTER_KEY = 3;

/**
 * The open objects and arrays, two bytes each: a body of a few MiB of '[' nests that deep, and an object
 * per level cost the worker more heap than the body itself.
 */
class Frames {
  private kinds = new Uint8Array(64);
  private states = new Uint8Array(64);
  length = 0;

  push(kind: number): void {
    if (this.length === this.kinds.length) {
      const kinds = new Uint8Array(this.length * 2);
      const states = new Uint8Array(this.length * 2);
      kinds.set(this.kinds);
      states.set(this.states);
      this.kinds = kinds;
      this.states = states;
    }
    this.kinds[this.length] = kind;
    this.states[this.length] = FIRST;
    this.length++;
  }

  pop(): void {
    this.length--;
  }

  get kind(): number {
    return this.kinds[this.length - 1]!;
  }

  get state(): number {
    return this.states[this.length - 1]!;
  }

  set state(state: number) {
    this.states[this.length - 1] = state;
  }
}

function scan(text: string): { position: number; message: string } | null {
  let i = 0;
  const n = text.length;
  const fail = (position: number, message: string): { position: number; message: string } => ({ position, message });
  const unexpected = (what: string): { position: number; message: string } =>
    i >= n
      ? fail(n, `unexpected end of input, expected ${what}`)
      : fail(i, `unexpected ${describe(text, i)}, expected ${what}`);
  const skipWs = (): void => {
    while (i < n && isWs(text.charCodeAt(i))) i++;
  };
  /** a string at i (text[i] is '"'); null when well formed */
  const string = (): { position: number; message: string } | null => {
    const start = i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) {
        i++;
        return null;
      }
      if (c < 32) return fail(i, `${describe(text, i)} in a string (write it escaped, e.g. \\n)`);
      if (c === 92) {
        const e = text.charCodeAt(i + 1);
        if (e === 117) {
          for (let k = 2; k < 6; k++)
            if (!isHex(text.charCodeAt(i + k)))
              return fail(Math.min(i + k, n), 'bad \\u escape: expected 4 hex digits');
          i += 6;
        } else if ('"\\/bfnrt'.includes(text[i + 1] ?? '') && i + 1 < n) {
          i += 2;
        } else {
          return i + 1 >= n
            ? fail(n, 'unexpected end of input in a string')
            : fail(i + 1, `bad escape \\${text[i + 1]} in a string`);
        }
      } else {
        i++;
      }
    }
    const at = lineColumnAt(text, start);
    return fail(n, `unexpected end of input: the string opened at line ${at.line}, column ${at.column} is not closed`);
  };
  const number = (): { position: number; message: string } | null => {
    if (text.charCodeAt(i) === 45) i++;
    if (text.charCodeAt(i) === 48) i++;
    else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
    else return unexpected('a digit');
    if (text.charCodeAt(i) === 46) {
      i++;
      if (!isDigit(text.charCodeAt(i))) return unexpected('a digit after the decimal point');
      while (isDigit(text.charCodeAt(i))) i++;
    }
    if (text.charCodeAt(i) === 101 || text.charCodeAt(i) === 69) {
      i++;
      if (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45) i++;
      if (!isDigit(text.charCodeAt(i))) return unexpected('a digit in the exponent');
      while (isDigit(text.charCodeAt(i))) i++;
    }
    return null;
  };
  const stack = new Frames();
  /** a value at i: a scalar is consumed, a container pushed; null when fine */
  const value = (): { position: number; message: string } | null => {
    skipWs();
    if (i >= n) return unexpected('a value');
    const c = text.charCodeAt(i);
    if (c === 123 || c === 91) {
      stack.push(c === 123 ? OBJECT : ARRAY);
      i++;
      return null;
    }
    if (c === 34) return string();
    if (c === 45 || isDigit(c)) return number();
    for (const word of ['true', 'false', 'null']) {
      if (c === word.charCodeAt(0)) {
        for (let k = 0; k < word.length; k++) {
          if (text.charCodeAt(i + k) !== word.charCodeAt(k)) {
            i += k;
            return i >= n
              ? fail(n, `unexpected end of input in "${word}"`)
              : fail(i, `unexpected ${describe(text, i)} in "${word}"`);
          }
        }
        i += word.length;
        return null;
      }
    }
    return unexpected('a value (object, array, string, number, true, false or null)');
  };

  let err = value();
  if (err) return err;
  let lastComma = -1;
  while (stack.length > 0) {
    skipWs();
    const c = i < n ? text.charCodeAt(i) : -1;
    const inObject = stack.kind === OBJECT;
    const close = inObject ? 125 : 93;
    const closer = inObject ? "'}'" : "']'";
    const state = stack.state;
    if (state === AFTER_COMMA && c === close) return fail(lastComma, `trailing comma before ${closer}`);
    if ((state === FIRST || state === AFTER_VALUE) && c === close) {
      i++;
      stack.pop();
      if (stack.length > 0) stack.state = AFTER_VALUE;
      continue;
    }
    if (state === AFTER_VALUE) {
      if (c !== 44) return unexpected(`',' or ${closer}`);
      lastComma = i++;
      stack.state = AFTER_COMMA;
      continue;
    }
    if (inObject && state !== AFTER_KEY) {
      if (c !== 34)
        return unexpected(
          state === FIRST ? "a property name in double quotes or '}'" : 'a property name in double quotes',
        );
      err = string();
      if (err) return err;
      skipWs();
      if (text.charCodeAt(i) !== 58) return unexpected("':' after the property name");
      i++;
      stack.state = AFTER_KEY;
      continue;
    }
    // a value in an array, or after an object's key
    stack.state = AFTER_VALUE;
    err = value();
    if (err) return err;
  }
  skipWs();
  return i < n ? fail(i, `unexpected ${describe(text, i)} after the JSON value`) : null;
}

/**
 * Reads Prometheus' instant-vector answer (`{"status":"success","data":{"resultType":"vector","result":[{"metric":
 * {...},"value":[t,"v"]},...]}}`) chunk by chunk as it arrives, keeping of each series only its adapter label and
 * value, and only for the series `keep` wants. Nothing is built of the rest: a 10 MB answer of nested arrays or of
 * 100,000 unwanted series costs a scan (a few ms per MB, between chunks, on the HTTP thread) and no memory, where
 * JSON.parse and a schema over the whole answer blocked the thread for seconds and took GBs. The grammar is JSON's
 * (escapes, numbers, literals checked) with the answer's shape on top; anything else, nesting deeper than
 * `maxDepth` or more kept series than `maxSeries` stops the read at once with a VectorAnswerError whose message is
 * generic (it never quotes the answer).
 */

/** Why an answer was refused, in words of this service (never the answer's text): "Prometheus answered <message>". */
export class VectorAnswerError extends Error {}

export interface VectorReaderOptions {
  /** the label whose value names the series (the adapter) */
  label: string;
  /** whether a series is kept, by its label value (undefined: the series lacks it, or it is over 1,024 bytes) */
  keep: (label: string | undefined) => boolean;
  /** the most series kept; one more refuses the answer */
  maxSeries: number;
  /** the deepest nesting allowed anywhere (the vector itself needs 5) */
  maxDepth?: number;
}

export interface VectorReading {
  /** the kept series with a finite value (NaN and infinite ones, 0/0 of an idle adapter, are left out) */
  samples: { label: string; value: number }[];
  /** series not kept */
  skipped: number;
}

/** Keys, labels and sample values longer than this are not kept (an adapter id has at most 256 characters). */
const maxCapture = 1024;
const maxNumberChars = 64;

// lexer states
const BETWEEN = 0;
const STRING = 1;
const ESCAPE = 2;
const HEX = 3;
const NUMBER = 4;
const LITERAL = 5;
const DONE = 6;

// containers and where a container is in its grammar
const OBJECT = 0;
const ARRAY = 1;
const FIRST = 0;
const AFTER_VALUE = 1;
const AFTER_COMMA = 2;
const AFTER_KEY = 3;
const AFTER_COLON = 4;

// what a value is, by where it is (roles)
const R_ROOT = 0;
const R_OTHER = 1;
const R_STATUS = 2;
const R_DATA = 3;
const R_RESULT_TYPE = 4;
const R_RESULT = 5;
const R_SERIES = 6;
const R_METRIC = 7;
const R_LABEL = 8;
const R_METRIC_VALUE = 9;
const R_VALUE = 10;
const R_TIMESTAMP = 11;
const R_SAMPLE = 12;

/** the roles whose value is a string */
const stringRoles = new Set([R_OTHER, R_STATUS, R_RESULT_TYPE, R_LABEL, R_METRIC_VALUE, R_SAMPLE]);

/** the keys and values the answer's shape names, as bytes */
const words = Object.fromEntries(
  ['success', 'vector', 'data', 'status', 'result', 'resultType', 'metric', 'value'].map((w) => [w, Buffer.from(w)]),
) as Record<'success' | 'vector' | 'data' | 'status' | 'result' | 'resultType' | 'metric' | 'value', Buffer>;

const literals = ['true', 'false', 'null'].map((w) => Buffer.from(w));
const numberSyntax = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
const notAVector = 'something that is not an instant vector';

export class VectorReader {
  private readonly maxDepth: number;
  private readonly kinds: Uint8Array;
  private readonly states: Uint8Array;
  private readonly roles: Uint8Array;
  /** the role of the value after the current key (objects) */
  private readonly valueRoles: Uint8Array;
  /** elements so far (arrays) */
  private readonly counts: Uint32Array;
  private depth = 0;

  private lex = BETWEEN;
  /** the bytes of the string (or number) being read, when kept */
  private readonly capture = Buffer.alloc(maxCapture);
  private captured = 0;
  private capturing = false;
  private overflow = false;
  private escaped = false;
  private hexLeft = 0;
  private literal: Buffer = literals[0]!;
  private literalAt = 0;
  /** the role of the string being read (a key: -1) */
  private stringRole = -1;

  private success = false;
  private isVector = false;
  private readonly label: Buffer;
  private seenData = false;
  private seenResult = false;
  private seriesLabel: string | undefined;
  private seriesValue = Number.NaN;
  private seriesMetric = false;
  private seriesSample = false;
  private kept = 0;
  private readonly reading: VectorReading = { samples: [], skipped: 0 };

  constructor(private readonly o: VectorReaderOptions) {
    this.maxDepth = o.maxDepth ?? 32;
    this.label = Buffer.from(o.label);
    this.kinds = new Uint8Array(this.maxDepth);
    this.states = new Uint8Array(this.maxDepth);
    this.roles = new Uint8Array(this.maxDepth);
    this.valueRoles = new Uint8Array(this.maxDepth);
    this.counts = new Uint32Array(this.maxDepth);
  }

  /** Reads one more chunk of the answer; throws VectorAnswerError as soon as the answer cannot be a vector. */
  push(chunk: Uint8Array): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      const c = chunk[i]!;
      switch (this.lex) {
        case BETWEEN:
          i++;
          if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) break;
          if (c === 0x7b || c === 0x5b) this.open(c === 0x7b ? OBJECT : ARRAY);
          else if (c === 0x7d || c === 0x5d) this.close(c === 0x7d ? OBJECT : ARRAY);
          else if (c === 0x3a) this.colon();
          else if (c === 0x2c) this.comma();
          else if (c === 0x22) this.beginString();
          else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
            this.lex = NUMBER;
            this.capture[0] = c;
            this.captured = 1;
          } else {
            const word = literals.find((w) => w[0] === c);
            if (!word) throw new VectorAnswerError(notAVector);
            this.lex = LITERAL;
            this.literal = word;
            this.literalAt = 1;
          }
          break;
        case STRING:
          i = this.stringBytes(chunk, i);
          break;
        case ESCAPE:
          i++;
          this.keepByte(c);
          if (c === 0x75) {
            this.lex = HEX;
            this.hexLeft = 4;
          } else if (
            c === 0x22 ||
            c === 0x5c ||
            c === 0x2f ||
            c === 0x62 ||
            c === 0x66 ||
            c === 0x6e ||
            c === 0x72 ||
            c === 0x74
          )
            this.lex = STRING;
          else throw new VectorAnswerError(notAVector);
          break;
        case HEX:
          i++;
          if (!((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)))
            throw new VectorAnswerError(notAVector);
          this.keepByte(c);
          if (--this.hexLeft === 0) this.lex = STRING;
          break;
        case NUMBER:
          if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) {
            if (this.captured >= maxNumberChars) throw new VectorAnswerError(notAVector);
            this.capture[this.captured++] = c;
            i++;
          } else {
            // the byte after the number is read again, between tokens
            this.lex = BETWEEN;
            this.scalar(R_TIMESTAMP, numberSyntax.test(this.capture.toString('latin1', 0, this.captured)));
          }
          break;
        case LITERAL:
          i++;
          if (c !== this.literal[this.literalAt++]) throw new VectorAnswerError(notAVector);
          if (this.literalAt === this.literal.length) {
            this.lex = BETWEEN;
            this.scalar(-1, true);
          }
          break;
        default:
          // after the answer: blanks only
          i++;
          if (!(c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)) throw new VectorAnswerError(notAVector);
      }
    }
  }

  /** The reading, once the whole answer was pushed; throws VectorAnswerError if it was not a whole vector answer. */
  end(): VectorReading {
    if (this.lex !== DONE || !this.success || !this.isVector || !this.seenResult)
      throw new VectorAnswerError(notAVector);
    return this.reading;
  }

  /** A string's bytes from `start`; returns where it stopped (past the closing quote or the backslash, or the end). */
  private stringBytes(chunk: Uint8Array, start: number): number {
    const n = chunk.length;
    let i = start;
    let c = 0;
    while (i < n) {
      c = chunk[i]!;
      if (c === 0x22 || c === 0x5c || c < 0x20) break;
      i++;
    }
    if (this.capturing) this.keepSpan(chunk, start, i);
    if (i === n) return n;
    if (c < 0x20) throw new VectorAnswerError(notAVector);
    if (c === 0x22) {
      this.lex = BETWEEN;
      this.endString();
    } else {
      this.keepByte(c);
      this.escaped = true;
      this.lex = ESCAPE;
    }
    return i + 1;
  }

  private keepSpan(chunk: Uint8Array, from: number, to: number): void {
    if (to - from > maxCapture - this.captured) {
      this.overflow = true;
      return;
    }
    // a few bytes each time: a loop costs less than a subarray and a copy
    const capture = this.capture;
    let at = this.captured;
    for (let k = from; k < to; k++) capture[at++] = chunk[k]!;
    this.captured = at;
  }

  private keepByte(c: number): void {
    if (!this.capturing) return;
    if (this.captured < maxCapture) this.capture[this.captured++] = c;
    else this.overflow = true;
  }

  /** Whether the string just read (captured, not too long) is `expected` (escapes decoded). */
  private capturedIs(expected: Buffer): boolean {
    if (!this.capturing || this.overflow) return false;
    if (this.escaped) return this.capturedText() === expected.toString('utf8');
    const n = expected.length;
    if (this.captured !== n) return false;
    const capture = this.capture;
    for (let k = 0; k < n; k++) if (capture[k] !== expected[k]) return false;
    return true;
  }

  /** The text of the string just read (undefined when not captured or too long). */
  private capturedText(): string | undefined {
    if (!this.capturing || this.overflow) return undefined;
    const raw = this.capture.toString('utf8', 0, this.captured);
    // the escapes were checked as read: JSON.parse of the quoted text cannot fail
    return this.escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
  }

  private beginString(): void {
    const top = this.depth - 1;
    const isKey =
      top >= 0 && this.kinds[top] === OBJECT && (this.states[top] === FIRST || this.states[top] === AFTER_COMMA);
    const role = isKey ? -1 : this.valueRole();
    // a string where the vector has an object, an array or a number: refused before its bytes are read
    if (!isKey && !stringRoles.has(role)) throw new VectorAnswerError(notAVector);
    this.stringRole = role;
    this.capturing = isKey
      ? this.roles[top] !== R_OTHER
      : role === R_STATUS || role === R_RESULT_TYPE || role === R_LABEL || role === R_SAMPLE;
    this.captured = 0;
    this.overflow = false;
    this.escaped = false;
    this.lex = STRING;
  }

  private endString(): void {
    const role = this.stringRole;
    if (role === -1) {
      const top = this.depth - 1;
      this.valueRoles[top] = this.keyRole(this.roles[top]!);
      this.states[top] = AFTER_KEY;
      return;
    }
    if (role === R_STATUS) this.success = this.capturedIs(words.success);
    else if (role === R_RESULT_TYPE) this.isVector = this.capturedIs(words.vector);
    else if (role === R_LABEL) this.seriesLabel = this.capturedText();
    else if (role === R_SAMPLE) this.seriesValue = Number(this.capturedText() ?? Number.NaN);
    this.afterValue();
  }

  /** The role of the value that follows the key just read in an object of role `role`. */
  private keyRole(role: number): number {
    if (role === R_ROOT) {
      if (this.capturedIs(words.data)) {
        if (this.seenData) throw new VectorAnswerError(notAVector);
        this.seenData = true;
        return R_DATA;
      }
      return this.capturedIs(words.status) ? R_STATUS : R_OTHER;
    }
    if (role === R_DATA) {
      if (this.capturedIs(words.result)) {
        if (this.seenResult) throw new VectorAnswerError(notAVector);
        this.seenResult = true;
        return R_RESULT;
      }
      return this.capturedIs(words.resultType) ? R_RESULT_TYPE : R_OTHER;
    }
    if (role === R_SERIES)
      return this.capturedIs(words.metric) ? R_METRIC : this.capturedIs(words.value) ? R_VALUE : R_OTHER;
    if (role === R_METRIC) return this.capturedIs(this.label) ? R_LABEL : R_METRIC_VALUE;
    return R_OTHER;
  }

  /** The role of a value starting now, where the grammar allows one. */
  private valueRole(): number {
    const top = this.depth - 1;
    if (top < 0) {
      if (this.lex === DONE) throw new VectorAnswerError(notAVector);
      return R_ROOT;
    }
    const state = this.states[top]!;
    if (this.kinds[top] === OBJECT) {
      if (state !== AFTER_COLON) throw new VectorAnswerError(notAVector);
      return this.valueRoles[top]!;
    }
    if (state !== FIRST && state !== AFTER_COMMA) throw new VectorAnswerError(notAVector);
    const role = this.roles[top]!;
    if (role === R_RESULT) return R_SERIES;
    if (role === R_VALUE) {
      const index = this.counts[top]!;
      if (index > 1) throw new VectorAnswerError(notAVector);
      return index === 0 ? R_TIMESTAMP : R_SAMPLE;
    }
    return R_OTHER;
  }

  /** A number (role R_TIMESTAMP's kind of value) or a literal (-1) ends. */
  private scalar(kind: number, wellFormed: boolean): void {
    const role = this.valueRole();
    if (!wellFormed || !(role === R_OTHER || (kind === R_TIMESTAMP && role === R_TIMESTAMP)))
      throw new VectorAnswerError(notAVector);
    this.afterValue();
  }

  private afterValue(): void {
    const top = this.depth - 1;
    if (top < 0) return;
    this.states[top] = AFTER_VALUE;
    if (this.kinds[top] === ARRAY) this.counts[top]!++;
  }

  private open(kind: number): void {
    const role = this.valueRole();
    const allowed =
      kind === OBJECT
        ? role === R_ROOT || role === R_DATA || role === R_SERIES || role === R_METRIC || role === R_OTHER
        : role === R_RESULT || role === R_VALUE || role === R_OTHER;
    if (!allowed) throw new VectorAnswerError(notAVector);
    if (this.depth === this.maxDepth) throw new VectorAnswerError(`JSON nested deeper than ${this.maxDepth} levels`);
    // the parent has its value (this container), once it closes
    this.afterValue();
    const top = this.depth++;
    this.kinds[top] = kind;
    this.states[top] = FIRST;
    this.roles[top] = role;
    this.counts[top] = 0;
    if (role === R_SERIES) {
      this.seriesLabel = undefined;
      this.seriesValue = Number.NaN;
      this.seriesMetric = false;
      this.seriesSample = false;
    } else if (role === R_METRIC) {
      // a second "metric" replaces the first, as JSON.parse would have it
      this.seriesMetric = true;
      this.seriesLabel = undefined;
    }
  }

  private close(kind: number): void {
    const top = this.depth - 1;
    if (top < 0 || this.kinds[top] !== kind) throw new VectorAnswerError(notAVector);
    const state = this.states[top]!;
    if (state !== FIRST && state !== AFTER_VALUE) throw new VectorAnswerError(notAVector);
    const role = this.roles[top]!;
    this.depth--;
    if (role === R_VALUE) {
      if (this.counts[top] !== 2) throw new VectorAnswerError(notAVector);
      this.seriesSample = true;
    } else if (role === R_SERIES) this.series();
    else if (role === R_ROOT) this.lex = DONE;
  }

  private colon(): void {
    const top = this.depth - 1;
    if (top < 0 || this.states[top] !== AFTER_KEY) throw new VectorAnswerError(notAVector);
    this.states[top] = AFTER_COLON;
  }

  private comma(): void {
    const top = this.depth - 1;
    if (top < 0 || this.states[top] !== AFTER_VALUE) throw new VectorAnswerError(notAVector);
    this.states[top] = AFTER_COMMA;
  }

  /** A series ends: kept (if wanted, up to maxSeries) or counted. */
  private series(): void {
    if (!this.seriesMetric || !this.seriesSample) throw new VectorAnswerError(notAVector);
    if (!this.o.keep(this.seriesLabel)) {
      this.reading.skipped++;
      return;
    }
    if (++this.kept > this.o.maxSeries) throw new VectorAnswerError(`more than ${this.o.maxSeries} series`);
    if (Number.isFinite(this.seriesValue))
      this.reading.samples.push({ label: this.seriesLabel!, value: this.seriesValue });
  }
}

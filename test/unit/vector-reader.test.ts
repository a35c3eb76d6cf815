import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { VectorAnswerError, VectorReader, type VectorReaderOptions } from '../../src/observe/vector-reader.js';
import { nestedArraysAnswer } from '../helpers/fake-prometheus.js';

const label = 'target_model_name';
const all: VectorReaderOptions = { label, keep: (id) => id !== undefined, maxSeries: 1000 };

/** Reads `text` cut into chunks at `cuts` (byte offsets). */
function read(text: string | Buffer, o: VectorReaderOptions = all, cuts: number[] = []) {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const reader = new VectorReader(o);
  let at = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
    reader.push(bytes.subarray(at, cut));
    at = cut;
  }
  return reader.end();
}
const refusal = (text: string | Buffer, o: VectorReaderOptions = all): string => {
  try {
    read(text, o);
  } catch (err) {
    expect(err).toBeInstanceOf(VectorAnswerError);
    return (err as Error).message;
  }
  return 'accepted';
};

/** What the service did before: the whole answer parsed, then this schema; the reader must agree with it. */
const Reference = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('vector'),
    result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: z.tuple([z.number(), z.string()]) })),
  }),
});
function reference(text: string) {
  let parsed: z.infer<typeof Reference>;
  try {
    parsed = Reference.parse(JSON.parse(text));
  } catch {
    return 'refused';
  }
  const kept = parsed.data.result.filter((s) => s.metric[label] !== undefined);
  return {
    samples: kept
      .map((s) => ({ label: s.metric[label]!, value: Number(s.value[1]) }))
      .filter((s) => Number.isFinite(s.value)),
    skipped: parsed.data.result.length - kept.length,
  };
}

const vector = (result: unknown[], over: object = {}) =>
  JSON.stringify({ status: 'success', data: { resultType: 'vector', result }, ...over });

describe('VectorReader', () => {
  it('keeps the label and value of each wanted series, whatever the chunks, escapes or extra fields', () => {
    const text =
      '{"status":"success","warnings":["w"],"data":{"resultType":"vector","result":[' +
      '{"metric":{"pool":"p","target_model_name":"ad-\\u0061"},"value":[1700000000.5,"2.5"]},' +
      '{"metric":{"target_model_name":"\u00e9t\u00e9"},"value":[1,"NaN"],"extra":{"a":[null,true,false]}},' +
      '{"metric":{},"value":[1,"3"]}]}}\n';
    const expected = { samples: [{ label: 'ad-a', value: 2.5 }], skipped: 1 };
    expect(reference(text)).toEqual(expected);
    const bytes = Buffer.from(text);
    for (let cut = 1; cut < bytes.length; cut++) expect(read(bytes, all, [cut]), `cut at ${cut}`).toEqual(expected);
    expect(
      read(
        bytes,
        all,
        Array.from({ length: bytes.length }, (_, i) => i),
      ),
    ).toEqual(expected);
  });

  it('agrees with JSON.parse and the old schema on generated answers, cut anywhere', () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    /** mostly `good`, sometimes any JSON value instead */
    const mostly = <T>(good: fc.Arbitrary<T>) =>
      fc.oneof({ arbitrary: good, weight: 9 }, { arbitrary: json as fc.Arbitrary<unknown>, weight: 1 });
    /** a record whose keys are all there mostly, each optional sometimes */
    const record = <T extends Record<string, unknown>>(fields: { [K in keyof T]: fc.Arbitrary<T[K]> }) =>
      fc.oneof(
        { arbitrary: fc.record(fields), weight: 9 },
        { arbitrary: fc.record(fields, { requiredKeys: [] }), weight: 1 },
      );
    const series = record({
      metric: mostly(fc.dictionary(fc.constantFrom(label, 'pool', 'job'), fc.string({ maxLength: 8 }))),
      value: mostly(
        fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('1', '0.5', 'NaN', '+Inf', '')),
      ),
    });
    const answer = record({
      status: fc.constantFrom('success', 'success', 'success', 'error'),
      data: mostly(
        record({
          resultType: fc.constantFrom('vector', 'vector', 'vector', 'matrix'),
          result: mostly(fc.array(mostly(series), { maxLength: 6 })),
        }),
      ),
      warnings: fc.option(json),
    });
    fc.assert(
      fc.property(mostly(answer), fc.array(fc.nat(400)), (value, cuts) => {
        const text = JSON.stringify(value);
        let ours: unknown;
        try {
          ours = read(text, all, cuts);
        } catch (err) {
          if (!(err instanceof VectorAnswerError)) throw err;
          ours = 'refused';
        }
        expect(ours).toEqual(reference(text));
      }),
      { numRuns: 1500, seed: 22 },
    );
  });

  it('refuses what is not an instant vector, at once where it can', () => {
    const notVector = 'something that is not an instant vector';
    expect(refusal(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }))).toBe(notVector);
    expect(refusal(vector([]).replace('success', 'error'))).toBe(notVector);
    expect(refusal(`${vector([])} x`)).toBe(notVector);
    expect(refusal(vector([{ metric: {}, value: [1, '1', 2] }]))).toBe(notVector);
    expect(refusal(vector([{ metric: { [label]: 1 }, value: [1, '1'] }]))).toBe(notVector);
    expect(refusal(vector([{ metric: {} }]))).toBe(notVector);
    expect(refusal('{"status":"success","data":{"resultType":"vector","result":[],}}')).toBe(notVector);
    expect(refusal('{"status":"success","status":"success","data":{"resultType":"vector","result":[1]}}')).toBe(
      notVector,
    );
    expect(refusal('<html>not prometheus</html>')).toBe(notVector);
    expect(refusal(vector([]).slice(0, -1))).toBe(notVector);
    // 10 MB of nested arrays where the series are: refused at the first '[' of the second level, from the first chunk
    const nested = nestedArraysAnswer(10 * 1024 * 1024);
    expect(() => new VectorReader(all).push(nested.subarray(0, 64 * 1024))).toThrow(notVector);
    // nesting where anything goes (a warning) is bounded too
    const warning = (depth: number) =>
      `{"status":"success","warnings":${'['.repeat(depth)}${']'.repeat(depth)},` +
      '"data":{"resultType":"vector","result":[]}}';
    expect(refusal(warning(32))).toBe('JSON nested deeper than 32 levels');
    expect(refusal(warning(31))).toBe('accepted');
  });

  it('keeps at most maxSeries series, counting the unwanted ones without keeping them', () => {
    const result = Array.from({ length: 50 }, (_, i) => ({ metric: { [label]: `ad-${i}` }, value: [1, '1'] }));
    const even = (id: string | undefined) => id !== undefined && Number(id.slice(3)) % 2 === 0;
    const reading = read(vector(result), { label, keep: even, maxSeries: 25 });
    expect(reading.samples).toHaveLength(25);
    expect(reading.skipped).toBe(25);
    expect(refusal(vector(result), { label, keep: even, maxSeries: 24 })).toBe('more than 24 series');
    // a label value longer than 1,024 bytes is no adapter name: not kept
    const long = [{ metric: { [label]: 'x'.repeat(1025) }, value: [1, '1'] }];
    expect(read(vector(long), all)).toEqual({ samples: [], skipped: 1 });
  });
});

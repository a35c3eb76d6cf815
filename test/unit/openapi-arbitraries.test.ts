import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { openapiDocument } from '../../src/api/openapi.js';
import { Workload } from '../../src/placement/index.js';
import { Scenario } from '../../src/twin/index.js';
import {
  applyServiceRules,
  mutatedArbitrary,
  mutatorNames,
  operationsOf,
  requestSequence,
  toJsonText,
  validArbitrary,
  type JsonSchema,
  type OpenApiDocument,
} from '../fuzz/openapi-arbitraries.js';

// the document generated from the zod schemas in src right now (the committed copy may lag behind)
let doc: OpenApiDocument;
beforeAll(async () => {
  doc = (await openapiDocument()) as unknown as OpenApiDocument;
});

const bodyOf = (key: string): JsonSchema => {
  const op = operationsOf(doc).find((o) => o.key === key);
  if (!op?.bodySchema) throw new Error(`${key} has no JSON body in the document`);
  return op.bodySchema;
};

const bodies: { name: string; operation: string; zod: z.ZodType }[] = [
  { name: 'Scenario', operation: 'POST /v1/simulate', zod: Scenario },
  { name: 'Workload', operation: 'POST /v1/placements', zod: Workload },
];

/** The first few zod verdicts that disagree with what the fuzzer expects, readable in a failure. */
function disagreements(values: unknown[], zod: z.ZodType, expectValid: boolean): string[] {
  return values
    .map((v) => ({ v, r: zod.safeParse(v) }))
    .filter(({ r }) => r.success !== expectValid)
    .slice(0, 3)
    .map(
      ({ v, r }) =>
        `${toJsonText(v).slice(0, 300)}\n  -> ${r.success ? 'accepted' : JSON.stringify(r.error.issues.slice(0, 2))}`,
    );
}

describe.each(bodies)('$name bodies from the OpenAPI document', ({ name, operation, zod }) => {
  const valid = () => validArbitrary(bodyOf(operation), doc).map((v) => applyServiceRules(v, [], name === 'Scenario'));

  it("valid values pass the service's own zod schema", () => {
    const values = fc.sample(valid(), { seed: 42, numRuns: 300 });
    expect(disagreements(values, zod, true)).toEqual([]);
  });

  it.each(mutatorNames)('%s: what it claims the schema rejects, zod rejects (after a JSON round trip)', (mutator) => {
    const mutated = fc.sample(mutatedArbitrary(bodyOf(operation), doc, valid(), [mutator]), { seed: 7, numRuns: 100 });
    const claimed = mutated.filter((m) => m.rejects).map((m) => JSON.parse(toJsonText(m.value)) as unknown);
    expect(claimed.length, 'samples claimed invalid').toBeGreaterThan(20);
    expect(disagreements(claimed, zod, false)).toEqual([]);
  });
});

describe('request sequences', () => {
  it('are the same for the same seed, and differ for another', () => {
    const a = JSON.stringify(requestSequence(doc, 7, 200));
    expect(JSON.stringify(requestSequence(doc, 7, 200))).toBe(a);
    expect(JSON.stringify(requestSequence(doc, 8, 200))).not.toBe(a);
  });

  it('cover every operation, about half of them valid', () => {
    const requests = requestSequence(doc, 1, 1500, { weights: { 'POST /v1/simulate': 1 } });
    const perOperation = new Map<string, number>();
    for (const r of requests) perOperation.set(r.operation, (perOperation.get(r.operation) ?? 0) + 1);
    for (const op of operationsOf(doc)) expect(perOperation.get(op.key) ?? 0, op.key).toBeGreaterThan(20);
    const validShare = requests.filter((r) => r.label.startsWith('valid')).length / requests.length;
    expect(validShare).toBeGreaterThan(0.4);
    expect(validShare).toBeLessThan(0.6);
  });

  it('keep bodies under 256 KB', () => {
    const largest = Math.max(...requestSequence(doc, 3, 800).map((r) => r.body?.length ?? 0));
    expect(largest).toBeLessThanOrEqual(256 * 1024);
  });
});

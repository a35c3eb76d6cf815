import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openapiDocument, openapiText } from '../../src/api/openapi.js';

const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8');

function refs(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refs(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

describe('openapi/openapi.json', () => {
  it('matches what the zod schemas generate (run `npm run openapi` after changing a route)', async () => {
    expect(await openapiText()).toBe(committed);
  });

  it('has no dangling $ref', async () => {
    const doc = await openapiDocument();
    const components = doc.components as Record<'schemas' | 'requestBodies', Record<string, unknown>>;
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(5);
    for (const ref of all) {
      const [, kind, name] = /^#\/components\/(schemas|requestBodies)\/([^/]+)$/.exec(ref) ?? [];
      expect(kind, ref).toBeDefined();
      expect(components[kind as 'schemas'], ref).toHaveProperty([name!]);
    }
  });

  it('documents every route of the contract', async () => {
    const paths = Object.keys((await openapiDocument()).paths as object);
    for (const p of [
      '/healthz',
      '/readyz',
      '/v1/simulate',
      '/v1/predict',
      '/v1/placements',
      '/v1/profiles',
      '/v1/models',
      '/v1/models/refresh',
      '/v1/models/refresh/{id}',
      '/v1/pools/{pool}',
      '/v1/pools/{pool}/autoscale',
    ]) {
      expect(paths).toContain(p);
    }
  });
});

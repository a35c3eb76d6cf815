import { afterAll, describe, expect, it } from 'vitest';
import { operationExamples } from '../../src/api/examples.js';
import { openapiDocument } from '../../src/api/openapi.js';
import { buildTestApp } from '../helpers/app.js';

interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
}

const doc = await openapiDocument();
const operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, ops]) =>
  Object.entries(ops).map(([method, op]) => ({
    name: `${method.toUpperCase()} ${path}`,
    method: method.toUpperCase() as 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: path.replace('{pool}', 'llama-prod').replace('{id}', 'df21dece-3625-4c09-9d2e-aa1d5e1ebda7'),
    op,
  })),
);

/** `security` requires the token when no alternative in it is empty (`{}` makes it optional). */
const required = (op: Operation) => (op.security ?? []).length > 0 && op.security!.every((s) => 'bearer' in s);
const mentioned = (op: Operation) => (op.security ?? []).some((s) => 'bearer' in s);

const token = 'a-long-enough-token';

/** Anonymous requests only: the guard answers before any work, and the open routes get their example body. */
async function anonymousStatus(app: Awaited<ReturnType<typeof buildTestApp>>, o: (typeof operations)[number]) {
  const body = operationExamples[o.op.operationId]?.request?.value;
  const r = await app.inject({ method: o.method, url: o.url, ...(body ? { payload: body as object } : {}) });
  return r.statusCode;
}

describe('declared security matches what the service enforces', () => {
  it('covers every operation', () => {
    expect(operations.length).toBeGreaterThanOrEqual(17);
  });

  describe('AUTH_SCOPE=expensive (the default): a 401 without the token exactly where it is required', async () => {
    const app = await buildTestApp({ apiToken: token });
    afterAll(() => app.close());
    it.each(operations)('$name', async (o) => {
      expect((await anonymousStatus(app, o)) === 401).toBe(required(o.op));
    });
  });

  describe('AUTH_SCOPE=all: a 401 without the token wherever the document mentions it', async () => {
    const app = await buildTestApp({ apiToken: token, authScope: 'all' });
    afterAll(() => app.close());
    it.each(operations)('$name', async (o) => {
      expect((await anonymousStatus(app, o)) === 401).toBe(mentioned(o.op));
    });
  });
});

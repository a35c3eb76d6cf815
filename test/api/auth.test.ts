import { afterAll, describe, expect, it } from 'vitest';
import type { AuthScope } from '../../src/api/auth.js';
import { buildTestApp, smallScenario, smallWorkload } from '../helpers/app.js';

const token = 'a-long-enough-token';

/** One request of each class of route: a read, a prediction, an expensive computation, a state change. */
const probes = [
  { name: 'GET /v1/models', klass: 'read', method: 'GET', url: '/v1/models' },
  { name: 'POST /v1/predict', klass: 'read', method: 'POST', url: '/v1/predict', payload: smallScenario() },
  {
    name: 'POST /v1/simulate',
    klass: 'expensive',
    method: 'POST',
    url: '/v1/simulate',
    payload: smallScenario({ durationS: 5 }),
  },
  { name: 'POST /v1/placements', klass: 'expensive', method: 'POST', url: '/v1/placements', payload: smallWorkload() },
  { name: 'PUT /v1/pools/p', klass: 'mutating', method: 'PUT', url: '/v1/pools/p', payload: smallWorkload() },
] as const;

const protectedIn: Record<AuthScope, readonly string[]> = {
  mutating: ['mutating'],
  expensive: ['mutating', 'expensive'],
  all: ['mutating', 'expensive', 'read'],
};

describe.each(['mutating', 'expensive', 'all'] as const)('AUTH_SCOPE=%s with API_TOKEN set', async (scope) => {
  const app = await buildTestApp({ apiToken: token, authScope: scope });
  afterAll(() => app.close());

  it.each(probes)('$name needs the token exactly when its class is in the scope', async (probe) => {
    const anonymous = await app.inject({
      method: probe.method,
      url: probe.url,
      ...('payload' in probe ? { payload: probe.payload } : {}),
    });
    const needsToken = protectedIn[scope].includes(probe.klass);
    expect(anonymous.statusCode === 401, `${probe.name}: ${anonymous.statusCode}`).toBe(needsToken);
    if (needsToken) expect(anonymous.json().error.code).toBe('LP_ERR_UNAUTHORIZED');
    const withToken = await app.inject({
      method: probe.method,
      url: probe.url,
      headers: { authorization: `Bearer ${token}` },
      ...('payload' in probe ? { payload: probe.payload } : {}),
    });
    expect(withToken.statusCode).toBe(200);
  });

  it('keeps probes and scrapers open', async () => {
    for (const url of ['/healthz', '/readyz', '/metrics', '/openapi.json'])
      expect((await app.inject({ url })).statusCode, url).toBe(200);
  });
});

describe('without API_TOKEN', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  it('serves every route to anyone (the service warns at start when it listens beyond loopback)', async () => {
    for (const probe of probes) {
      const r = await app.inject({
        method: probe.method,
        url: probe.url,
        ...('payload' in probe ? { payload: probe.payload } : {}),
      });
      expect(r.statusCode, probe.name).toBe(200);
    }
  });
});

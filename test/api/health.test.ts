import { afterAll, describe, expect, it } from 'vitest';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { buildTestApp } from '../helpers/app.js';
import { embeddedKeys, predictorKeys } from '../helpers/embedded-profiles.js';

describe('health routes', async () => {
  const app = await buildTestApp();
  const noModels = await buildTestApp({ predictors: new PredictorRegistry([]) });
  afterAll(async () => {
    await app.close();
    await noModels.close();
  });

  it('answers /healthz and /readyz with the loaded profiles and model versions', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    // every embedded profile, the 15 built ones included; predictors for the calibrated two and two built ones
    expect(ready.json().profiles).toEqual(embeddedKeys);
    expect(ready.json().models).toHaveLength(predictorKeys.length);
    expect(ready.json().store).toEqual({ backend: 'memory', reachable: true, state: 'reachable' });
  });

  it('is not ready without predictor models', async () => {
    const r = await noModels.inject({ url: '/readyz' });
    expect(r.statusCode).toBe(503);
    expect(r.json().status).toBe('not ready');
  });

  it('answers unknown routes with the error shape and echoes the request id', async () => {
    const r = await app.inject({ url: '/nope?x=1', headers: { 'x-request-id': 'req-42' } });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: { code: 'LP_ERR_NOT_FOUND', message: 'no route GET /nope' } });
    expect(r.headers['x-request-id']).toBe('req-42');
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { ProfileStore, embeddedProfiles } from '../../src/profiles/index.js';

describe('health routes', async () => {
  const app = await buildApp({ profiles: embeddedProfiles() });
  const empty = await buildApp({ profiles: new ProfileStore([]) });
  afterAll(async () => {
    await app.close();
    await empty.close();
  });

  it('answers /healthz and /readyz with the loaded profiles', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const ready = await app.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().profiles).toEqual(['llama-3.1-8b-instruct@h100-64gb', 'qwen-2.5-7b-instruct@h100-64gb']);
  });

  it('is not ready without profiles', async () => {
    expect((await empty.inject({ url: '/readyz' })).statusCode).toBe(503);
  });

  it('answers unknown routes with the error shape', async () => {
    const r = await app.inject({ url: '/nope' });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: { code: 'LP_ERR_NOT_FOUND', message: 'no route GET /nope' } });
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { simulate } from '../../src/twin/index.js';
import { buildTestApp, llama } from '../helpers/app.js';

/** A plain vLLM server (no --enable-lora) serving base-model requests only. */
const plainVllm = {
  ...llama,
  engine: { enableLora: false, maxNumSeqs: 256 },
  baseModel: { rate: 4 },
  report: { perAdapter: true },
  durationS: 30,
  seed: 2,
};

describe('Scenarios without LoRA over HTTP', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
  const issuePaths = (body: { error: { details?: { issues?: { path: string }[] } } }) =>
    (body.error.details?.issues ?? []).map((i) => i.path);

  it('simulates a server without LoRA as the library does (baseModel and enableLora kept)', async () => {
    const r = await post('/v1/simulate', plainVllm);
    expect(r.statusCode).toBe(200);
    const direct = JSON.parse(JSON.stringify(simulate(plainVllm, embeddedProfiles())));
    // the calibration tables have base-model runs at these settings: nothing to warn about
    expect({ ...r.json(), wallMs: 0 }).toEqual({ ...direct, wallMs: 0, warnings: [] });
    expect(r.json().engine.enableLora).toBe(false);
    expect(r.json().baseModel.completedRequests).toBeGreaterThan(50);
    expect(r.json().baseModel.ttftMs.mean).toBeGreaterThan(0);
  });

  it('refuses a request naming an adapter on a server without LoRA (400 naming the field)', async () => {
    const r = await post('/v1/simulate', { ...plainVllm, adapters: [{ id: 'a', rank: 8, rate: 1 }] });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('LP_ERR_INVALID_INPUT');
    expect(issuePaths(r.json())).toEqual(['adapters']);
  });

  it('refuses to predict what the predictors never saw, naming the field and pointing to simulate', async () => {
    const off = await post('/v1/predict', plainVllm);
    expect(off.statusCode).toBe(400);
    expect(issuePaths(off.json())).toEqual(['engine.enableLora', 'baseModel']);
    expect(off.json().error.message).toMatch(/simulate/);
    const mixed = await post('/v1/predict', {
      ...llama,
      engine: { maxLoras: 4 },
      adapters: [{ id: 'a', rank: 8, rate: 1 }],
      baseModel: { rate: 1 },
    });
    expect(mixed.statusCode).toBe(400);
    expect(issuePaths(mixed.json())).toEqual(['baseModel']);
  });
});

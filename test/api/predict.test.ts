import { afterAll, describe, expect, it } from 'vitest';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { parseScenario, simulate } from '../../src/twin/index.js';
import { buildTestApp, llama, smallScenario } from '../helpers/app.js';

describe('POST /v1/predict and /v1/simulate', async () => {
  const app = await buildTestApp({ bodyLimitBytes: 4096, predictBodyLimitBytes: 4096 });
  afterAll(() => app.close());
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });
  const postRaw = (url: string, payload: string, contentType = 'application/json') =>
    app.inject({ method: 'POST', url, payload, headers: { 'content-type': contentType } });

  it('predicts exactly what the library predicts', async () => {
    const r = await post('/v1/predict', smallScenario());
    expect(r.statusCode).toBe(200);
    const direct = PredictorRegistry.fromDirectory(embeddedProfiles())
      .get(llama.model, llama.gpu)
      .predict(parseScenario(smallScenario()));
    expect(r.json()).toEqual(JSON.parse(JSON.stringify(direct)));
    expect(r.json().throughput).toBeGreaterThan(0);
  });

  it('answers memoryError and no throughput for engine settings that do not fit', async () => {
    const r = await post(
      '/v1/predict',
      smallScenario({ engine: { maxLoras: 512, maxLoraRank: 256 }, adapters: [{ id: 'a', rank: 8, rate: 1 }] }),
    );
    expect(r.statusCode).toBe(200);
    expect(r.json().memoryError).toBe(true);
    expect(r.json().throughput).toBeNull();
  });

  it('simulates with the Twin, identical to the library for the same seed (and inside the envelope)', async () => {
    const r = await post('/v1/simulate', smallScenario());
    expect(r.statusCode).toBe(200);
    const direct = simulate(smallScenario(), embeddedProfiles());
    expect({ ...r.json(), wallMs: 0 }).toEqual({ ...JSON.parse(JSON.stringify(direct)), wallMs: 0, warnings: [] });
  });

  const bad: [
    string,
    () => Promise<{ statusCode: number; json: () => { error: { code: string; message: string } } }>,
    number,
    string,
    RegExp,
  ][] = [
    ['malformed JSON', () => postRaw('/v1/predict', '{"model": '), 400, 'LP_ERR_INVALID_INPUT', /not valid JSON/],
    [
      'a wrong type',
      () => post('/v1/predict', smallScenario({ adapters: [{ id: 'a', rank: 8, rate: 'fast' }] })),
      400,
      'LP_ERR_INVALID_INPUT',
      /adapters\.0\.rate/,
    ],
    [
      'a negative rate',
      () => post('/v1/predict', smallScenario({ adapters: [{ id: 'a', rank: 8, rate: -1 }] })),
      400,
      'LP_ERR_INVALID_INPUT',
      /adapters\.0\.rate/,
    ],
    [
      'a non-finite rate',
      () => postRaw('/v1/simulate', JSON.stringify(smallScenario()).replace('"rate":1}', '"rate":1e999}')),
      400,
      'LP_ERR_INVALID_INPUT',
      /adapters\.0\.rate/,
    ],
    [
      'rank 0',
      () => post('/v1/predict', smallScenario({ adapters: [{ id: 'a', rank: 0, rate: 1 }] })),
      400,
      'LP_ERR_INVALID_INPUT',
      /adapters\.0\.rank/,
    ],
    [
      'duplicate adapter ids',
      () =>
        post(
          '/v1/predict',
          smallScenario({
            adapters: [
              { id: 'a', rank: 8, rate: 1 },
              { id: 'a', rank: 8, rate: 1 },
            ],
          }),
        ),
      400,
      'LP_ERR_INVALID_INPUT',
      /adapters\.1\.id.*duplicate/,
    ],
    [
      'an unknown model',
      () => post('/v1/predict', smallScenario({ model: 'gpt-9' })),
      404,
      'LP_ERR_UNKNOWN_PROFILE',
      /gpt-9/,
    ],
    [
      'an unknown gpu to the Twin',
      () => post('/v1/simulate', smallScenario({ gpu: 'tpu-v9' })),
      404,
      'LP_ERR_UNKNOWN_PROFILE',
      /tpu-v9/,
    ],
    [
      'a body over the limit',
      () =>
        post(
          '/v1/predict',
          smallScenario({
            adapters: Array.from({ length: 200 }, (_, i) => ({ id: `adapter-${i}`, rank: 8, rate: 1 })),
          }),
        ),
      413,
      'LP_ERR_BODY_TOO_LARGE',
      /limit/,
    ],
    [
      'a body over the limit to the Twin',
      () =>
        post(
          '/v1/simulate',
          smallScenario({
            adapters: Array.from({ length: 200 }, (_, i) => ({ id: `adapter-${i}`, rank: 8, rate: 1 })),
          }),
        ),
      413,
      'LP_ERR_BODY_TOO_LARGE',
      /limit/,
    ],
    [
      'malformed JSON to the Twin',
      () => postRaw('/v1/simulate', '{"model": '),
      400,
      'LP_ERR_INVALID_INPUT',
      /not valid JSON/,
    ],
    ['an empty body to the Twin', () => postRaw('/v1/simulate', ''), 400, 'LP_ERR_INVALID_INPUT', /empty/],
    [
      'a body that is not JSON',
      () => postRaw('/v1/predict', 'model=x', 'application/x-www-form-urlencoded'),
      415,
      'LP_ERR_UNSUPPORTED_MEDIA_TYPE',
      /application\/json/,
    ],
    [
      'vLLM-invalid engine settings',
      () => post('/v1/predict', smallScenario({ engine: { maxLoras: 4, maxCpuLoras: 2 } })),
      400,
      'LP_ERR_INVALID_INPUT',
      /engine\.maxCpuLoras/,
    ],
  ];
  it.each(bad)(
    'rejects %s with the right status and code, then keeps serving',
    async (_name, send, status, code, message) => {
      const r = await send();
      expect(r.statusCode).toBe(status);
      expect(r.json().error.code).toBe(code);
      expect(r.json().error.message).toMatch(message);
      expect(JSON.stringify(r.json())).not.toMatch(/at .*\.ts:\d+/);
      expect((await post('/v1/predict', smallScenario())).statusCode).toBe(200);
    },
  );

  it('lists every offending field of a bad body', async () => {
    const r = await post('/v1/predict', {
      ...llama,
      engine: { maxLoras: 0 },
      adapters: [{ id: '', rank: 8, rate: 1 }],
    });
    expect(r.statusCode).toBe(400);
    const paths = r.json().error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['engine.maxLoras', 'adapters.0.id']));
  });
});

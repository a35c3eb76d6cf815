import { afterAll, describe, expect, it } from 'vitest';
import { buildTestApp, smallScenario } from '../helpers/app.js';
import { exampleWorkload, newcomerCases } from '../helpers/newcomer.js';

type Answer = { warnings: { code: string; field: string; message: string }[] };

describe('warnings over HTTP', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  const post = (url: string, payload: unknown) => app.inject({ method: 'POST', url, payload: payload as object });

  it('a placement of the example workload has none', async () => {
    const r = await post('/v1/placements', exampleWorkload());
    expect(r.statusCode).toBe(200);
    expect(r.json<Answer>().warnings).toEqual([]);
  });

  for (const c of newcomerCases)
    it(`a placement with ${c.name} answers 200 with ${c.code} on ${c.field}`, async () => {
      const r = await post('/v1/placements', c.workload());
      expect(r.statusCode, r.body).toBe(200);
      const found = r.json<Answer>().warnings.filter((w) => w.code === c.code);
      expect(found).toHaveLength(1);
      expect(found[0]!.field).toBe(c.field);
    });

  it('rates per minute: the message says how many req/s they would be per second', async () => {
    const r = await post('/v1/placements', newcomerCases[3]!.workload());
    const w = r.json<Answer>().warnings.find((x) => x.code === 'LP_WARN_ADAPTER_RATES_NOT_MEASURED')!;
    const total = exampleWorkload().adapters.reduce((s, a) => s + a.rate, 0);
    const perSecond = /divide them by 60 \(([\d.,]+) req\/s in all\)/.exec(w.message)?.[1];
    expect(Number(perSecond?.replace(/,/g, ''))).toBeCloseTo(total, 2);
  });

  it('"h100" is no card: a 404 naming the calibrated 64 GB and the built 80 GB profiles', async () => {
    const r = await post('/v1/placements', { ...exampleWorkload(), gpu: 'h100' });
    expect(r.statusCode).toBe(404);
    const message = r.json().error.message as string;
    expect(message).toContain('"h100-64gb" (calibrated on real runs)');
    expect(message).toContain('"h100-80gb" (built from kernel tables, not calibrated)');
  });

  it('simulate and predict carry them too (a rank-64 adapter, 1,000-token prompts, gamma arrivals)', async () => {
    const scenario = smallScenario({
      adapters: [
        { id: 'a', rank: 64, rate: 1 },
        { id: 'b', rank: 16, rate: 0.5 },
      ],
      inputTokens: { mean: 1000 },
      arrivals: { process: 'gamma', cv: 2 },
    });
    const expected = [
      'LP_WARN_RANK_NOT_MEASURED adapters.0.rank',
      'LP_WARN_PROMPT_LENGTH_NOT_MEASURED inputTokens.mean',
      'LP_WARN_ARRIVALS_NOT_MEASURED arrivals.process',
    ];
    for (const url of ['/v1/simulate', '/v1/predict']) {
      const r = await post(url, scenario);
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json<Answer>().warnings.map((w) => `${w.code} ${w.field}`)).toEqual(expected);
    }
    const plain = await post('/v1/predict', smallScenario());
    expect(plain.json<Answer>().warnings).toEqual([]);
  });
});

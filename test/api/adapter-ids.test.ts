import { afterAll, describe, expect, it } from 'vitest';
import { mergeReading } from '../../src/observe/observed-traffic.js';
import { AdapterId } from '../../src/twin/index.js';
import { buildTestApp, llama, smallScenario, smallWorkload } from '../helpers/app.js';
import { startFakePrometheus } from '../helpers/fake-prometheus.js';

/**
 * Ids that the id pattern's characters allow but that, as `--lora-modules <id>=<loraModulesRoot>/<id>`, name a path
 * outside the adapters' directory (or another adapter's): a `.` or `..` path segment, or an empty one.
 */
const escaping = ['x/../../../../etc/passwd', 'a/..', 'a/./b', 'a/.', 'tenant//lora', 'tenant/'];
/** odd but harmless: kept valid */
const valid = ['tenant-1/sql+lora', 'support-chat@v2', 'org/v1.2/a..b', 'x/...', 'a.b:c'];

type Item = Record<string, any>;

describe('adapter ids', () => {
  it('refuses a "." or ".." path segment or an empty one, and keeps the other ids', () => {
    for (const id of escaping) expect(AdapterId.safeParse(id).success, id).toBe(false);
    for (const id of valid) expect(AdapterId.safeParse(id).success, id).toBe(true);
    expect(AdapterId.safeParse('x/../y').error!.issues[0]!.message).toMatch(/segment/);
  });
});

describe('adapter ids with path segments observed before they were refused', () => {
  it('leave an observed pool at its next reading, not at the end of the grace period', () => {
    const seen = (id: string) => ({ id, rate: 1, inputTokens: null, outputTokens: null, lastSeenAt: 0 });
    const merged = mergeReading(
      [seen('ad-a'), seen('x/../../etc/passwd')],
      { adapters: new Map(), ignoredSeries: 0, droppedSeries: { rate: 0, inputTokens: 0, outputTokens: 0 } },
      1000,
      60,
    );
    expect(merged.map((a) => a.id)).toEqual(['ad-a']);
  });
});

describe('adapter ids with path segments in pushed bodies', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  const withIds = (ids: string[]) => ids.map((id, i) => ({ id, rank: 8, rate: 0.5 + i }));

  it.each(escaping)('%s: 400 naming the field, on every route that takes adapters', async (id) => {
    const adapters = withIds(['ok-0', id]);
    const answers = [
      await app.inject({ method: 'PUT', url: '/v1/pools/p', payload: smallWorkload({ adapters }) }),
      await app.inject({ method: 'POST', url: '/v1/placements', payload: smallWorkload({ adapters }) }),
      await app.inject({ method: 'POST', url: '/v1/simulate', payload: smallScenario({ adapters }) }),
      await app.inject({
        method: 'POST',
        url: '/v1/predict',
        payload: { ...smallScenario({ adapters }), seed: undefined },
      }),
      await app.inject({
        method: 'PUT',
        url: '/v1/pools/q/source',
        payload: { workload: llama, prometheus: { adapters: [{ id, rank: 8 }] } },
      }),
    ];
    for (const r of answers) {
      expect(r.statusCode, r.body.slice(0, 300)).toBe(400);
      expect(r.json().error.code).toBe('LP_ERR_INVALID_INPUT');
      expect(r.json().error.message).toMatch(/adapters(\.|\[)[01]\]?\.id/);
    }
    expect((await app.inject({ url: '/v1/pools/p' })).statusCode).toBe(404);
  });

  it('plans ids like tenant-1/sql+lora and support-chat@v2 under the adapters root', async () => {
    const r = await app.inject({
      method: 'PUT',
      url: '/v1/pools/p',
      payload: smallWorkload({ adapters: withIds(valid) }),
    });
    expect(r.statusCode, r.body).toBe(200);
    const args = r.json().placement.gpus.flatMap((g: Item) => g.vllmArgs);
    for (const id of valid) expect(args).toContain(`${id}=/models/lora/${id}`);
  });
});

describe('adapter ids with path segments in observed traffic', async () => {
  const prometheus = await startFakePrometheus();
  prometheus.state.rates = { 'ad-a': 2, 'tenant-1/sql+lora': 1, [escaping[0]!]: 5, 'a/./b': 1, 'tenant//lora': 1 };
  const app = await buildTestApp({ prometheus: { url: prometheus.url, timeoutMs: 2000, maxBytes: 1024 * 1024 } });
  afterAll(async () => {
    await app.close();
    await prometheus.close();
  });

  it('ignores and counts a series labelled with such an id, even with admitUnknown: never planned', async () => {
    const r = await app.inject({
      method: 'PUT',
      url: '/v1/pools/observed/source',
      payload: { workload: llama, prometheus: { admitUnknown: true, unknownAdapterRank: 8 } },
    });
    expect(r.statusCode, r.body).toBe(200);
    const plan = r.json();
    expect(plan.observation).toMatchObject({ error: null, adapters: 2, ignoredSeries: 3 });
    const planned = plan.placement.gpus.flatMap((g: Item) => g.adapters.map((a: Item) => a.id)).sort();
    expect([...new Set(planned)]).toEqual(['ad-a', 'tenant-1/sql+lora']);
    const manifests = (await app.inject({ url: '/v1/pools/observed/manifests?format=yaml' })).body;
    expect(manifests).not.toMatch(/\/\.\.?(\/|=|\s)/);
  });
});

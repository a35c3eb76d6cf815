import type { FastifyInstance } from 'fastify';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { poolManifests } from '../../src/manifests/pool-manifests.js';
import { buildTestApp, smallWorkload } from '../helpers/app.js';

// every render of a plan's objects goes through poolManifests: counted here, whatever calls it
vi.mock('../../src/manifests/pool-manifests.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/manifests/pool-manifests.js')>();
  return { ...original, poolManifests: vi.fn(original.poolManifests) };
});
const renders = vi.mocked(poolManifests);

type Item = Record<string, any>;

/** a pool of `n` adapters (`n` = 200: 26 GPUs, about 230 kB of manifests in both formats) */
const poolWorkload = (n: number, prefix = 't') =>
  smallWorkload({
    adapters: Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i}`, rank: 8, rate: 0.5 + (i % 7) })),
  });

const metric = async (app: FastifyInstance, line: RegExp): Promise<number> => {
  const text = (await app.inject({ url: '/metrics' })).body;
  const found = text.split('\n').find((l) => line.test(l));
  return found === undefined ? Number.NaN : Number(found.split(' ').at(-1));
};
const cacheBytes = (app: FastifyInstance) => metric(app, /^lora_placer_manifest_cache_bytes /);

/** the objects of an answer, JSON or YAML */
const objectsOf = (format: string, body: string): Item[] =>
  format === 'json' ? JSON.parse(body).items : parseAllDocuments(body).map((d) => d.toJS() as Item);

describe('GET /v1/pools/{pool}/manifests renders a plan once, whatever the options', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  beforeEach(() => {
    renders.mockClear();
  });
  await app.inject({ method: 'PUT', url: '/v1/pools/big', payload: poolWorkload(200) });

  it('answers 12 namespaces in each format, at once, with one render per format', async () => {
    const namespaces = Array.from({ length: 12 }, (_, i) => `team-${i}`);
    const asked = ['json', 'yaml'].flatMap((format) =>
      namespaces.map(async (ns) => {
        const r = await app.inject({ url: `/v1/pools/big/manifests?format=${format}&namespace=${ns}` });
        return { format, ns, status: r.statusCode, objects: objectsOf(format, r.body) };
      }),
    );
    const answers = await Promise.all(asked);
    expect(renders).toHaveBeenCalledTimes(2);
    expect(await metric(app, /^lora_placer_manifest_renders_total\{format="yaml"\}/)).toBe(1);
    for (const { format, ns, status, objects } of answers) {
      expect(status).toBe(200);
      expect(objects.length).toBeGreaterThan(2);
      for (const object of objects) expect(object.metadata.namespace, `${format} ${ns}`).toBe(ns);
      const routing = JSON.parse(objects.find((o) => o.kind === 'ConfigMap')!.data['routing.json']);
      const urls = routing.adapters.flatMap((a: Item) => a.backends.map((b: Item) => b.url));
      expect(urls.length).toBeGreaterThanOrEqual(200);
      for (const url of urls) expect(url).toMatch(new RegExp(`^http://vllm-big-[0-9a-f]+\\.${ns}\\.svc:8000$`));
    }
    // the same options answer the same text as before
    const again = await app.inject({ url: '/v1/pools/big/manifests?format=yaml&namespace=team-3' });
    expect(objectsOf('yaml', again.body)).toEqual(
      answers.find((a) => a.format === 'yaml' && a.ns === 'team-3')!.objects,
    );
    expect(renders).toHaveBeenCalledTimes(2);
  });

  it('renders again once the plan changes, and answers the new plan', async () => {
    await app.inject({ url: '/v1/pools/big/manifests?namespace=before' });
    renders.mockClear();
    const put = await app.inject({ method: 'PUT', url: '/v1/pools/big', payload: poolWorkload(60, 'new') });
    expect(put.statusCode).toBe(200);
    for (const ns of ['a', 'b', 'c']) {
      const list = (await app.inject({ url: `/v1/pools/big/manifests?namespace=${ns}` })).json();
      const routing = JSON.parse(list.items.find((o: Item) => o.kind === 'ConfigMap').data['routing.json']);
      expect(routing.adapters.map((a: Item) => a.adapter).sort()).toEqual(
        put
          .json()
          .placement.routing.map((r: Item) => r.adapter)
          .sort(),
      );
    }
    expect(renders).toHaveBeenCalledTimes(1);
  });
});

describe('the rendered manifests kept are bounded in bytes', async () => {
  const bound = 600_000;
  const app = await buildTestApp({ manifestCacheBytes: bound });
  afterAll(() => app.close());
  const pools = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
  for (const pool of pools) await app.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: poolWorkload(200) });

  it('stays within its bound over six large pools, dropping the least recently used', async () => {
    let answered = 0;
    for (const pool of pools)
      for (const format of ['json', 'yaml']) {
        const r = await app.inject({ url: `/v1/pools/${pool}/manifests?format=${format}&namespace=${pool}` });
        answered += r.body.length;
        const held = await cacheBytes(app);
        expect(held).toBeGreaterThan(0);
        expect(held).toBeLessThanOrEqual(bound);
      }
    // more was answered than the bound holds: some templates had to go
    expect(answered).toBeGreaterThan(2 * bound);
    renders.mockClear();
    await app.inject({ url: '/v1/pools/p5/manifests?format=yaml&namespace=x' });
    expect(renders).toHaveBeenCalledTimes(0);
    await app.inject({ url: '/v1/pools/p0/manifests?format=yaml&namespace=x' });
    expect(renders).toHaveBeenCalledTimes(1);
    expect(await cacheBytes(app)).toBeLessThanOrEqual(bound);
  });
});

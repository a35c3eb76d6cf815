import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildTestApp, smallWorkload } from '../helpers/app.js';

type Item = Record<string, any>;

describe('GET /v1/pools/{pool}/manifests?adapterLoading=dynamic', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  const put = await app.inject({ method: 'PUT', url: '/v1/pools/llama.prod', payload: smallWorkload() });
  const get = (query: string) => app.inject({ url: `/v1/pools/llama.prod/manifests${query}` });
  const deploymentsOf = (items: Item[]) => items.filter((i) => i.kind === 'Deployment');

  it('answers the lora-syncer objects, and keeps its template apart from the startup one', async () => {
    expect(put.statusCode).toBe(200);
    const gpus: Item[] = put.json().placement.gpus;
    const dynamic = (await get('?adapterLoading=dynamic&loraSyncerImage=example.com/syncer:v9')).json().items;
    const startup = (await get('')).json().items;
    for (const d of deploymentsOf(dynamic)) {
      expect(d.spec.template.spec.initContainers[0].image).toBe('example.com/syncer:v9');
      expect(d.spec.template.spec.containers[0].args).not.toContain('--lora-modules');
    }
    for (const d of deploymentsOf(startup)) {
      expect(d.spec.template.spec.initContainers).toBeUndefined();
      expect(d.spec.template.spec.containers[0].args).toContain('--lora-modules');
    }
    // every planned adapter is in the ConfigMap of each group that serves it, and nowhere else
    const listed = dynamic
      .filter((i: Item) => i.kind === 'ConfigMap' && i.data['configmap.yaml'])
      .flatMap((c: Item) => parse(c.data['configmap.yaml']).vLLMLoRAConfig.ensureExist.models.map((m: Item) => m.id));
    const groups = deploymentsOf(dynamic).length;
    expect(groups).toBeGreaterThan(0);
    expect(new Set(listed)).toEqual(new Set(gpus.flatMap((g) => g.adapters.map((a: Item) => a.id))));
    // a dynamic answer again, after the startup one: the same text (its own template, not the startup one's)
    expect((await get('?adapterLoading=dynamic&loraSyncerImage=example.com/syncer:v9')).json().items).toEqual(dynamic);
  });

  it('refuses an unknown adapterLoading with a 400 naming it', async () => {
    const r = await get('?adapterLoading=lazy');
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('adapterLoading');
  });
});

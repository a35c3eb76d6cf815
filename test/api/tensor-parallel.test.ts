import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InlineBackend } from '../../src/jobs/work-queue.js';
import { buildTestApp, llama, smallScenario, smallWorkload } from '../helpers/app.js';
import { KubeDiscovery } from '../helpers/kube-discovery.js';
import { describeWith } from '../helpers/real-parts.js';
import { tpGpu, tpHfModelId, tpModel, tpStores } from '../helpers/tensor-parallel.js';

type Item = Record<string, any>;

const tp4 = { model: tpModel, gpu: tpGpu, tensorParallelSize: 4 } as const;

describe('tensor parallelism through the service (a TP-4 test fixture profile)', async () => {
  const { profiles, predictors } = tpStores();
  const app = await buildTestApp({ profiles, predictors, work: new InlineBackend(profiles) });
  afterAll(() => app.close());
  const workload = smallWorkload(tp4);

  it('POST /v1/placements answers servers and GPUs, each server with --tensor-parallel-size=4', async () => {
    const r = await app.inject({ method: 'POST', url: '/v1/placements', payload: workload });
    expect(r.statusCode, r.body).toBe(200);
    const p = r.json();
    expect(p.gpuCount).toBeGreaterThan(1);
    expect(p).toMatchObject({ serverCount: p.gpuCount, gpusPerServer: 4, totalGpus: 4 * p.gpuCount });
    expect(p.lowerBoundGpus).toBe(4 * p.lowerBound);
    for (const g of p.gpus) {
      expect(g.tensorParallelSize).toBe(4);
      expect(g.vllmArgs).toContain('--tensor-parallel-size=4');
    }
  });

  it('POST /v1/predict and /v1/simulate answer at TP 4, and 404 an unknown size naming the known', async () => {
    const scenario = smallScenario(tp4);
    const predict = await app.inject({ method: 'POST', url: '/v1/predict', payload: scenario });
    expect(predict.statusCode, predict.body).toBe(200);
    expect(predict.json().throughput).toBeGreaterThan(0);
    const simulate = await app.inject({ method: 'POST', url: '/v1/simulate', payload: scenario });
    expect(simulate.statusCode, simulate.body).toBe(200);
    expect(simulate.json().completedRequests).toBeGreaterThan(0);
    const cases: [string, object, number[]][] = [
      ['/v1/predict', smallScenario({ ...tp4, tensorParallelSize: 2 }), [4]],
      ['/v1/simulate', smallScenario({ ...tp4, tensorParallelSize: 2 }), [4]],
      ['/v1/placements', smallWorkload({ ...tp4, tensorParallelSize: 2 }), [4]],
      ['/v1/placements', smallWorkload({ ...llama, tensorParallelSize: 8 }), [1]],
      ['/v1/models/refresh', { ...tp4, tensorParallelSize: 2 }, [4]],
    ];
    for (const [url, payload, known] of cases) {
      const r = await app.inject({ method: 'POST', url, payload });
      expect(r.statusCode, `${url}: ${r.body}`).toBe(404);
      const error = r.json().error;
      expect(error.code).toBe('LP_ERR_UNKNOWN_PROFILE');
      expect(error.message).toContain(`(known tensorParallelSize: ${known.join(', ')})`);
      expect(error.details.knownTensorParallelSizes).toEqual(known);
    }
  });

  it("GET /v1/profiles names every profile's size; /v1/models the size of TP-4 predictors only", async () => {
    const listed = (await app.inject({ url: '/v1/profiles' })).json().profiles;
    expect(listed.find((p: Item) => p.model === tpModel).tensorParallelSize).toBe(4);
    // /v1/profiles names every profile's size (docs/design.md), /v1/models only above 1
    expect(listed.find((p: Item) => p.model === llama.model && p.gpu === llama.gpu).tensorParallelSize).toBe(1);
    const models = (await app.inject({ url: '/v1/models' })).json().models;
    expect(models.find((m: Item) => m.model === tpModel).tensorParallelSize).toBe(4);
    expect(models.find((m: Item) => m.model === llama.model)).not.toHaveProperty('tensorParallelSize');
  });

  describe('a pool of TP-4 servers', async () => {
    const put = await app.inject({ method: 'PUT', url: '/v1/pools/big', payload: workload });
    const plan = put.json();
    const list = (await app.inject({ url: '/v1/pools/big/manifests' })).json();
    const yaml = (await app.inject({ url: '/v1/pools/big/manifests?format=yaml' })).body;
    const deployments = () => list.items.filter((i: Item) => i.kind === 'Deployment');

    it('autoscales servers (one replica = one server of 4 GPUs)', async () => {
      expect(put.statusCode, put.body).toBe(200);
      const scale = (await app.inject({ url: '/v1/pools/big/autoscale' })).json();
      expect(scale.desiredReplicas).toBe(plan.placement.serverCount);
      expect(scale.gpusPerReplica).toBe(4);
      const listed = (await app.inject({ url: '/v1/pools' })).json().pools;
      expect(listed.find((p: Item) => p.pool === 'big').gpusPerReplica).toBe(4);
      expect(scale.stale).toBe(false);
    });

    it('manifests: each vLLM pod requests and is limited to 4 GPUs, runs TP 4, with a larger /dev/shm', () => {
      expect(deployments().reduce((n: number, d: Item) => n + d.spec.replicas, 0)).toBe(plan.placement.serverCount);
      for (const d of deployments()) {
        const pod = d.spec.template.spec;
        const vllm = pod.containers[0];
        expect(vllm.resources).toEqual({ limits: { 'nvidia.com/gpu': 4 }, requests: { 'nvidia.com/gpu': 4 } });
        expect(vllm.args).toContain('--tensor-parallel-size=4');
        // what vLLM loads comes from the profile's hfModelId
        expect(vllm.args.slice(0, 2)).toEqual(['--model', tpHfModelId]);
        expect(pod.volumes.find((v: Item) => v.name === 'shm').emptyDir).toEqual({
          medium: 'Memory',
          sizeLimit: '16Gi',
        });
        expect(d.metadata.annotations['lora-placer.io/tensor-parallel-size']).toBe('4');
        new Deployment(d as never).validate();
      }
      for (const s of list.items.filter((i: Item) => i.kind === 'Service')) new Service(s as never).validate();
      new ConfigMap(list.items.find((i: Item) => i.kind === 'ConfigMap') as never).validate();
    });

    it('re-plans from the TP-4 plan when the traffic changes (moves counted, servers still of 4 GPUs)', async () => {
      const busier = {
        ...workload,
        adapters: workload.adapters.map((a: Item, i: number) => ({ ...a, rate: i % 4 === 0 ? a.rate * 1.5 : a.rate })),
      };
      const again = await app.inject({ method: 'PUT', url: '/v1/pools/big-replan', payload: workload });
      expect(again.statusCode, again.body).toBe(200);
      const r = await app.inject({ method: 'PUT', url: '/v1/pools/big-replan', payload: busier });
      expect(r.statusCode, r.body).toBe(200);
      const next = r.json().placement;
      // a re-plan answers its moves relative to the plan it started from; a fresh placement has none
      expect(next.moves).toBeDefined();
      expect(next).toMatchObject({ gpusPerServer: 4, totalGpus: 4 * next.gpuCount });
    });

    describeWith(['kubectl'], "kubectl's client-side dry run takes the TP-4 manifests", () => {
      let kube: KubeDiscovery;
      beforeAll(async () => {
        kube = await KubeDiscovery.start();
        return () => kube.close();
      });

      it('creates every object, each Deployment with 4 GPUs and --tensor-parallel-size=4', async () => {
        const r = await kube.kubectl(['create', '--dry-run=client', '--validate=false', '-o', 'yaml', '-f', '-'], yaml);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        const created = parseAllDocuments(r.stdout).map((d) => d.toJS() as Item);
        expect(created).toHaveLength(list.items.length);
        const made = created.filter((o) => o.kind === 'Deployment');
        expect(made).toHaveLength(deployments().length);
        for (const d of made) {
          const vllm = d.spec.template.spec.containers[0];
          expect(vllm.resources.limits['nvidia.com/gpu']).toBe(4);
          expect(vllm.resources.requests['nvidia.com/gpu']).toBe(4);
          expect(vllm.args).toContain('--tensor-parallel-size=4');
        }
      });
    });
  });
});

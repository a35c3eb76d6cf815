import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/real-parts.js';
import { parseAllDocuments } from 'yaml';
import { InferencePool } from '../../src/manifests/index.js';
import { k8sName } from '../../src/manifests/k8s-name.js';
import { buildTestApp, smallWorkload } from '../helpers/app.js';
import { KubeDiscovery } from '../helpers/kube-discovery.js';

type Item = Record<string, any>;

/** Every object again through its typed model (or schema): the answer must hold nothing a cluster refuses. */
function revalidate(item: Item): void {
  const models: Record<string, (o: Item) => { validate(): void }> = {
    Deployment: (o) => new Deployment(o as never),
    Service: (o) => new Service(o as never),
    ConfigMap: (o) => new ConfigMap(o as never),
  };
  if (item.kind === 'InferencePool') InferencePool.parse(item);
  else if (models[item.kind]) models[item.kind]!(item).validate();
  else throw new Error(`no typed model for kind ${item.kind}`);
}

describe('GET /v1/pools/{pool}/manifests', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  // two heavy adapters and many light ones: several GPUs, some adapters split over two
  const workload = smallWorkload({
    adapters: smallWorkload().adapters.map((a: { rate: number }, i: number) => ({ ...a, rate: i < 2 ? 45 : a.rate })),
  });
  const put = await app.inject({ method: 'PUT', url: '/v1/pools/llama.prod', payload: workload });
  const plan = put.json();
  const get = (query = '') => app.inject({ url: `/v1/pools/llama.prod/manifests${query}` });

  it(
    'answers a v1 List of valid objects: ' + 'a Deployment and a Service per engine setting, and the routing ConfigMap',
    async () => {
      expect(put.statusCode).toBe(200);
      const r = await get();
      expect(r.statusCode).toBe(200);
      const list = r.json();
      expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
      for (const item of list.items) revalidate(item);
      const deployments = list.items.filter((i: Item) => i.kind === 'Deployment');
      const services = list.items.filter((i: Item) => i.kind === 'Service');
      expect(services.map((s: Item) => s.metadata.name).sort()).toEqual(
        deployments.map((d: Item) => d.metadata.name).sort(),
      );
      // one replica per GPU, one GPU per replica, and every GPU's vLLM arguments in exactly one Deployment
      expect(deployments.reduce((n: number, d: Item) => n + d.spec.replicas, 0)).toBe(plan.placement.gpuCount);
      for (const d of deployments)
        expect(d.spec.template.spec.containers[0].resources.limits['nvidia.com/gpu']).toBe(1);
      for (const gpu of plan.placement.gpus) {
        const holders = deployments.filter((d: Item) =>
          JSON.stringify(d.spec.template.spec.containers[0].args).includes(JSON.stringify(gpu.vllmArgs).slice(1, -1)),
        );
        expect(holders).toHaveLength(1);
      }
      for (const name of list.items.map((i: Item) => i.metadata.name))
        expect(name).toMatch(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/);
    },
  );

  it("routes every adapter to the Services of the GPUs that hold it, with the placement's weights", async () => {
    const list = (await get()).json();
    const services = new Set(list.items.filter((i: Item) => i.kind === 'Service').map((s: Item) => s.metadata.name));
    const config = JSON.parse(list.items.find((i: Item) => i.kind === 'ConfigMap').data['routing.json']);
    expect(config).toMatchObject({ pool: 'llama.prod', modelVersion: plan.placement.modelVersion });
    expect(config.adapters.map((a: Item) => a.adapter).sort()).toEqual(
      plan.placement.routing.map((r: Item) => r.adapter).sort(),
    );
    for (const route of config.adapters) {
      expect(route.backends.reduce((sum: number, b: Item) => sum + b.weight, 0)).toBeCloseTo(1, 5);
      for (const backend of route.backends) {
        expect(services.has(backend.service)).toBe(true);
        expect(backend.url).toBe(`http://${backend.service}:8000`);
      }
    }
  });

  it("takes the operator's image, namespace, adapter volume and gateway, and answers YAML documents", async () => {
    const r = await get(
      '?image=registry.local/vllm:v0.10.2&namespace=serving&adapterClaim=lora-adapters' +
        '&gateway=inference-extension&format=yaml',
    );
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/application\/yaml/);
    const items = parseAllDocuments(r.body).map((d) => d.toJS() as Item);
    for (const item of items) revalidate(item);
    expect(items.every((i) => i.metadata.namespace === 'serving')).toBe(true);
    const deployment = items.find((i) => i.kind === 'Deployment')!;
    const pod = deployment.spec.template.spec;
    expect(pod.containers[0].image).toBe('registry.local/vllm:v0.10.2');
    expect(pod.volumes).toContainEqual({
      name: 'adapters',
      persistentVolumeClaim: { claimName: 'lora-adapters', readOnly: true },
    });
    expect(pod.containers[0].volumeMounts).toContainEqual({
      name: 'adapters',
      mountPath: '/models/lora',
      readOnly: true,
    });
    const deployments = items.filter((i) => i.kind === 'Deployment');
    const pools = items.filter((i) => i.kind === 'InferencePool');
    // one InferencePool per server group, each selecting its Deployment's pods only
    expect(pools).toHaveLength(deployments.length);
    deployments.forEach((d, i) => {
      for (const [key, value] of Object.entries(pools[i]!.spec.selector.matchLabels))
        expect(d.spec.template.metadata.labels[key]).toBe(value);
      expect(pools[i]!.spec.selector.matchLabels['lora-placer.io/engine']).toBe(
        d.spec.template.metadata.labels['lora-placer.io/engine'],
      );
    });
    expect(
      JSON.parse(items.find((i) => i.kind === 'ConfigMap')!.data['routing.json']).adapters[0].backends[0].url,
    ).toMatch(/\.serving\.svc:8000$/);
  });

  it('refuses bad options naming them, and 404s an unknown pool', async () => {
    const bad = await get('?image=bad%20image');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/image/);
    expect((await get('?gateway=istio')).json().error.message).toMatch(/gateway/);
    expect((await get('?replicas=3')).statusCode).toBe(400);
    expect((await app.inject({ url: '/v1/pools/ghost/manifests' })).statusCode).toBe(404);
  });
});

describe('Kubernetes names of pools', () => {
  it('keeps a valid name, and makes pools with "." or "_" valid names that do not collide', () => {
    expect(k8sName('vllm', 'llama-prod', 0)).toBe('vllm-llama-prod-0');
    const dotted = k8sName('vllm', 'llama.prod', 0);
    const dashed = k8sName('vllm', 'llama-prod', 0);
    const underscored = k8sName('vllm', 'llama_prod', 0);
    for (const name of [dotted, underscored]) expect(name).toMatch(/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/);
    expect(new Set([dotted, dashed, underscored]).size).toBe(3);
    const long = k8sName('vllm', 'p'.repeat(63), 12);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(k8sName('0pool')).toMatch(/^[a-z]/);
  });
});

/**
 * Pool names (and option values) that a YAML 1.1 reader takes for a boolean, a number or null when written plain:
 * kubectl (sigs.k8s.io/yaml, go-yaml v2) is one, and refuses such a label where Kubernetes wants a string. Each is a
 * valid pool name; the YAML answer must quote it.
 */
const yaml11Names = [
  'on',
  'off',
  'yes',
  'no',
  'y',
  'n',
  'true',
  'null',
  '1_000',
  '0b101',
  '0o17',
  '0o_17',
  '0x1f',
  '1e3',
  '1e3_0',
  '1_0.5',
  '017',
  '1.5',
  '2001-12-14',
];
/** options whose values are such scalars too (image and model id may hold ":" and "."; names may not) */
const yaml11Options = [
  '',
  '&gateway=inference-extension&namespace=on&image=12:30&modelId=1e3_0&adapterClaim=0b101',
  '&gateway=inference-extension&namespace=1e3&image=y&modelId=true&adapterClaim=1.5&hfTokenSecret=no/1e3',
];

describe('YAML manifests of pools whose names YAML 1.1 reads as booleans or numbers', async () => {
  // 114 answers asked at once: all wait their turn (the default line, 64, answers the rest 503)
  const app = await buildTestApp({ manifestAnswers: { maxWaiting: 200 } });
  afterAll(() => app.close());
  const workload = smallWorkload({ adapters: smallWorkload().adapters.slice(0, 3) });
  for (const pool of yaml11Names) {
    const put = await app.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: workload });
    if (put.statusCode !== 200) throw new Error(`PUT ${pool}: ${put.body}`);
  }
  /** every pool and option set: the YAML answer and the JSON answer's objects */
  const answers = await Promise.all(
    yaml11Names.flatMap((pool) =>
      yaml11Options.map(async (options) => {
        const url = `/v1/pools/${pool}/manifests?format=`;
        const [yaml, json] = await Promise.all([
          app.inject({ url: `${url}yaml${options}` }),
          app.inject({ url: `${url}json${options}` }),
        ]);
        expect(yaml.statusCode, yaml.body).toBe(200);
        return { pool, options, yaml: yaml.body, items: json.json().items as Item[] };
      }),
    ),
  );

  it('reads back, as YAML 1.1, as the very objects of the JSON answer: every label and name a string', () => {
    for (const { pool, options, yaml, items } of answers) {
      const documents = parseAllDocuments(yaml, { version: '1.1' });
      for (const d of documents) expect(d.errors, `${pool}${options}`).toEqual([]);
      const read = documents.map((d) => d.toJS() as Item);
      expect(read, `${pool}${options}`).toEqual(items);
      for (const object of read) {
        expect(typeof object.metadata.name).toBe('string');
        for (const value of Object.values(object.metadata.labels))
          expect(typeof value, `${pool}${options}`).toBe('string');
      }
      expect(read.some((o) => o.metadata.labels['lora-placer.io/pool'] === pool)).toBe(true);
    }
  });

  describeWith(
    ['kubectl'],
    "kubectl's client-side dry run takes them (create --dry-run=client against a discovery-only server; " +
      "passes with kubectl 1.32 and Debian's 1.20)",
    () => {
      let kube: KubeDiscovery;
      beforeAll(async () => {
        kube = await KubeDiscovery.start();
        return () => kube.close();
      });

      it('decodes every document with the labels, names and values of the JSON answer', async () => {
        const all = answers.map((a) => a.yaml).join('---\n');
        const r = await kube.kubectl(['create', '--dry-run=client', '--validate=false', '-o', 'yaml', '-f', '-'], all);
        expect(r.stderr).toBe('');
        expect(r.status).toBe(0);
        // one document per object, as kubectl would send them
        const created = parseAllDocuments(r.stdout).map((d) => d.toJS() as Item);
        const expected = answers.flatMap((a) => a.items);
        expect(created).toHaveLength(expected.length);
        created.forEach((object, i) => {
          const want = expected[i]!;
          expect(object.metadata.name).toBe(want.metadata.name);
          expect(object.metadata.labels).toEqual(want.metadata.labels);
          // kubectl fills in the context's namespace where the object names none
          expect(object.metadata.namespace).toBe(want.metadata.namespace ?? 'default');
          if (object.kind === 'Deployment') expect(object.spec.template.spec).toEqual(want.spec.template.spec);
        });
      });
    },
  );
});

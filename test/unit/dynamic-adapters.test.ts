import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  ManifestOptions,
  fillTemplate,
  manifestTemplate,
  poolManifests,
  toYamlDocuments,
} from '../../src/manifests/index.js';
import { defaultLoraSyncerImage } from '../../src/manifests/lora-syncer.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { parseWorkload, place, type Placement } from '../../src/placement/index.js';
import { replan } from '../../src/placement/replan.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { smallWorkload } from '../helpers/app.js';
import { KubeDiscovery } from '../helpers/kube-discovery.js';
import { describeWith } from '../helpers/real-parts.js';

type Item = Record<string, any>;

const profiles = embeddedProfiles();
const predictor = PredictorRegistry.fromDirectory(profiles).get('llama-3.1-8b-instruct', 'h100-64gb');

/** `name=path` of each adapter a Deployment's vLLM is started with (`--lora-modules`), by name. */
function startupModules(deployment: Item): Map<string, string> {
  const args: string[] = deployment.spec.template.spec.containers[0].args;
  const at = args.indexOf('--lora-modules');
  const modules = new Map<string, string>();
  for (let i = at + 1; at >= 0 && i < args.length && !args[i]!.startsWith('--'); i++) {
    const [name, path] = args[i]!.split('=');
    modules.set(name!, path!);
  }
  return modules;
}

/** The lora-syncer config of a ConfigMap (its `configmap.yaml`, the file the sidecar reads). */
const syncerConfig = (configMap: Item) => parse(configMap.data['configmap.yaml']).vLLMLoRAConfig;

const gpusOf = (d: Item): number[] => d.metadata.annotations['lora-placer.io/gpus'].split(',').map(Number);

describe('manifests with adapterLoading=dynamic: a lora-syncer ConfigMap per server group', async () => {
  // two heavy adapters split over GPUs, many light ones: several server groups
  const workload = parseWorkload(
    smallWorkload({
      adapters: smallWorkload().adapters.map((a: { rate: number }, i: number) => ({ ...a, rate: i < 2 ? 45 : a.rate })),
    }),
  );
  const placement = await place(workload, predictor);
  const profile = profiles.get(workload.model, workload.gpu);
  const input = { pool: 'llama.prod', placement, profile, adapterRoot: '/models/lora' };
  const render = (options: Record<string, unknown>, previous?: Placement) =>
    poolManifests({ ...input, previous }, ManifestOptions.parse(options)).items as Item[];
  const dynamic = render({ adapterLoading: 'dynamic' });
  const deployments = dynamic.filter((i) => i.kind === 'Deployment');
  const configMaps = new Map(dynamic.filter((i) => i.kind === 'ConfigMap').map((c) => [c.metadata.name, c]));
  /** the GPU's adapters, name=path, as the startup manifests name them */
  const startupPaths = new Map<number, Map<string, string>>();
  for (const d of render({}).filter((i) => i.kind === 'Deployment'))
    for (const gpu of gpusOf(d)) startupPaths.set(gpu, startupModules(d));
  /** the ConfigMap a Deployment's sidecar mounts (among `items`, default: the dynamic render's) */
  const mounted = (d: Item, items?: Item[]): Item => {
    const volume = d.spec.template.spec.volumes.find((v: Item) => v.name === 'lora-syncer-config');
    if (items) return items.find((i) => i.kind === 'ConfigMap' && i.metadata.name === volume.configMap.name)!;
    return configMaps.get(volume.configMap.name)!;
  };

  it("lists in each group's ConfigMap exactly the adapters the placement gives its GPUs, at the startup paths", () => {
    expect(deployments.length).toBeGreaterThan(2);
    expect(deployments.reduce((n, d) => n + d.spec.replicas, 0)).toBe(placement.gpus.length);
    for (const d of deployments) {
      const config = syncerConfig(mounted(d));
      const listed = new Map<string, string>(config.ensureExist.models.map((m: Item) => [m.id, m.source]));
      for (const gpu of gpusOf(d)) {
        const planned = placement.gpus.find((g) => g.index === gpu)!.adapters.map((a) => a.id);
        expect([...listed.keys()].sort()).toEqual([...planned].sort());
        expect(listed).toEqual(startupPaths.get(gpu));
      }
      expect(config).toMatchObject({ name: mounted(d).metadata.name, port: 8000, defaultBaseModel: placement.model });
      expect(config.ensureNotExist).toBeUndefined();
    }
    // one ConfigMap per group, and the routing ConfigMap
    expect(configMaps.size).toBe(deployments.length + 1);
  });

  it("routes every adapter only to groups whose ConfigMap loads it, with the plan's weights", () => {
    const routing = JSON.parse(
      dynamic.find((i) => i.kind === 'ConfigMap' && i.data['routing.json'])!.data['routing.json'],
    );
    const loads = new Map(
      deployments.map((d) => [
        d.metadata.labels['lora-placer.io/engine'],
        new Set(syncerConfig(mounted(d)).ensureExist.models.map((m: Item) => m.id)),
      ]),
    );
    expect(routing.adapters).toHaveLength(placement.routing.length);
    for (const route of routing.adapters) {
      for (const backend of route.backends) expect(loads.get(backend.group)!.has(route.adapter)).toBe(true);
      expect(route.backends.reduce((sum: number, b: Item) => sum + b.weight, 0)).toBeCloseTo(1, 5);
    }
  });

  it('starts vLLM with runtime LoRA updating and no --lora-modules, beside a lora-syncer sidecar', () => {
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      expect(pod.containers).toHaveLength(1);
      const vllm = pod.containers[0];
      expect(vllm.args).not.toContain('--lora-modules');
      expect(vllm.args).toContain('--enable-lora');
      expect(vllm.env).toContainEqual({ name: 'VLLM_ALLOW_RUNTIME_LORA_UPDATING', value: 'True' });
      expect(pod.initContainers).toEqual([
        expect.objectContaining({ name: 'lora-syncer', image: defaultLoraSyncerImage, restartPolicy: 'Always' }),
      ]);
      // mounted as a directory (a subPath mount never sees the ConfigMap change), where the sidecar reads it
      expect(pod.initContainers[0].volumeMounts).toEqual([
        { name: 'lora-syncer-config', mountPath: '/config', readOnly: true },
      ]);
      expect(pod.initContainers[0].env).toEqual([
        { name: 'DYNAMIC_LORA_ROLLOUT_CONFIG', value: '/config/configmap.yaml' },
      ]);
    }
    const own = render({ adapterLoading: 'dynamic', loraSyncerImage: 'example.com/syncer:v9' });
    for (const d of own.filter((i) => i.kind === 'Deployment'))
      expect(d.spec.template.spec.initContainers[0].image).toBe('example.com/syncer:v9');
  });

  it('validates every Deployment and ConfigMap with kubernetes-models', () => {
    for (const item of dynamic) {
      if (item.kind === 'Deployment') new Deployment(item as never).validate();
      if (item.kind === 'ConfigMap') new ConfigMap(item as never).validate();
    }
    // the models refuse what a cluster would: a sidecar without a name
    const broken = structuredClone(deployments[0]!);
    delete broken.spec.template.spec.initContainers[0].name;
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it('leaves the default output as it was: the startup render, no sidecar, env switch or adapter ConfigMaps', () => {
    const byDefault = render({ hfTokenSecret: 'hf' });
    expect(JSON.stringify(byDefault)).toBe(JSON.stringify(render({ hfTokenSecret: 'hf', adapterLoading: 'startup' })));
    const text = JSON.stringify(byDefault);
    for (const absent of ['lora-syncer', 'VLLM_ALLOW_RUNTIME_LORA_UPDATING', 'initContainers', 'configmap.yaml'])
      expect(text).not.toContain(absent);
    for (const d of byDefault.filter((i) => i.kind === 'Deployment'))
      expect(d.spec.template.spec.containers[0].args).toContain('--lora-modules');
  });

  it('lists for unloading what the previous plan gave a group and this one does not, and nothing else', () => {
    // the previous plan: GPU `from` also held an adapter that is now on another GPU only, and one now gone
    const from = deployments.find((d) => d.spec.replicas === 1)!;
    const fromGpu = gpusOf(from)[0]!;
    const moved = placement.gpus.find((g) => !g.adapters.some((a) => startupPaths.get(fromGpu)!.has(a.id)))!
      .adapters[0]!.id;
    const previous = structuredClone(placement);
    const gpu = previous.gpus.find((g) => g.index === fromGpu)!;
    gpu.vllmArgs = [...gpu.vllmArgs, `${moved}=/models/lora/${moved}`, 'retired=/models/lora/retired'];
    const items = render({ adapterLoading: 'dynamic' }, previous);
    // the same groups and Deployments: only the ConfigMap of the group that lost adapters changed
    expect(items.filter((i) => i.kind === 'Deployment')).toEqual(deployments);
    const changed = items.filter(
      (i) => i.kind === 'ConfigMap' && JSON.stringify(i) !== JSON.stringify(configMaps.get(i.metadata.name)),
    );
    expect(changed).toHaveLength(1);
    const config = syncerConfig(changed[0]!);
    expect(changed[0]!.metadata.name).toBe(mounted(from).metadata.name);
    expect(config.ensureNotExist.models).toEqual([
      { id: moved, source: `/models/lora/${moved}` },
      { id: 'retired', source: '/models/lora/retired' },
    ]);
    expect(config.ensureExist).toEqual(syncerConfig(mounted(from)).ensureExist);
  });

  it('renders the same text through the template the service fills as directly, options included', async () => {
    const options = ManifestOptions.parse({
      adapterLoading: 'dynamic',
      namespace: 'serving',
      hfTokenSecret: 'hf/token',
      adapterClaim: 'adapters',
      loraSyncerImage: 'example.com/syncer:v9',
      image: 'vllm/vllm-openai:v0.8.5',
      gateway: 'inference-extension',
    });
    const list = poolManifests(input, options);
    const yaml = await manifestTemplate(input, 'yaml', undefined, 'dynamic');
    expect(fillTemplate(yaml, options)).toBe(toYamlDocuments(list));
    const json = await manifestTemplate(input, 'json', undefined, 'dynamic');
    expect(fillTemplate(json, options)).toBe(JSON.stringify(list));
    // the options left at their defaults fill the same holes
    const bare = ManifestOptions.parse({ adapterLoading: 'dynamic' });
    expect(fillTemplate(yaml, bare)).toBe(toYamlDocuments(poolManifests(input, bare)));
  });

  it('keeps, across a real re-plan, the Deployments of GPUs that kept their number and flags', async () => {
    // one hot adapter and 39 light ones on two GPUs; one adapter leaves and one arrives: the re-plan swaps them on
    // one GPU, whose --max-loras stays (test/unit/replan.test.ts places the same pool)
    const rate = (i: number) => (i === 0 ? 30 : 0.1 + (i % 5) * 0.05);
    const adapters = Array.from({ length: 40 }, (_, i) => ({
      id: `ad-${i}`,
      rank: i % 3 === 0 ? 16 : 8,
      rate: rate(i),
    }));
    const pool = (list: typeof adapters) =>
      parseWorkload({ model: 'llama-3.1-8b-instruct', gpu: 'h100-64gb', adapters: list });
    const before = await place(pool(adapters), predictor);
    const swapped = [...adapters.filter((a) => a.id !== 'ad-5'), { id: 'new', rank: 8, rate: 0.2 }];
    const after = await replan(pool(swapped), predictor, before);
    const moves = after.moves!;
    const of = (p: Placement, adapterLoading: string, previous?: Placement) =>
      poolManifests({ ...input, placement: p, previous }, ManifestOptions.parse({ adapterLoading })).items as Item[];
    const key = (i: Item) => `${i.kind}/${i.metadata.name}`;
    const was = new Map(of(before, 'dynamic').map((i) => [key(i), i]));
    const now = of(after, 'dynamic', before);
    const engine = (p: Placement, gpu: number) => JSON.stringify(p.gpus[gpu]!.engine);
    // the GPUs that continue the GPU of the same number with the same engine settings
    const kept = after.gpus
      .map((g) => g.index)
      .filter((gpu) => moves.gpuMap[gpu]!.previous === gpu && engine(before, gpu) === engine(after, gpu));
    expect(kept.length).toBe(after.gpus.length);
    const touched = new Set([...moves.removed, ...moves.added].map((m) => m.gpu));
    expect(touched.size).toBeGreaterThan(0);
    for (const d of now.filter((i) => i.kind === 'Deployment')) {
      // the same Deployment, to the byte: nothing restarts
      expect(d).toEqual(was.get(key(d)));
      for (const gpu of gpusOf(d)) {
        const config = syncerConfig(mounted(d, now));
        const removed = moves.removed.find((r) => r.gpu === gpu)?.adapters ?? [];
        expect((config.ensureNotExist?.models ?? []).map((m: Item) => m.id).sort()).toEqual([...removed].sort());
        expect(config.ensureExist.models.map((m: Item) => m.id).sort()).toEqual(
          after.gpus[gpu]!.adapters.map((a) => a.id).sort(),
        );
      }
    }
    // where --lora-modules would have renamed (restarted) the Deployment of every GPU whose adapters changed
    const startupBefore = new Set(of(before, 'startup').map(key));
    const restarted = of(after, 'startup').filter((i) => i.kind === 'Deployment' && !startupBefore.has(key(i)));
    expect(restarted.flatMap(gpusOf).sort()).toEqual([...touched].sort());
  });

  describeWith(['kubectl'], "kubectl's client-side dry run takes the dynamic objects", () => {
    let kube: KubeDiscovery;
    beforeAll(async () => {
      kube = await KubeDiscovery.start();
      return () => kube.close();
    });

    it('decodes every document, the sidecar and the adapter ConfigMaps included', async () => {
      const list = poolManifests(input, ManifestOptions.parse({ adapterLoading: 'dynamic', namespace: 'serving' }));
      const r = await kube.kubectl(
        ['create', '--dry-run=client', '--validate=false', '-o', 'yaml', '-f', '-'],
        toYamlDocuments(list),
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const created = parseAllDocuments(r.stdout).map((d) => d.toJS() as Item);
      expect(created).toHaveLength(list.items.length);
      created.forEach((object, i) => {
        const want = list.items[i] as Item;
        expect(object.metadata.name).toBe(want.metadata.name);
        if (object.kind === 'Deployment') expect(object.spec.template.spec).toEqual(want.spec.template.spec);
        if (object.kind === 'ConfigMap') expect(object.data).toEqual(want.data);
      });
    });
  });
});

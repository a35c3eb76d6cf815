import { describe, expect, it } from 'vitest';
import { ManifestOptions, poolManifests } from '../../src/manifests/index.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { parseWorkload, place } from '../../src/placement/index.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { smallWorkload } from '../helpers/app.js';

type Item = Record<string, any>;

const profiles = embeddedProfiles();
const predictor = PredictorRegistry.fromDirectory(profiles).get('llama-3.1-8b-instruct', 'h100-64gb');

/** Does a `matchLabels` selector pick a pod with these labels? */
const selects = (matchLabels: Record<string, string>, labels: Record<string, string>): boolean =>
  Object.entries(matchLabels).every(([k, v]) => labels[k] === v);

/** The adapter names a Deployment's vLLM serves (its `--lora-modules name=path ...`). */
function servedAdapters(deployment: Item): Set<string> {
  const args: string[] = deployment.spec.template.spec.containers[0].args;
  const at = args.indexOf('--lora-modules');
  const served = new Set<string>();
  for (let i = at + 1; at >= 0 && i < args.length && !args[i]!.startsWith('--'); i++)
    served.add(args[i]!.split('=')[0]!);
  return served;
}

describe('pool manifests: server groups, their InferencePools and the HF token', async () => {
  // two heavy adapters split over GPUs, many light ones: several server groups and weighted routes
  const workload = parseWorkload(
    smallWorkload({
      adapters: smallWorkload().adapters.map((a: { rate: number }, i: number) => ({ ...a, rate: i < 2 ? 45 : a.rate })),
    }),
  );
  const placement = await place(workload, predictor);
  const profile = profiles.get(workload.model, workload.gpu);
  const input = { pool: 'llama.prod', placement, profile, adapterRoot: '/models/lora' };
  const render = (options: Record<string, unknown>, p: { vllmVersion: string } = profile) =>
    poolManifests({ ...input, profile: { ...profile, ...p } }, ManifestOptions.parse(options)).items as Item[];
  const items = render({ gateway: 'inference-extension' });
  const deployments = items.filter((i) => i.kind === 'Deployment');
  const pools = items.filter((i) => i.kind === 'InferencePool');
  const routing = JSON.parse(items.find((i) => i.kind === 'ConfigMap')!.data['routing.json']);

  it("has one InferencePool per server group, selecting only that group's pods, all of them together", () => {
    expect(deployments.length).toBeGreaterThan(2);
    expect(pools).toHaveLength(deployments.length);
    for (const pool of pools) {
      const selected = deployments.filter((d) =>
        selects(pool.spec.selector.matchLabels, d.spec.template.metadata.labels),
      );
      // a pool selects the pods of exactly one Deployment: the sets of pods are disjoint
      expect(selected, pool.metadata.name).toHaveLength(1);
    }
    for (const d of deployments) {
      const holders = pools.filter((p) => selects(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
      expect(holders, d.metadata.name).toHaveLength(1);
    }
    // every server is behind a pool
    expect(deployments.reduce((n, d) => n + d.spec.replicas, 0)).toBe(placement.gpuCount);
    expect(new Set(pools.map((p) => p.metadata.name)).size).toBe(pools.length);
    expect(new Set(pools.map((p) => p.spec.endpointPickerRef.name)).size).toBe(pools.length);
  });

  it("names each pool by its group's key (the hash of its command line), whatever the options", () => {
    for (const pool of pools)
      expect(pool.metadata.name).toContain(pool.spec.selector.matchLabels['lora-placer.io/engine']);
    const again = render({ gateway: 'inference-extension', namespace: 'serving', hfTokenSecret: 'hf' });
    expect(again.filter((i) => i.kind === 'InferencePool').map((p) => p.metadata.name)).toEqual(
      pools.map((p) => p.metadata.name),
    );
  });

  it("routes each adapter only to groups whose Deployments serve it, with the plan's weights", () => {
    const poolByName = new Map(pools.map((p) => [p.metadata.name, p]));
    expect(routing.adapters.map((a: Item) => a.adapter).sort()).toEqual(placement.routing.map((r) => r.adapter).sort());
    let split = 0;
    for (const route of routing.adapters) {
      expect(route.backends.reduce((s: number, b: Item) => s + b.weight, 0)).toBeCloseTo(1, 5);
      if (route.backends.length > 1) split++;
      for (const backend of route.backends) {
        const pool = poolByName.get(backend.inferencePool)!;
        expect(pool.metadata.labels['lora-placer.io/engine']).toBe(backend.group);
        const [deployment] = deployments.filter((d) =>
          selects(pool.spec.selector.matchLabels, d.spec.template.metadata.labels),
        );
        expect(deployment!.metadata.name).toBe(backend.service);
        expect(servedAdapters(deployment!).has(route.adapter), `${route.adapter} on ${backend.group}`).toBe(true);
      }
    }
    // the heavy adapters are split over groups: weights per group matter
    expect(split).toBeGreaterThan(0);
  });

  it('gives the vLLM container HF_TOKEN from the Secret only when one is named', () => {
    const containers = (list: Item[]) =>
      list.filter((i) => i.kind === 'Deployment').map((d) => d.spec.template.spec.containers[0]);
    for (const c of containers(items)) expect(c.env).toBeUndefined();
    for (const c of containers(render({ hfTokenSecret: 'hf-token' })))
      expect(c.env).toEqual([{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'HF_TOKEN' } } }]);
    for (const c of containers(render({ hfTokenSecret: 'llm-d-hf/token' })))
      expect(c.env).toEqual([{ name: 'HF_TOKEN', valueFrom: { secretKeyRef: { name: 'llm-d-hf', key: 'token' } } }]);
    for (const bad of ['Hf_Token', 'hf/', '/key', 'a/b/c'])
      expect(ManifestOptions.safeParse({ hfTokenSecret: bad }).error?.issues[0]?.path).toEqual(['hfTokenSecret']);
  });

  it("pins the default image to the profile's vLLM version; an image given wins", () => {
    const image = (list: Item[]) => list.find((i) => i.kind === 'Deployment')!.spec.template.spec.containers[0].image;
    expect(image(render({}, { vllmVersion: '0.24.0' }))).toBe('vllm/vllm-openai:v0.24.0');
    expect(image(render({}, { vllmVersion: '0.14.0' }))).toBe('vllm/vllm-openai:v0.14.0');
    // the research fork the shipped H100 profiles were calibrated on is not published: its release, 0.8.5
    expect(image(render({}, { vllmVersion: '0.1.dev6216+g1125ba0' }))).toBe('vllm/vllm-openai:v0.8.5');
    expect(image(render({ image: 'registry.local/vllm:v0.10.2' }))).toBe('registry.local/vllm:v0.10.2');
    for (const d of deployments) expect(d.spec.template.spec.containers[0].image).not.toMatch(/:latest$/);
  });

  it("probes vLLM's /health on the serving port: startup, readiness and liveness", () => {
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0];
      expect(c.ports).toContainEqual({ name: 'http', containerPort: 8000 });
      expect(c.args.join(' ')).toContain('--port 8000');
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'])
        expect(c[probe]?.httpGet, probe).toEqual({ path: '/health', port: 'http' });
      // model loading is slow: the startup probe allows minutes before liveness takes over
      expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(600);
    }
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { KubeDiscovery } from '../helpers/kube-discovery.js';
import { describeWith } from '../helpers/real-parts.js';
import { cli as runCli } from '../helpers/cli.js';

// The shipped, built Llama-3.1-70B-Instruct profile on H100 80 GB at TP 4 (models/profiles, no predictors):
// `place` answers servers and GPUs with the Twin alone, and its manifests ask for 4 GPUs per vLLM pod.

type Item = Record<string, any>;
const root = join(import.meta.dirname, '..', '..');
const example = JSON.parse(readFileSync(join(root, 'examples/workload.json'), 'utf8'));
/** examples/workload.json's 40 adapters on the 70B, with the engine defaults of the profile's vLLM version */
const workload = JSON.stringify({
  model: 'meta-llama/Llama-3.1-70B-Instruct',
  gpu: 'h100-80gb',
  tensorParallelSize: 4,
  adapters: example.adapters,
  inputTokens: example.inputTokens,
  outputTokens: example.outputTokens,
});

// the shipped profiles only: a PROFILES_DIR of the environment would add others
const cli = (args: string[], input: string) => runCli(args, { input, env: { PROFILES_DIR: '' }, timeoutMs: 120_000 });

describe('place on the shipped llama-3.1-70b-instruct@h100-80gb-tp4 profile', () => {
  const placed = cli(['place', '--quiet', '--workers', '1'], workload);
  const manifests = cli(['place', '--quiet', '--workers', '1', '--output', 'manifests', '--pool', 'big'], workload);
  const items = parseAllDocuments(manifests.stdout).map((d) => d.toJS() as Item);
  const deployments = items.filter((i) => i.kind === 'Deployment');

  it('answers servers of 4 GPUs with the Twin alone, every server with --tensor-parallel-size=4', () => {
    expect(placed.status, placed.stderr).toBe(0);
    const p = JSON.parse(placed.stdout);
    expect(p).toMatchObject({ model: 'llama-3.1-70b-instruct', gpu: 'h100-80gb', estimator: 'twin', unplaced: [] });
    expect(p.twinEstimate.note).toContain('no predictors for llama-3.1-70b-instruct@h100-80gb-tp4');
    expect(p).toMatchObject({ serverCount: p.gpuCount, gpusPerServer: 4, totalGpus: 4 * p.gpuCount });
    // 40 adapters at ~27 req/s do not fit one 70B server
    expect(p.gpuCount).toBeGreaterThan(1);
    for (const g of p.gpus) {
      expect(g.tensorParallelSize).toBe(4);
      expect(g.vllmArgs).toEqual(
        expect.arrayContaining(['--tensor-parallel-size=4', '--max-num-batched-tokens=8192', '--max-num-seqs=1024']),
      );
      expect(g.engine.kvCacheTokens).toBeGreaterThan(0);
    }
  });

  it('writes manifests whose vLLM pods request and are limited to 4 GPUs and serve the Hugging Face id', () => {
    expect(manifests.status, manifests.stderr).toBe(0);
    const p = JSON.parse(placed.stdout);
    expect(deployments.reduce((n: number, d: Item) => n + d.spec.replicas, 0)).toBe(p.serverCount);
    for (const d of deployments) {
      const vllm = d.spec.template.spec.containers[0];
      expect(vllm.resources).toEqual({ limits: { 'nvidia.com/gpu': 4 }, requests: { 'nvidia.com/gpu': 4 } });
      expect(vllm.args).toEqual(
        expect.arrayContaining(['meta-llama/Llama-3.1-70B-Instruct', '--tensor-parallel-size=4']),
      );
      new Deployment(d as never).validate();
    }
    for (const s of items.filter((i) => i.kind === 'Service')) new Service(s as never).validate();
    new ConfigMap(items.find((i) => i.kind === 'ConfigMap') as never).validate();
  });

  describeWith(['kubectl'], "kubectl's client-side dry run takes them", () => {
    let kube: KubeDiscovery;
    beforeAll(async () => {
      kube = await KubeDiscovery.start();
      return () => kube.close();
    });

    it('creates every object, each Deployment with nvidia.com/gpu: 4', async () => {
      const r = await kube.kubectl(
        ['create', '--dry-run=client', '--validate=false', '-o', 'yaml', '-f', '-'],
        manifests.stdout,
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const created = parseAllDocuments(r.stdout).map((d) => d.toJS() as Item);
      expect(created).toHaveLength(items.length);
      const made = created.filter((o) => o.kind === 'Deployment');
      expect(made).toHaveLength(deployments.length);
      for (const d of made) {
        const vllm = d.spec.template.spec.containers[0];
        expect(vllm.resources.limits['nvidia.com/gpu']).toBe(4);
        expect(vllm.resources.requests['nvidia.com/gpu']).toBe(4);
        expect(vllm.args).toContain('--tensor-parallel-size=4');
      }
    });
  });
});

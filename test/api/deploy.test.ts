import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { openapiDocument } from '../../src/api/openapi.js';
import { buildTestApp, smallWorkload } from '../helpers/app.js';

const root = join(import.meta.dirname, '..', '..');
/** a parsed manifest: walked by the assertions, so loosely typed */
type Doc = Record<string, any>;

function docs(file: string): Doc[] {
  const parsed = parseAllDocuments(readFileSync(join(root, file), 'utf8'));
  for (const d of parsed) expect(d.errors, file).toEqual([]);
  return parsed.map((d) => d.toJS() as Doc);
}

describe('deployment manifests agree with the service', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());
  await app.inject({ method: 'PUT', url: '/v1/pools/llama-prod', payload: smallWorkload() });
  const metricsText = (await app.inject({ url: '/metrics' })).body;
  const spec = await openapiDocument();
  const autoscaleProps = Object.keys((spec.components as Doc).schemas.Autoscale.properties);

  it('KEDA metrics-api polls the autoscale route for desiredReplicas with a fallback', async () => {
    const [api, prom] = docs('deploy/keda-scaledobject.yaml');
    expect(api!.kind).toBe('ScaledObject');
    const t = api!.spec.triggers[0];
    expect(t.type).toBe('metrics-api');
    const path = new URL(t.metadata.url).pathname;
    expect(Object.keys(spec.paths as object)).toContain(path.replace(/\/v1\/pools\/[^/]+\//, '/v1/pools/{pool}/'));
    expect((await app.inject({ url: path })).statusCode).toBe(200);
    expect(autoscaleProps).toContain(t.metadata.valueLocation);
    expect(t.metadata.targetValue).toBe('1');
    expect(api!.spec.fallback.failureThreshold).toBeGreaterThan(0);
    const q = prom!.spec.triggers[0].metadata.query as string;
    expect(metricsText).toContain(q.match(/\((.*)\)/)![1]!.replace('{pool="llama-prod"}', '{pool="llama-prod"} '));
  });

  it('the HPA and Prometheus Adapter name the gauge the service exports', () => {
    const [hpa, values] = docs('deploy/hpa.yaml');
    const metric = hpa!.spec.metrics[0].external.metric;
    expect(metricsText).toContain(`# TYPE ${metric.name} gauge`);
    expect(metricsText).toContain(`${metric.name}{pool="${metric.selector.matchLabels.pool}"}`);
    const rules = values!.data['values.yaml'] as string;
    expect(rules).toContain(metric.name);
  });

  it('the Deployment probes routes that answer', async () => {
    const [deployment] = docs('deploy/lora-placer.yaml');
    const c = deployment!.spec.template.spec.containers[0];
    for (const probe of [c.readinessProbe, c.livenessProbe]) expect((await app.inject({ url: probe.httpGet.path })).statusCode).toBe(200);
    expect(c.env.map((e: Doc) => e.name)).toEqual(expect.arrayContaining(['MODELS_DIR', 'API_TOKEN']));
  });

  it('compose builds the Dockerfile and Prometheus scrapes the service port', () => {
    const [compose] = docs('docker/compose.yaml');
    expect(existsSync(join(root, 'docker', compose!.services['lora-placer'].build.context, compose!.services['lora-placer'].build.dockerfile))).toBe(true);
    const [prom] = docs('docker/prometheus.yml');
    expect(prom!.scrape_configs[0].static_configs[0].targets).toEqual(['lora-placer:8080']);
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:22-slim AS build$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  });
});

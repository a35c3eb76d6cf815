import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/real-parts.js';
import { parseAllDocuments, stringify } from 'yaml';
import { openapiDocument } from '../../src/api/openapi.js';
import { Config, loadConfig } from '../../src/config.js';
import { buildTestApp, smallWorkload } from '../helpers/app.js';

const root = join(import.meta.dirname, '..', '..');
const deployDir = join(root, 'deploy');
/** a parsed manifest: walked by the assertions, so loosely typed */
type Manifest = Record<string, any>;

/** The pool every autoscaling example is written for. */
const pool = 'llama-prod';
/**
 * Objects the examples refer to that deploy/ does not define, each with where it comes from (docs/deploy.md names
 * them).
 */
const userProvided: Record<string, string> = {
  'Deployment/vllm-llama-prod': "the pool's vLLM Deployment (GET /v1/pools/llama-prod/manifests), not deploy/",
};

/** Every kind deploy/ may render, with its typed model: an object of any other kind fails the test. */
const typedModels: Record<string, new (data: any) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'keda.sh/v1alpha1/ScaledObject': ScaledObject,
  'keda.sh/v1alpha1/TriggerAuthentication': TriggerAuthentication,
};

/**
 * What kubectl 1.20's kustomize (v2.0.3, Debian's kubernetes-client, which CI may use) understands:
 * kubectl 1.32 renders `components:`, `replacements:` or directories under `resources:`, the old one refuses them.
 */
const oldKustomizeFields = new Set([
  'apiVersion',
  'kind',
  'namespace',
  'namePrefix',
  'nameSuffix',
  'commonLabels',
  'commonAnnotations',
  'resources',
  'bases',
  'patchesStrategicMerge',
  'patchesJson6902',
  'images',
  'vars',
  'configurations',
  'configMapGenerator',
  'secretGenerator',
  'generatorOptions',
  'crds',
]);

function parseYaml(text: string, what: string): Manifest[] {
  const parsed = parseAllDocuments(text);
  for (const document of parsed) expect(document.errors, what).toEqual([]);
  return parsed.map((document) => document.toJS() as Manifest).filter((object) => object !== null);
}
const docs = (file: string): Manifest[] => parseYaml(readFileSync(join(root, file), 'utf8'), file);
const one = (file: string): Manifest => {
  const objects = docs(file);
  expect(objects, file).toHaveLength(1);
  return objects[0]!;
};

/** deploy/ directories holding a kustomization, relative to deploy/ */
function kustomizationDirs(dir = deployDir): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...kustomizationDirs(join(dir, entry.name)));
    else if (entry.name === 'kustomization.yaml') found.push(relative(deployDir, dir));
  }
  return found.sort();
}

function render(dir: string): Manifest[] {
  const result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  // stderr alone is not a failure: kustomize v5 warns that `bases` and `vars` are deprecated
  expect(result.status, `kubectl kustomize ${dir}: ${result.stderr}`).toBe(0);
  return parseYaml(result.stdout, `kubectl kustomize ${dir}`);
}

const key = (object: Manifest): string => `${object.apiVersion}/${object.kind}`;
const named = (kind: string, name: string): string => `${kind}/${name}`;
const podSpecOf = (object: Manifest): Manifest | undefined =>
  ['Deployment', 'StatefulSet'].includes(object.kind) ? object.spec.template.spec : undefined;
const containersOf = (podSpec: Manifest): Manifest[] => [...(podSpec.initContainers ?? []), ...podSpec.containers];
const secretValues = (secret: Manifest): Record<string, string> => ({
  ...Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([name, value]) => [
      name,
      Buffer.from(String(value), 'base64').toString('utf8'),
    ]),
  ),
  ...(secret.stringData ?? {}),
});

/** Objects a rendered object refers to by name, as "Kind/name", with the Secret keys it reads. */
function referencesOf(object: Manifest): { ref: string; secretKey?: string }[] {
  const refs: { ref: string; secretKey?: string }[] = [];
  const podSpec = podSpecOf(object);
  if (podSpec) {
    if (podSpec.serviceAccountName) refs.push({ ref: named('ServiceAccount', podSpec.serviceAccountName) });
    for (const volume of podSpec.volumes ?? []) {
      if (volume.persistentVolumeClaim)
        refs.push({ ref: named('PersistentVolumeClaim', volume.persistentVolumeClaim.claimName) });
      if (volume.secret) refs.push({ ref: named('Secret', volume.secret.secretName) });
      if (volume.configMap) refs.push({ ref: named('ConfigMap', volume.configMap.name) });
    }
    for (const container of containersOf(podSpec)) {
      for (const variable of container.env ?? []) {
        const secretRef = variable.valueFrom?.secretKeyRef;
        if (secretRef) refs.push({ ref: named('Secret', secretRef.name), secretKey: secretRef.key });
        if (variable.valueFrom?.configMapKeyRef)
          refs.push({ ref: named('ConfigMap', variable.valueFrom.configMapKeyRef.name) });
      }
      for (const source of container.envFrom ?? []) {
        if (source.secretRef) refs.push({ ref: named('Secret', source.secretRef.name) });
        if (source.configMapRef) refs.push({ ref: named('ConfigMap', source.configMapRef.name) });
      }
    }
    for (const template of object.spec.volumeClaimTemplates ?? [])
      refs.push({ ref: named('PersistentVolumeClaim', template.metadata.name) });
  }
  if (object.kind === 'ScaledObject' || object.kind === 'HorizontalPodAutoscaler') {
    refs.push({ ref: named(object.spec.scaleTargetRef.kind ?? 'Deployment', object.spec.scaleTargetRef.name) });
    for (const trigger of object.spec.triggers ?? [])
      if (trigger.authenticationRef) refs.push({ ref: named('TriggerAuthentication', trigger.authenticationRef.name) });
  }
  return refs;
}

/** The scale targets of a rendered output's autoscalers, one entry per autoscaler. */
const scaleTargets = (objects: Manifest[]): string[] =>
  objects
    .filter((object) => object.kind === 'ScaledObject' || object.kind === 'HorizontalPodAutoscaler')
    .map(
      (object) =>
        `${object.metadata.namespace ?? '(apply -n)'}/${object.spec.scaleTargetRef.kind ?? 'Deployment'}/` +
        `${object.spec.scaleTargetRef.name}`,
    );

/** Every string in an object, with its path. */
function strings(value: unknown, path = ''): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((item, index) => strings(item, `${path}[${index}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([name, item]) => strings(item, path ? `${path}.${name}` : name));
  return [];
}

/** `metric{label="value",...} 2` lines of a /metrics text for the given metric names. */
function samples(metricsText: string, names: string[]): { name: string; labels: string; value: string }[] {
  return metricsText
    .split('\n')
    .map((line) => /^(\w+)\{([^}]*)\} (\S+)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && names.includes(match[1]!))
    .map((match) => ({ name: match[1]!, labels: match[2]!, value: match[3]! }));
}

/**
 * `promtool test rules` on series made of two replicas' /metrics (both read the same store, so both
 * export the same values), asserting what `query` returns five minutes in. Returns promtool's exit status and output.
 */
function promtoolExpects(
  query: string,
  metricsText: string,
  expected: { labels: string; value: number }[],
): { status: number | null; output: string } {
  const metricNames = [...new Set([...query.matchAll(/\b(lora_placer_\w+)\{/g)].map((match) => match[1]!))];
  const inputSeries = ['lora-placer-a', 'lora-placer-b'].flatMap((instance) =>
    samples(metricsText, metricNames).map((sample) => ({
      series: `${sample.name}{${sample.labels},instance="${instance}",job="lora-placer"}`,
      values: `${sample.value}x10`,
    })),
  );
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-promql-'));
  try {
    const file = join(dir, 'query.test.yaml');
    writeFileSync(
      file,
      stringify({
        rule_files: [],
        tests: [
          {
            interval: '1m',
            input_series: inputSeries,
            promql_expr_test: [{ expr: query, eval_time: '5m', exp_samples: expected }],
          },
        ],
      }),
    );
    const result = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8', timeout: 30_000 });
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const dirs = kustomizationDirs();
const deployDoc = existsSync(join(root, 'docs', 'deploy.md'))
  ? readFileSync(join(root, 'docs', 'deploy.md'), 'utf8')
  : '';

describe('deploy/ has one directory per use, each documented', () => {
  it('holds the base, the optional Redis, the full stack and one directory per autoscaling target', () => {
    expect(dirs).toEqual(
      expect.arrayContaining([
        'base',
        'redis',
        'overlays/with-redis',
        'autoscaling/keda-metrics-api',
        'autoscaling/keda-prometheus',
        'autoscaling/hpa-prometheus-adapter',
      ]),
    );
    for (const dir of dirs) expect(deployDoc, `docs/deploy.md names deploy/${dir}`).toContain(`deploy/${dir}`);
    for (const [ref, source] of Object.entries(userProvided))
      expect(deployDoc, `docs/deploy.md says where ${ref} comes from (${source})`).toContain(ref.split('/')[1]!);
  });

  it.each(dirs)('%s: its kustomization uses only what kubectl 1.20 (kustomize v2.0.3) renders', (dir) => {
    const kustomization = one(`deploy/${dir}/kustomization.yaml`);
    expect(Object.keys(kustomization).filter((field) => !oldKustomizeFields.has(field))).toEqual([]);
    // v2.0.3 loads only files from `resources`; directories go under `bases`
    for (const resource of kustomization.resources ?? [])
      expect(resource, `deploy/${dir}: resources`).toMatch(/\.ya?ml$/);
    for (const file of kustomization.resources ?? [])
      expect(existsSync(join(deployDir, dir, file)), `deploy/${dir}/${file}`).toBe(true);
  });
});

describe('deployment manifests agree with the service', async () => {
  const app = await buildTestApp();
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const aging = await buildTestApp({ poolStaleS: 60, now: () => clock });
  afterAll(async () => {
    await app.close();
    await aging.close();
  });
  await app.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: smallWorkload() });
  const metricsText = (await app.inject({ url: '/metrics' })).body;
  const spec = await openapiDocument();
  const autoscaleProps = Object.keys((spec.components as Manifest).schemas.Autoscale.properties);
  const desiredReplicas = (await app.inject({ url: `/v1/pools/${pool}/autoscale` })).json().desiredReplicas as number;

  const deployment = one('deploy/base/deployment.yaml');
  const container = deployment.spec.template.spec.containers[0];
  const service = one('deploy/base/service.yaml');
  const secret = one('deploy/base/secret.yaml');
  /** the lora-placer container's environment, Secret references resolved with the base Secret's values */
  const env: Record<string, string> = Object.fromEntries(
    container.env.map((variable: Manifest) => [
      variable.name,
      variable.value ?? secretValues(secret)[variable.valueFrom.secretKeyRef.key],
    ]),
  );
  const metricsApi = one('deploy/autoscaling/keda-metrics-api/scaledobject.yaml');
  const keda = one('deploy/autoscaling/keda-prometheus/scaledobject.yaml');
  const hpa = one('deploy/autoscaling/hpa-prometheus-adapter/hpa.yaml');
  const adapterValues = one('deploy/autoscaling/hpa-prometheus-adapter/prometheus-adapter-values.yaml');
  const adapterRule = adapterValues.rules.external[0];
  const hpaMetric = hpa.spec.metrics[0].external.metric;
  /** the adapter rule's query as prometheus-adapter sends it for the HPA's selector (pkg/naming/metrics_query.go) */
  const adapterQuery = (adapterRule.metricsQuery as string)
    .replaceAll('<<.Series>>', (adapterRule.seriesQuery as string).split('{')[0]!)
    .replaceAll(
      '<<.LabelMatchers>>',
      Object.entries(hpaMetric.selector.matchLabels)
        .map(([label, value]) => `${label}="${value}"`)
        .join(','),
    );

  it('the Deployment runs a configuration the service accepts, with the Secret placeholders in place', () => {
    const configKeys = Object.keys(Config.shape);
    expect(Object.keys(env).filter((name) => !configKeys.includes(name))).toEqual([]);
    const config = loadConfig(env);
    expect(config.REDIS_URL).toBeDefined();
    expect(config.API_TOKEN).toBeDefined();
    expect(secret.stringData['api-token']).toMatch(/REPLACE-ME/);
    expect(deployment.spec.replicas).toBe(2);
    expect(container.volumeMounts.map((mount: Manifest) => mount.mountPath)).toContain(config.MODELS_DIR);
    expect(container.ports.map((port: Manifest) => port.containerPort)).toContain(config.PORT);
    expect(deployment.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(config.PORT));
    expect(service.spec.ports[0].targetPort).toBe(
      container.ports.find((port: Manifest) => port.containerPort === config.PORT).name,
    );
  });

  it('the probes read routes that answer, and a Redis outage fails readiness, not liveness', async () => {
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      expect(Object.keys(spec.paths as object)).toContain(probe.httpGet.path);
      expect((await app.inject({ url: probe.httpGet.path })).statusCode).toBe(200);
    }
    // the readiness answer is the one that carries the store's state
    expect((await app.inject({ url: container.readinessProbe.httpGet.path })).json().store.reachable).toBe(true);
  });

  it(
    'KEDA metrics-api polls the autoscale route of the base Service for desiredReplicas, ' + 'which needs no token',
    async () => {
      const trigger = metricsApi.spec.triggers[0];
      expect(trigger.type).toBe('metrics-api');
      const url = new URL((trigger.metadata.url as string).replace('$(LORA_PLACER_NAMESPACE)', 'some-ns'));
      expect(url.hostname).toBe(`${service.metadata.name}.some-ns.svc`);
      expect(Number(url.port)).toBe(service.spec.ports[0].port);
      expect(url.pathname).toBe(`/v1/pools/${pool}/autoscale`);
      expect(Object.keys(spec.paths as object)).toContain(
        url.pathname.replace(`/v1/pools/${pool}/`, '/v1/pools/{pool}/'),
      );
      expect(autoscaleProps).toContain(trigger.metadata.valueLocation);
      expect(trigger.metadata.targetValue).toBe('1');
      expect(trigger.metricType).toBe('AverageValue');
      expect(trigger.authenticationRef).toBeUndefined();
      // KEDA sends no token: the route must be open under the AUTH_SCOPE the Deployment sets, even with API_TOKEN set
      const config = loadConfig(env);
      const guarded = await buildTestApp({ apiToken: config.API_TOKEN!, authScope: config.AUTH_SCOPE });
      try {
        expect(
          (await guarded.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: smallWorkload() })).statusCode,
        ).toBe(401);
        await guarded.inject({
          method: 'PUT',
          url: `/v1/pools/${pool}`,
          payload: smallWorkload(),
          headers: { authorization: `Bearer ${config.API_TOKEN}` },
        });
        const answer = await guarded.inject({ url: url.pathname });
        expect(answer.statusCode).toBe(200);
        expect(answer.json()[trigger.metadata.valueLocation]).toBe(desiredReplicas);
      } finally {
        await guarded.close();
      }
    },
  );

  it('a stale plan answers 503 on the route KEDA polls, and the ScaledObject falls back', async () => {
    expect((await aging.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: smallWorkload() })).statusCode).toBe(
      200,
    );
    const path = new URL((metricsApi.spec.triggers[0].metadata.url as string).replace('$(LORA_PLACER_NAMESPACE)', 'ns'))
      .pathname;
    expect((await aging.inject({ url: path })).statusCode).toBe(200);
    clock += 61_000;
    const stale = await aging.inject({ url: path });
    expect(stale.statusCode).toBe(503);
    expect(stale.json().error.code).toBe('LP_ERR_STALE_PLAN');
    expect(metricsApi.spec.fallback.failureThreshold).toBeGreaterThan(0);
    expect(metricsApi.spec.fallback.replicas).toBeGreaterThanOrEqual(metricsApi.spec.minReplicaCount);
  });

  it('the KEDA prometheus trigger and the adapter rule read gauges the service exports, for the pool', () => {
    const trigger = keda.spec.triggers[0];
    expect(trigger.type).toBe('prometheus');
    // with the default "true" KEDA reads an empty answer (a stale plan) as 0 instead of failing over
    expect(trigger.metadata.ignoreNullValues).toBe('false');
    expect(keda.spec.fallback.failureThreshold).toBeGreaterThan(0);
    expect(trigger.metadata.threshold).toBe('1');
    for (const query of [trigger.metadata.query as string, adapterQuery]) {
      const selectors = [...query.matchAll(/\b(lora_placer_\w+)\{([^}]*)\}/g)];
      expect(selectors.map((match) => match[1]).sort(), query).toEqual([
        'lora_placer_desired_replicas',
        'lora_placer_pool_plan_stale',
      ]);
      for (const [, metric, labels] of selectors) {
        expect(metricsText).toContain(`# TYPE ${metric} gauge`);
        expect(labels).toBe(`pool="${pool}"`);
        expect(metricsText).toContain(`${metric}{${labels}} `);
      }
    }
  });

  it('the HPA reads the external metric the adapter values name, and the chart key the adapter reads', () => {
    expect(hpaMetric.name).toBe(adapterRule.name.as);
    expect(adapterRule.seriesQuery).toMatch(new RegExp(`^'?${hpaMetric.name}\\{`));
    expect(metricsText).toContain(`# TYPE ${hpaMetric.name} gauge`);
    expect(hpaMetric.selector.matchLabels).toEqual({ pool });
    expect(hpa.spec.metrics[0].external.target).toEqual({ type: 'AverageValue', averageValue: '1' });
    // the pool's gauge is not about the HPA's namespace: the adapter must not add a namespace matcher
    expect(adapterRule.resources).toEqual({ namespaced: false });
    // a values file for the chart, not a ConfigMap nothing reads
    expect(adapterValues.kind).toBeUndefined();
    expect(one('deploy/autoscaling/hpa-prometheus-adapter/kustomization.yaml').resources).not.toContain(
      'prometheus-adapter-values.yaml',
    );
  });

  describeWith(['promtool'], 'the Prometheus queries return the plan, and nothing while it is stale (promtool)', () => {
    let staleMetrics = '';
    beforeAll(async () => {
      let staleClock = Date.parse('2026-01-01T00:00:00Z');
      const staleApp = await buildTestApp({ poolStaleS: 60, now: () => staleClock });
      try {
        await staleApp.inject({ method: 'PUT', url: `/v1/pools/${pool}`, payload: smallWorkload() });
        staleClock += 61_000;
        staleMetrics = (await staleApp.inject({ url: '/metrics' })).body;
      } finally {
        await staleApp.close();
      }
    });

    it.each([
      ['KEDA prometheus trigger', () => keda.spec.triggers[0].metadata.query as string],
      ['Prometheus Adapter rule', () => adapterQuery],
    ])('%s', (_name, query) => {
      const fresh = promtoolExpects(query(), metricsText, [{ labels: `{pool="${pool}"}`, value: desiredReplicas }]);
      expect(fresh.status, fresh.output).toBe(0);
      expect(staleMetrics).toContain(`lora_placer_pool_plan_stale{pool="${pool}"} 1`);
      const stale = promtoolExpects(query(), staleMetrics, []);
      expect(stale.status, stale.output).toBe(0);
    });
  });

  it('compose builds the Dockerfile and Prometheus scrapes the service port', () => {
    const [compose] = docs('docker/compose.yaml');
    expect(
      existsSync(
        join(
          root,
          'docker',
          compose!.services['lora-placer'].build.context,
          compose!.services['lora-placer'].build.dockerfile,
        ),
      ),
    ).toBe(true);
    const [prom] = docs('docker/prometheus.yml');
    expect(prom!.scrape_configs[0].static_configs[0].targets).toEqual(['lora-placer:8080']);
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:22-slim AS build$/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  });
});

describeWith(
  ['kubectl'],
  'every kustomization in deploy/ renders, and every object validates (kubectl kustomize)',
  () => {
    const rendered = new Map<string, Manifest[]>();
    const objectsOf = (dir: string): Manifest[] => {
      const objects = rendered.get(dir);
      if (!objects) throw new Error(`deploy/${dir} was not rendered`);
      return objects;
    };
    beforeAll(() => {
      for (const dir of dirs) rendered.set(dir, render(join(deployDir, dir)));
    }, 120_000);

    it.each(dirs)('%s: renders objects that validate against their typed models', (dir) => {
      const objects = objectsOf(dir);
      expect(objects.length).toBeGreaterThan(0);
      for (const object of objects) {
        const model = typedModels[key(object)];
        expect(
          model,
          `deploy/${dir}: ${key(object)} ${object.metadata?.name} has no typed model to validate it`,
        ).toBeDefined();
        expect(
          () => new model!(object).validate(),
          `deploy/${dir}: ${key(object)} ${object.metadata.name}`,
        ).not.toThrow();
      }
      const names = objects.map(
        (object) => `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`,
      );
      expect(names.filter((name, index) => names.indexOf(name) !== index)).toEqual([]);
    });

    it('the typed models do refuse a broken object', () => {
      const deployment = objectsOf('base').find((object) => object.kind === 'Deployment')!;
      expect(() => new Deployment({ ...deployment, spec: { ...deployment.spec, replicas: 'two' } }).validate()).toThrow(
        /replicas/,
      );
      const scaledObject = objectsOf('autoscaling/keda-metrics-api')[0]!;
      expect(() =>
        new ScaledObject({
          ...scaledObject,
          spec: { ...scaledObject.spec, triggers: [{ type: 'metrics-api', metadata: { targetValue: 1 } }] },
        }).validate(),
      ).toThrow(/targetValue/);
    });

    it.each(dirs)('%s: each scaled Deployment has one autoscaler at most', (dir) => {
      const targets = scaleTargets(objectsOf(dir));
      expect(targets.filter((target, index) => targets.indexOf(target) !== index)).toEqual([]);
      if (dir.startsWith('autoscaling/')) expect(targets).toHaveLength(1);
    });

    it.each(dirs)(
      '%s: what its objects refer to is in the same output, or provided by the user as documented; nothing is orphaned',
      (dir) => {
        const objects = objectsOf(dir);
        const defined = new Map(objects.map((object) => [named(object.kind, object.metadata.name), object]));
        const referenced = new Set<string>();
        for (const object of objects) {
          for (const { ref, secretKey } of referencesOf(object)) {
            referenced.add(ref);
            const target = defined.get(ref);
            if (!target) {
              expect(
                userProvided[ref],
                `deploy/${dir}: ${object.kind}/${object.metadata.name} refers to ${ref}, which is neither ` +
                  'rendered nor documented as user-provided',
              ).toBeDefined();
              continue;
            }
            if (secretKey)
              expect(Object.keys(secretValues(target)), `deploy/${dir}: ${ref} key ${secretKey}`).toContain(secretKey);
          }
        }
        // a Secret, ConfigMap, claim or ServiceAccount nothing mounts is one nobody reads (as the old adapter "values"
        // ConfigMap was)
        const orphans = objects.filter(
          (object) =>
            ['Secret', 'ConfigMap', 'PersistentVolumeClaim', 'ServiceAccount'].includes(object.kind) &&
            !referenced.has(named(object.kind, object.metadata.name)),
        );
        expect(orphans.map((object) => named(object.kind, object.metadata.name))).toEqual([]);
      },
    );

    it.each(dirs)('%s: every Service, PodDisruptionBudget and NetworkPolicy selects pods rendered with it', (dir) => {
      const objects = objectsOf(dir);
      const podLabels = objects.flatMap((object) =>
        podSpecOf(object) ? [object.spec.template.metadata.labels as Record<string, string>] : [],
      );
      const selects = (selector: Record<string, string>) =>
        podLabels.some((labels) => Object.entries(selector).every(([label, value]) => labels[label] === value));
      for (const object of objects) {
        const selector: Record<string, string> | undefined =
          object.kind === 'Service'
            ? object.spec.selector
            : object.kind === 'PodDisruptionBudget'
              ? object.spec.selector.matchLabels
              : object.kind === 'NetworkPolicy'
                ? object.spec.podSelector.matchLabels
                : undefined;
        if (selector)
          expect(
            selects(selector),
            `deploy/${dir}: ${object.kind}/${object.metadata.name} selects ${JSON.stringify(selector)}`,
          ).toBe(true);
        if (object.kind === 'Deployment')
          expect(object.spec.template.metadata.labels).toMatchObject(object.spec.selector.matchLabels);
      }
    });

    it.each(dirs)('%s: every container runs as non-root on a read-only root, with resources and probes', (dir) => {
      for (const object of objectsOf(dir)) {
        const podSpec = podSpecOf(object);
        if (!podSpec) continue;
        expect(podSpec.securityContext.runAsNonRoot, `${object.metadata.name}`).toBe(true);
        for (const container of containersOf(podSpec)) {
          const where = `deploy/${dir}: ${object.metadata.name}/${container.name}`;
          expect(container.securityContext, where).toMatchObject({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(container.resources.requests, where).toBeDefined();
          expect(container.resources.limits.memory, where).toBeDefined();
          expect(container.readinessProbe, where).toBeDefined();
          expect(container.livenessProbe, where).toBeDefined();
        }
      }
      const placer = objectsOf(dir).find(
        (object) => object.kind === 'Deployment' && object.metadata.name === 'lora-placer',
      );
      if (placer) {
        // the service writes temp files: /tmp must be a writable volume on the read-only root
        const tmpMount = placer.spec.template.spec.containers[0].volumeMounts.find(
          (mount: Manifest) => mount.mountPath === '/tmp',
        );
        expect(
          placer.spec.template.spec.volumes.find((volume: Manifest) => volume.name === tmpMount?.name)?.emptyDir,
        ).toBeDefined();
        // MODELS_DIR: every replica mounts it at once
        const modelsDir = placer.spec.template.spec.containers[0].env.find(
          (variable: Manifest) => variable.name === 'MODELS_DIR',
        ).value;
        const modelsMount = placer.spec.template.spec.containers[0].volumeMounts.find(
          (mount: Manifest) => mount.mountPath === modelsDir,
        );
        const claimName = placer.spec.template.spec.volumes.find((volume: Manifest) => volume.name === modelsMount.name)
          .persistentVolumeClaim.claimName;
        expect(
          objectsOf(dir).find((object) => object.kind === 'PersistentVolumeClaim' && object.metadata.name === claimName)
            ?.spec.accessModes,
        ).toEqual(['ReadWriteMany']);
      }
    });

    it.each(dirs)('%s: no namespace "default" anywhere, and only the metrics-api example names a namespace', (dir) => {
      for (const object of objectsOf(dir)) {
        const where = `deploy/${dir}: ${object.kind}/${object.metadata.name}`;
        if (dir === 'autoscaling/keda-metrics-api') expect(object.metadata.namespace, where).not.toBe('default');
        else expect(object.metadata.namespace, `${where} must take the namespace of kubectl apply -n`).toBeUndefined();
        for (const [path, text] of strings(object)) {
          expect(text, `${where} ${path}`).not.toMatch(/\.default\.svc\b/);
          // a URL to a Service of this stack must name the namespace the object itself is applied to
          const stackService = /\b(lora-placer(?:-redis)?)\.([a-z0-9-]+)\.svc\b/.exec(text);
          if (stackService) expect(stackService[2], `${where} ${path}`).toBe(object.metadata.namespace);
        }
      }
    });

    it('the metrics-api URL follows the namespace set in its kustomization', () => {
      const copy = mkdtempSync(join(tmpdir(), 'lora-placer-kustomize-'));
      try {
        cpSync(join(deployDir, 'autoscaling', 'keda-metrics-api'), copy, { recursive: true });
        const file = join(copy, 'kustomization.yaml');
        writeFileSync(file, readFileSync(file, 'utf8').replace(/^namespace: .*$/m, 'namespace: other-ns'));
        const [scaledObject] = render(copy);
        expect(scaledObject!.metadata.namespace).toBe('other-ns');
        expect(scaledObject!.spec.triggers[0].metadata.url).toBe(
          `http://lora-placer.other-ns.svc:8080/v1/pools/${pool}/autoscale`,
        );
      } finally {
        rmSync(copy, { recursive: true, force: true });
      }
    });

    it(
      "with-redis: the Secret's redis-url reaches the Redis Service it renders, which keeps an append-only file " +
        'on a claim',
      () => {
        const objects = objectsOf('overlays/with-redis');
        const redisUrl = new URL(
          secretValues(objects.find((object) => object.kind === 'Secret' && object.metadata.name === 'lora-placer')!)[
            'redis-url'
          ]!,
        );
        const redisService = objects.find(
          (object) => object.kind === 'Service' && object.metadata.name === redisUrl.hostname,
        );
        expect(redisService, `a Service named ${redisUrl.hostname}`).toBeDefined();
        expect(redisService!.spec.ports.map((port: Manifest) => port.port)).toContain(Number(redisUrl.port || 6379));
        const redis = objects.find(
          (object) => object.kind === 'Deployment' && object.metadata.name === 'lora-placer-redis',
        )!;
        const redisContainer = redis.spec.template.spec.containers[0];
        expect(redisContainer.image).toMatch(/^(docker\.io\/library\/)?redis:7(\.|$)/);
        expect(redisContainer.args.join(' ')).toMatch(/--appendonly yes/);
        const dataDir = redisContainer.args[redisContainer.args.indexOf('--dir') + 1];
        const dataVolume = redisContainer.volumeMounts.find((mount: Manifest) => mount.mountPath === dataDir).name;
        expect(
          redis.spec.template.spec.volumes.find((volume: Manifest) => volume.name === dataVolume).persistentVolumeClaim,
        ).toBeDefined();
        expect(redis.spec.strategy.type).toBe('Recreate');
      },
    );
  },
);

import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError } from '../shared/errors.js';
import { bodyText, bodyValidatedInWorker, clientGone, takeJsonAsText } from './offloaded.js';
import type { RenderedTemplate, TemplateKey } from '../manifests/manifest-cache.js';
import { ManifestOptions } from '../manifests/manifest-options.js';
import { PoolSourceBody } from '../observe/traffic-source.js';
import { parseJsonBody } from '../shared/json-body.js';
import { parseOrThrow } from '../shared/validate.js';
import { summaryOf } from '../store/pool-store.js';
import type { PoolPlan } from './pool-plans.js';
import { AutoscaleBody, PoolBody, PoolName, WorkloadBody, errors } from './schemas.js';
import { routeSecurity } from './auth.js';
import type { Services } from './services.js';

const PoolParams = z.object({ pool: PoolName });
const ManifestQuery = ManifestOptions.extend({
  format: z.enum(['json', 'yaml']).default('json').describe('json: a v1 List; yaml: one document per object'),
}).strict();
const KubernetesList = z
  .object({ apiVersion: z.literal('v1'), kind: z.literal('List'), items: z.array(z.record(z.string(), z.unknown())) })
  .meta({ id: 'KubernetesList' });

/**
 * A source body is read on the HTTP thread (it holds no more than 10,000 adapter names): it is capped well below
 * BODY_LIMIT_BYTES.
 */
const sourceBodyMaxChars = 2 * 1024 * 1024;

/**
 * A pool plan's manifests with the options left as holes: rendered once per plan revision (the better part of a
 * second for a thousand GPUs, and the route needs no token under the default AUTH_SCOPE); a request's options only
 * fill the holes.
 */
async function renderManifests(s: Services, asked: TemplateKey): Promise<RenderedTemplate> {
  const plan = await s.pools.get(asked.pool);
  const profile = s.profiles.get(plan.workload.model, plan.workload.gpu, plan.placement.gpusPerServer ?? 1);
  const input = {
    pool: plan.pool,
    placement: plan.placement,
    profile,
    adapterRoot: plan.workload.options.loraModulesRoot,
  };
  const { manifestTemplate } = await import('../manifests/manifest-template.js');
  return {
    // the YAML of a large plan is written a few objects at a time, other requests served in between
    template: await manifestTemplate(
      input,
      asked.format,
      () => new Promise((resolve) => setImmediate(resolve)),
      asked.adapterLoading,
    ),
    key: { ...asked, revision: plan.revision ?? null, profile },
  };
}

/**
 * The pieces of `chunks`, each in a turn of the event loop of its own: a socket that drains as fast as it is written
 * (loopback, a fast client) would otherwise have the whole answer written in one turn, other requests waiting.
 */
async function* withTurns<T>(chunks: Iterable<T>): AsyncGenerator<T> {
  for (const chunk of chunks) {
    yield chunk;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function view(s: Services, plan: PoolPlan): z.output<typeof PoolBody> {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    pool: plan.pool,
    updatedAt: new Date(plan.updatedAt).toISOString(),
    computedAt: new Date(plan.computedAt).toISOString(),
    stale: s.pools.isStale(summaryOf(plan)),
    placement: plan.placement,
    ...(plan.source ? { source: plan.source } : {}),
    ...(plan.observation
      ? {
          observation: {
            attemptedAt: iso(plan.observation.attemptedAt)!,
            succeededAt: iso(plan.observation.succeededAt),
            error: plan.observation.error,
            adapters: plan.observation.adapters.length,
            ignoredSeries: plan.observation.ignoredSeries,
            ...(plan.observation.droppedSeries ? { droppedSeries: plan.observation.droppedSeries } : {}),
            replanned: plan.observation.replanned,
          },
        }
      : {}),
  };
}

/** Pools: a workload kept up to date by a controller, its placement, and what autoscalers read. */
export async function poolRoutes(app: FastifyInstance, s: Services): Promise<void> {
  takeJsonAsText(app);
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/v1/pools',
    {
      onRequest: s.guards.read,
      schema: {
        operationId: 'listPools',
        security: routeSecurity.read,
        tags: ['pools'],
        summary: 'Pools and their replica counts',
        response: { 200: z.object({ pools: z.array(AutoscaleBody) }), ...errors(401, 503) },
      },
    },
    async () => ({ pools: (await s.pools.list()).map((p) => s.pools.autoscaleOf(p)) }),
  );
  r.put(
    '/v1/pools/:pool',
    {
      onRequest: s.guards.mutating,
      validatorCompiler: bodyValidatedInWorker,
      schema: {
        operationId: 'putPool',
        security: routeSecurity.mutating,
        tags: ['pools'],
        summary: "Store a pool's workload and compute its placement",
        params: PoolParams,
        body: WorkloadBody,
        response: { 200: PoolBody, ...errors(400, 401, 404, 409, 413, 503) },
      },
    },
    async (req, reply) => {
      await s.pools.assertRoomFor(req.params.pool);
      // an existing pool is re-planned from its current placement: few adapters move
      const current = await s.pools.assertPushed(req.params.pool);
      const { workload, placement } = await s.placements.place(bodyText(req.body), clientGone(reply), current);
      return view(s, await s.pools.put(req.params.pool, workload, placement));
    },
  );
  r.put(
    '/v1/pools/:pool/source',
    {
      onRequest: s.guards.mutating,
      validatorCompiler: bodyValidatedInWorker,
      schema: {
        operationId: 'putPoolSource',
        security: routeSecurity.mutating,
        tags: ['pools'],
        summary:
          "Observe a pool's traffic in Prometheus (PROMETHEUS_URL): its adapters and rates are read every " +
          'periodS and the pool re-planned; answers the first plan',
        params: PoolParams,
        body: PoolSourceBody,
        response: { 200: PoolBody, ...errors(400, 401, 409, 413, 503) },
      },
    },
    async (req) => {
      const text = bodyText(req.body);
      if (text.length > sourceBodyMaxChars)
        throw new AppError('bodyTooLarge', `a pool source body is at most ${sourceBodyMaxChars} characters`, {
          allowed: sourceBodyMaxChars,
        });
      const source = parseOrThrow(PoolSourceBody, parseJsonBody(text, 1_000_000), 'body', 'body');
      await s.pools.assertRoomFor(req.params.pool);
      return view(s, await s.observer.create(req.params.pool, source));
    },
  );
  r.get(
    '/v1/pools/:pool',
    {
      onRequest: s.guards.read,
      schema: {
        operationId: 'getPool',
        security: routeSecurity.read,
        tags: ['pools'],
        summary: "A pool's current placement",
        params: PoolParams,
        response: { 200: PoolBody, ...errors(400, 401, 404, 500, 503) },
      },
    },
    async (req) => view(s, await s.pools.get(req.params.pool)),
  );
  r.delete(
    '/v1/pools/:pool',
    {
      onRequest: s.guards.mutating,
      schema: {
        operationId: 'deletePool',
        security: routeSecurity.mutating,
        tags: ['pools'],
        summary: 'Forget a pool',
        params: PoolParams,
        response: { 204: z.null(), ...errors(400, 401, 404, 503) },
      },
    },
    async (req, reply) => {
      await s.pools.delete(req.params.pool);
      return reply.status(204).send(null);
    },
  );
  r.get(
    '/v1/pools/:pool/manifests',
    {
      onRequest: s.guards.read,
      schema: {
        operationId: 'getPoolManifests',
        security: routeSecurity.read,
        tags: ['pools'],
        summary:
          "What a cluster applies for the pool's current plan: a vLLM Deployment and Service per engine " +
          'setting, the routing ConfigMap, optionally an InferencePool',
        params: PoolParams,
        querystring: ManifestQuery,
        response: { 200: KubernetesList.or(z.string()), ...errors(400, 401, 404, 500, 503) },
      },
    },
    async (req, reply) => {
      const { format, ...options } = req.query;
      // the summary names the plan's revision: a kept template answers without reading the placement
      const summary = await s.pools.summary(req.params.pool);
      const key = {
        pool: summary.pool,
        format,
        adapterLoading: options.adapterLoading,
        revision: summary.revision,
        profile: s.profiles.get(summary.model, summary.gpu, summary.tensorParallelSize ?? 1),
      };
      const template = await s.manifests.template(key, () => renderManifests(s, key));
      // kubernetes-models (hundreds of files) and yaml load with the first manifests request, not at start-up
      const { templateChunks } = await import('../manifests/manifest-template.js');
      // a few answers are written at once, the others wait their turn (or 503 with Retry-After past the line)
      await s.manifestAnswers.take(reply);
      // written a piece at a time (one piece in flight): other requests are served between the pieces of a large plan
      const body = Readable.from(withTurns(templateChunks(template, options)), { objectMode: true, highWaterMark: 1 });
      // the stream's text is the documented answer (a v1 List's JSON, or YAML documents): not re-serialized
      const answer = body as unknown as string;
      return reply.type(format === 'json' ? 'application/json; charset=utf-8' : 'application/yaml').send(answer);
    },
  );
  r.get(
    '/v1/pools/:pool/autoscale',
    {
      onRequest: s.guards.read,
      schema: {
        operationId: 'getPoolAutoscale',
        security: routeSecurity.read,
        tags: ['pools'],
        summary:
          'KEDA metrics-api answer (valueLocation desiredReplicas, targetValue "1"); ' +
          '503 when the plan is stale so KEDA falls back',
        params: PoolParams,
        response: { 200: AutoscaleBody, ...errors(400, 401, 404, 500, 503) },
      },
    },
    async (req) => {
      const answer = await s.pools.autoscale(req.params.pool);
      if (answer.stale)
        throw new AppError(
          'stalePlan',
          `the plan of pool "${answer.pool}" is stale (workload not updated within POOL_STALE_S, or computed ` +
            'with a replaced model)',
          answer,
        );
      return answer;
    },
  );
}

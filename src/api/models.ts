import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Predictor } from '../ml/predictor.js';
import { ModelInfo, RefreshJobBody, RefreshRequest, errors } from './schemas.js';
import { routeSecurity } from './auth.js';
import type { Services } from './services.js';
import { predictorSummary, profileSummary } from './catalog.js';
import { ProfileSource } from '../profiles/index.js';

const loadedAt = new WeakMap<Predictor, string>();

export const ProfilesBody = z.object({
  profiles: z.array(
    z.object({
      model: z.string(),
      gpu: z.string(),
      description: z.string(),
      vllmVersion: z.string(),
      maxModelLen: z.number().int(),
      engineDefaults: z.object({ maxNumBatchedTokens: z.number().int(), maxNumSeqs: z.number().int() }),
      hfModelId: z
        .string()
        .nullable()
        .describe('the Hugging Face id a Scenario or Workload may name the model by (case-insensitive)'),
      source: ProfileSource.describe(
        'where the numbers come from: calibrated from real runs, built from kernel tables, roofline, refitted',
      ),
      tensorParallelSize: z
        .number()
        .int()
        .describe('GPUs one server of this profile spans (vLLM --tensor-parallel-size)'),
      file: z
        .string()
        .nullable()
        .describe('the file the profile was read from (a later profile directory overrides an earlier one)'),
      hasPredictors: z
        .boolean()
        .describe('false: predictions and placements for it are answered by short Twin runs (slower)'),
    }),
  ),
});

export const ModelsBody = z.object({ models: z.array(ModelInfo), refreshRunning: z.boolean() });

const RefreshParams = z.object({
  id: z.string().regex(/^[A-Za-z0-9-]{1,100}$/, 'a refresh job id (letters, digits and "-")'),
});

function modelInfo(p: Predictor, now: number): z.output<typeof ModelInfo> {
  if (!loadedAt.has(p)) loadedAt.set(p, new Date(now).toISOString());
  return { ...predictorSummary(p), loadedAt: loadedAt.get(p)! };
}

/** GET /v1/profiles, GET /v1/models, POST /v1/models/refresh, GET /v1/models/refresh/{id}. */
export async function modelRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/v1/profiles',
    {
      onRequest: s.guards.read,
      schema: {
        operationId: 'listProfiles',
        security: routeSecurity.read,
        tags: ['models'],
        summary: 'Base model x GPU profiles the Twin knows',
        response: {
          200: ProfilesBody,
          ...errors(401),
        },
      },
    },
    async () => ({
      profiles: s.profiles.list().map((p) => profileSummary(p, s.profiles, s.predictors)),
    }),
  );
  r.get(
    '/v1/models',
    {
      onRequest: s.guards.read,
      schema: {
        operationId: 'listModels',
        security: routeSecurity.read,
        tags: ['models'],
        summary: 'Predictor models being served',
        response: { 200: ModelsBody, ...errors(401) },
      },
    },
    async () => ({
      models: s.predictors.list().map((p) => modelInfo(p, s.now())),
      refreshRunning: s.refresh.isRunning(),
    }),
  );
  r.post(
    '/v1/models/refresh',
    {
      onRequest: s.guards.mutating,
      schema: {
        operationId: 'startRefresh',
        security: routeSecurity.mutating,
        tags: ['models'],
        summary: 'Start a background refresh: Twin sweep -> teacher -> distilled student -> compare -> swap',
        body: RefreshRequest,
        response: { 202: RefreshJobBody, ...errors(400, 401, 404, 409, 413, 503) },
      },
    },
    async (req, reply) => {
      const { model, gpu, ...opts } = req.body;
      const job = await s.refresh.start(model, gpu, opts);
      return reply.status(202).header('location', `/v1/models/refresh/${job.id}`).send(job);
    },
  );
  r.get(
    '/v1/models/refresh/:id',
    {
      onRequest: s.guards.read,
      schema: {
        operationId: 'getRefresh',
        security: routeSecurity.read,
        tags: ['models'],
        summary: 'Progress and outcome of a refresh',
        params: RefreshParams,
        response: { 200: RefreshJobBody, ...errors(400, 401, 404, 500, 503) },
      },
    },
    async (req) => s.refresh.get(req.params.id),
  );
  r.delete(
    '/v1/models/refresh/:id',
    {
      onRequest: s.guards.mutating,
      schema: {
        operationId: 'cancelRefresh',
        security: routeSecurity.mutating,
        tags: ['models'],
        summary: 'Cancel a running refresh (the served model stays)',
        params: RefreshParams,
        response: { 200: RefreshJobBody, ...errors(400, 401, 404, 409, 500, 503) },
      },
    },
    async (req) => s.refresh.cancel(req.params.id),
  );
}

import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { documentTooLarge, jsonWeightExceeds } from '../shared/json-body.js';
import { PredictionBody, ScenarioBody, errors } from './schemas.js';
import { routeSecurity } from './auth.js';
import { clientGone } from './offloaded.js';
import type { Services } from './services.js';

/**
 * Most JSON values (objects count 4) a /v1/predict body may hold. Predictions answer on the HTTP
 * thread, in microseconds; validating a malformed document costs about a microsecond per problem, so
 * this bounds what one request can hold the thread for (about 10,000 adapters fit).
 */
export const maxPredictJsonValues = 100_000;

/** Runs an onRequest guard inside a handler (a route that is cheap or not depending on its body). */
function guarded(app: FastifyInstance, guard: onRequestHookHandler, req: FastifyRequest, reply: FastifyReply) {
  return new Promise<void>((resolve, reject) => {
    guard.call(app, req, reply, (err?: Error) => (err ? reject(err) : resolve()));
  });
}

/**
 * POST /v1/predict: the distilled trees, in microseconds, on the HTTP thread. A profile without predictors
 * is answered by short Twin runs on the work queue instead (tens of milliseconds; the answer says so), and
 * like the other routes that run the Twin it then needs the token under AUTH_SCOPE=expensive.
 */
export async function predictRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/predict',
    {
      onRequest: s.guards.read,
      bodyLimit: s.limits.predictBodyBytes,
      preValidation: (req, _reply, done) =>
        done(jsonWeightExceeds(req.body, maxPredictJsonValues) ? documentTooLarge(maxPredictJsonValues) : undefined),
      schema: {
        operationId: 'predict',
        security: routeSecurity.read,
        tags: ['predict'],
        summary: "Predict one GPU's throughput, starvation and latency (durationS and seed are ignored)",
        body: ScenarioBody,
        response: { 200: PredictionBody, ...errors(400, 401, 404, 413, 503) },
      },
    },
    async (req, reply) => {
      const { model, gpu, tensorParallelSize: tp } = req.body;
      const predictor = s.predictors.find(model, gpu, tp);
      if (predictor) {
        const answer = predictor.predict(req.body);
        s.metrics.predictions.inc({ model: predictor.profile.model, gpu: predictor.profile.gpu });
        return answer;
      }
      const profile = s.profiles.get(model, gpu, tp);
      await guarded(app, s.guards.expensive, req, reply);
      const task = {
        kind: 'predict' as const,
        scenario: req.body,
        limits: s.limits.work,
        profileDirs: s.profiles.dirs,
      };
      const answer = await s.work.run(task, clientGone(reply));
      s.metrics.predictions.inc({ model: profile.model, gpu: profile.gpu });
      return answer;
    },
  );
}

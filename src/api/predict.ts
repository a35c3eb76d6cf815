import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { documentTooLarge, jsonWeightExceeds } from '../shared/json-body.js';
import { PredictionBody, ScenarioBody, errors } from './schemas.js';
import { routeSecurity } from './auth.js';
import type { Services } from './services.js';

/**
 * Most JSON values (objects count 4) a /v1/predict body may hold. Predictions answer on the HTTP
 * thread, in microseconds; validating a malformed document costs about a microsecond per problem, so
 * this bounds what one request can hold the thread for (about 10,000 adapters fit).
 */
export const maxPredictJsonValues = 100_000;

/** POST /v1/predict: the distilled trees, in microseconds, on the HTTP thread. */
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
        response: { 200: PredictionBody, ...errors(400, 401, 404, 413) },
      },
    },
    async (req) => {
      const { model, gpu } = req.body;
      const answer = s.predictors.get(model, gpu, req.body.tensorParallelSize).predict(req.body);
      s.metrics.predictions.inc({ model, gpu });
      return answer;
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { PredictionBody, ScenarioBody, SimulationResultBody, errors } from './schemas.js';
import type { Services } from './services.js';

/** POST /v1/predict (distilled trees, microseconds) and POST /v1/simulate (the Twin, on a worker thread). */
export async function predictRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post(
    '/v1/predict',
    { schema: { tags: ['predict'], summary: 'Predict one GPU\'s throughput, starvation and latency (durationS and seed are ignored)', body: ScenarioBody, response: { 200: PredictionBody, ...errors(400, 404, 413) } } },
    async (req) => {
      const { model, gpu } = req.body;
      const answer = s.predictors.get(model, gpu).predict(req.body);
      s.metrics.predictions.inc({ model, gpu });
      return answer;
    },
  );
  r.post(
    '/v1/simulate',
    { schema: { tags: ['predict'], summary: 'Simulate one GPU with the Digital Twin', body: ScenarioBody, response: { 200: SimulationResultBody, ...errors(400, 404, 413) } } },
    async (req) => {
      const { model, gpu } = req.body;
      s.profiles.get(model, gpu);
      const [result] = await s.twin.run([req.body]);
      s.metrics.simulations.inc({ model, gpu });
      return result!;
    },
  );
}

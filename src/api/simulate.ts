import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bodyText, bodyValidatedInWorker, clientGone, takeJsonAsText } from './offloaded.js';
import { ScenarioBody, SimulationResultBody, errors } from './schemas.js';
import { routeSecurity } from './auth.js';
import type { Services } from './services.js';

/** POST /v1/simulate: the Digital Twin, on the work queue. */
export async function simulateRoutes(app: FastifyInstance, s: Services): Promise<void> {
  takeJsonAsText(app);
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/simulate',
    {
      onRequest: s.guards.expensive,
      validatorCompiler: bodyValidatedInWorker,
      schema: {
        operationId: 'simulate',
        security: routeSecurity.expensive,
        tags: ['predict'],
        summary: 'Simulate one GPU with the Digital Twin',
        body: ScenarioBody,
        response: { 200: SimulationResultBody, ...errors(400, 401, 404, 413, 503) },
      },
    },
    async (req, reply) => {
      const { model, gpu, result } = await s.work.run(
        { kind: 'simulate', body: bodyText(req.body), limits: s.limits.work, profileDirs: s.profiles.dirs },
        clientGone(reply),
      );
      s.metrics.simulations.inc({ model, gpu });
      return result;
    },
  );
}

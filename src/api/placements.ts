import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bodyText, bodyValidatedInWorker, clientGone, takeJsonAsText } from './offloaded.js';
import { PlacementBody, WorkloadBody, errors } from './schemas.js';
import { routeSecurity } from './auth.js';
import type { Services } from './services.js';

/** POST /v1/placements: the fewest GPUs, each GPU's flags and adapters, optionally verified by the Twin. */
export async function placementRoutes(app: FastifyInstance, s: Services): Promise<void> {
  takeJsonAsText(app);
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/placements',
    {
      onRequest: s.guards.expensive,
      validatorCompiler: bodyValidatedInWorker,
      schema: {
        operationId: 'place',
        security: routeSecurity.expensive,
        tags: ['placement'],
        summary: 'Place a workload of adapters on GPUs',
        body: WorkloadBody,
        response: { 200: PlacementBody, ...errors(400, 401, 404, 413, 503) },
      },
    },
    async (req, reply) => (await s.placements.place(bodyText(req.body), clientGone(reply))).placement,
  );
}

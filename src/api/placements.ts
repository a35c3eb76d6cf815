import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { PlacementBody, WorkloadBody, errors } from './schemas.js';
import type { Services } from './services.js';

/** POST /v1/placements: the fewest GPUs, each GPU's flags and adapters, optionally verified by the Twin. */
export async function placementRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.withTypeProvider<ZodTypeProvider>().post(
    '/v1/placements',
    { schema: { tags: ['placement'], summary: 'Place a workload of adapters on GPUs', body: WorkloadBody, response: { 200: PlacementBody, ...errors(400, 404, 413) } } },
    async (req) => s.place(req.body),
  );
}

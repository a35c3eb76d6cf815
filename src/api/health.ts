import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { routeSecurity } from './auth.js';
import type { Services } from './services.js';

export const Health = z.object({
  status: z.string(),
  profiles: z.array(z.string()).optional(),
  models: z.array(z.string()).optional(),
  store: z.object({ backend: z.string(), reachable: z.boolean() }).optional(),
});

/** Liveness (the process answers) and readiness (profiles and predictor models are loaded, the state store answers). */
export async function healthRoutes(app: FastifyInstance, s: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/healthz',
    {
      schema: {
        operationId: 'getLiveness',
        security: routeSecurity.open,
        tags: ['operations'],
        summary: 'Liveness: the process answers',
        response: { 200: Health },
      },
    },
    async () => ({ status: 'ok' }),
  );
  const readiness = {
    operationId: 'getReadiness',
    security: routeSecurity.open,
    tags: ['operations'],
    summary: 'Readiness: profiles and predictor models loaded, the state store answering (else 503)',
    response: { 200: Health, 503: Health },
  };
  r.get('/readyz', { schema: readiness }, async (_req, reply) => {
    const profiles = s.profiles.list().map((p) => `${p.model}@${p.gpu}`);
    const models = s.predictors.list().map((p) => `${p.profile.model}@${p.profile.gpu}:${p.version}`);
    const reachable = await s.store.ping().then(
      () => true,
      () => false,
    );
    const ready = profiles.length > 0 && models.length > 0 && reachable;
    return reply.status(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      profiles,
      models,
      store: { backend: s.store.backend, reachable },
    });
  });
}

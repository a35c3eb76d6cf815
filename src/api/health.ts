import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { keyOf } from '../profiles/index.js';
import { routeSecurity } from './auth.js';
import type { Services } from './services.js';

export const Health = z.object({
  status: z.string(),
  profiles: z.array(z.string()).optional(),
  models: z.array(z.string()).optional(),
  store: z
    .object({
      backend: z.string(),
      reachable: z.boolean(),
      state: z
        .enum(['reachable', 'full', 'unreachable'])
        .describe(
          'full: Redis answers reads but refuses writes for memory (PUTs answer 503 LP_ERR_STORE_FULL); the ' +
            'replica stays ready, since lists, autoscale and predictions still work',
        ),
    })
    .optional(),
});

/**
 * Liveness (the process answers) and readiness (profiles and predictor models are loaded, the state store answers).
 * A full store keeps the replica ready: every replica shares it, so taking them all out of the Service would turn
 * refused writes into a total outage, autoscale reads included; /readyz and lora_placer_store_full report it.
 */
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
    summary:
      'Readiness: profiles and predictor models loaded, the state store answering (else 503); store.state tells ' +
      'a full store (still ready) from an unreachable one',
    response: { 200: Health, 503: Health },
  };
  r.get('/readyz', { schema: readiness }, async (_req, reply) => {
    const profiles = s.profiles.keys();
    const models = s.predictors.list().map((p) => `${keyOf(p.profile)}:${p.version}`);
    const state = await s.store.state();
    const reachable = state !== 'unreachable';
    const ready = profiles.length > 0 && models.length > 0 && reachable;
    return reply.status(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not ready',
      profiles,
      models,
      store: { backend: s.store.backend, reachable, state },
    });
  });
}

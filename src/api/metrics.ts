import type { FastifyInstance } from 'fastify';
import type { Services } from './services.js';

/** GET /metrics for Prometheus, and the request-duration histogram every route feeds. */
export async function metricsRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.addHook('onResponse', (req, reply, done) => {
    const route = req.routeOptions.url ?? 'unmatched';
    s.metrics.httpDuration.observe(
      { method: req.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    const text = await s.metrics.registry.metrics();
    return reply.type(s.metrics.registry.contentType).send(text);
  });
}

import type { FastifyInstance } from 'fastify';
import type { ProfileStore } from '../profiles/index.js';

export async function healthRoutes(app: FastifyInstance, opts: { profiles: ProfileStore }): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const profiles = opts.profiles.list().map((p) => `${p.model}@${p.gpu}`);
    if (profiles.length === 0) return reply.status(503).send({ status: 'not ready', profiles });
    return { status: 'ready', profiles };
  });
}

import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ProfileStore } from '../profiles/index.js';
import { isAppError } from '../shared/errors.js';
import { healthRoutes } from './health.js';

export interface AppDeps {
  profiles: ProfileStore;
  logger?: FastifyBaseLogger;
}

/** The HTTP application, separate from the process entry (src/main.ts) so tests can inject requests. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = deps.logger ? Fastify({ loggerInstance: deps.logger }) : Fastify({ logger: false });
  app.setErrorHandler((err, req, reply) => {
    if (isAppError(err)) return reply.status(err.status).send(err.toJSON());
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'LP_ERR_INTERNAL', message: 'internal error' } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ error: { code: 'LP_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url}` } }),
  );
  await app.register(healthRoutes, { profiles: deps.profiles });
  return app;
}

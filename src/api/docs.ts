import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { withExamples } from './examples.js';
import { tidyComponents } from './openapi-tidy.js';

export const apiInfo = {
  title: 'lora-placer',
  version: '0.1.0',
  description:
    'GPUs, adapter placement and vLLM LoRA flags for multi-LoRA serving, backed by a calibrated Digital Twin of ' +
    'vLLM and distilled predictors.',
  license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
};

/**
 * The bearer scheme, and what each operation's `security` says: the routes that need the token under the default
 * AUTH_SCOPE declare `bearer`; the other /v1 routes declare it optional (`{}` or `bearer`: a client that has a token
 * sends it, which AUTH_SCOPE=all needs); health and readiness declare none.
 */
const bearer = {
  type: 'http',
  scheme: 'bearer',
  description: [
    'API_TOKEN, when the service has one (none configured: every route is open).',
    'AUTH_SCOPE=expensive (the default, as each operation declares it): PUT/DELETE pools, starting and cancelling',
    'refreshes, POST /v1/simulate and POST /v1/placements need it.',
    'AUTH_SCOPE=mutating: only PUT/DELETE pools and starting/cancelling refreshes.',
    'AUTH_SCOPE=all: every /v1 route, reads and predictions included (their token is declared optional).',
    '/healthz, /readyz, /metrics and /openapi.json never need it.',
  ].join(' '),
} as const;

/** OpenAPI 3.1 generated from the routes' zod schemas: the spec at /openapi.json, the UI at /docs. */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: apiInfo,
      // relative: the document is served by the service it describes (/openapi.json), so '/' is that service
      servers: [{ url: '/', description: 'the service serving this document' }],
      components: { securitySchemes: { bearer } },
    },
    transform: jsonSchemaTransform,
    transformObject: (document) => {
      const generated = jsonSchemaTransformObject(document) as Record<string, unknown>;
      return tidyComponents(withExamples(generated)) as ReturnType<typeof jsonSchemaTransformObject>;
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

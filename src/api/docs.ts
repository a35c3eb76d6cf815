import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

export const apiInfo = {
  title: 'lora-placer',
  version: '0.1.0',
  description: 'GPUs, adapter placement and vLLM LoRA flags for multi-LoRA serving, backed by a calibrated Digital Twin of vLLM and distilled predictors.',
};

/** OpenAPI 3.1 generated from the routes' zod schemas: the spec at /openapi.json, the UI at /docs. */
export async function docsRoutes(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: apiInfo,
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN, when the service has one: required on the routes that declare it (AUTH_SCOPE=expensive, the default); AUTH_SCOPE=all requires it on every /v1 route, AUTH_SCOPE=mutating only on PUT/DELETE pools and refresh' } } },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

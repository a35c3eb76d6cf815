import { PredictorRegistry } from '../ml/registry.js';
import { embeddedProfiles } from '../profiles/index.js';
import { buildApp } from './app.js';

/** The OpenAPI document of the service as generated from the routes' zod schemas. */
export async function openapiDocument(): Promise<Record<string, unknown>> {
  const app = await buildApp({ profiles: embeddedProfiles(), predictors: new PredictorRegistry([]) });
  try {
    await app.ready();
    return app.swagger() as unknown as Record<string, unknown>;
  } finally {
    await app.close();
  }
}

/** The committed form of the document (openapi/openapi.json). */
export async function openapiText(): Promise<string> {
  return `${JSON.stringify(await openapiDocument(), null, 2)}\n`;
}

// npm run openapi: writes openapi/openapi.json from the routes' zod schemas (a test fails when it drifts).
import { writeFileSync } from 'node:fs';
import { openapiText } from '../src/api/openapi.js';

const file = new URL('../openapi/openapi.json', import.meta.url);
writeFileSync(file, await openapiText());
process.stdout.write(`wrote ${file.pathname}\n`);

import type { z } from 'zod';
import type * as Page from '../../ui/api.js';
import type { AutoscaleBody, PoolBody, PredictionBody, ScenarioBody } from '../schemas.js';

/**
 * Compile-time only (no code): the shapes the browser script declares in src/ui/api.ts, which cannot import
 * the schemas, agree with the routes' zod schemas. Each answer the page reads must be assignable to the shape it
 * declares, and the scenario it POSTs to the body /v1/predict accepts; else `tsc` (npm run build, typecheck)
 * fails here, naming the field.
 */
type Agrees<Given extends Wanted, Wanted> = [Given, Wanted];

export type PageReadsTheApi = [
  Agrees<{ pools: z.output<typeof AutoscaleBody>[] }, Page.PoolsAnswer>,
  Agrees<z.output<typeof PoolBody>, Page.PoolAnswer>,
  Agrees<z.output<typeof PredictionBody>, Page.Prediction>,
  Agrees<Page.Scenario, z.input<typeof ScenarioBody>>,
];

import { z } from 'zod';

const seconds = (what: string) => z.coerce.number().finite().min(0).describe(what);

/** Service configuration: the only place that reads process.env. Parsed once at start. */
export const Config = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MODELS_DIR: z.string().min(1).optional().describe('where refreshed predictors are written and read (predictors/<model>@<gpu>/); unset: the embedded models, refreshes kept in memory'),
  MODELS_RELOAD_S: seconds('how often MODELS_DIR is checked for models another replica refreshed; 0 = only at start').default(30),
  API_TOKEN: z.string().min(8, 'must be at least 8 characters').optional().describe('when set, mutating routes need `Authorization: Bearer <token>`'),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(1024 ** 3).default(8 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  REFRESH_INTERVAL_S: seconds('periodic refresh of every profile\'s predictors; 0 = off').default(0),
  REFRESH_WORKLOADS: z.coerce.number().int().min(50).max(1_000_000).default(8000),
  REFRESH_THREADS: z.coerce.number().int().min(1).max(256).default(1).describe('Twin worker threads for refresh sweeps (leave a core to the HTTP loop)'),
  REFRESH_SEED: z.coerce.number().int().min(0).max(2 ** 32 - 1).default(1),
  POOL_STALE_S: seconds('a pool plan whose workload was not updated for this long is stale (autoscale answers 503)').default(900),
  VERIFY_THREADS: z.coerce.number().int().min(1).max(256).default(1).describe('Twin worker threads for /v1/simulate and verified placements'),
});
export type Config = z.infer<typeof Config>;

/** Parses the environment or throws one message naming every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = Config.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  return parsed.data;
}

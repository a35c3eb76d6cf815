import { pathToFileURL } from 'node:url';
import { buildApp } from './api/app.js';
import { loadConfig, type Config } from './config.js';
import { TwinPool } from './jobs/simulate-pool.js';
import { PredictorRegistry } from './ml/registry.js';
import { createLogger } from './obs/logger.js';
import { embeddedProfiles } from './profiles/index.js';

/**
 * Starts the service: config from the environment (bad config: exit 1), the embedded profiles, the
 * predictors of MODELS_DIR where it has them and the embedded ones otherwise, graceful shutdown.
 */
export async function startServer(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`lora-placer: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const logger = createLogger(config.LOG_LEVEL);
  const profiles = embeddedProfiles();
  const predictors = PredictorRegistry.fromDirectory(profiles);
  const app = await buildApp({
    profiles,
    predictors,
    logger,
    twin: new TwinPool(config.VERIFY_THREADS, { threadsOnly: true }),
    refresh: { modelsDir: config.MODELS_DIR ?? null, workloads: config.REFRESH_WORKLOADS, threads: config.REFRESH_THREADS, seed: config.REFRESH_SEED },
    ...(config.API_TOKEN ? { apiToken: config.API_TOKEN } : {}),
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    poolStaleS: config.POOL_STALE_S,
    refreshIntervalS: config.REFRESH_INTERVAL_S,
    ...(config.MODELS_DIR ? { modelsSync: { dir: config.MODELS_DIR, intervalS: config.MODELS_RELOAD_S } } : {}),
    checkResponses: false,
  });
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down: no new connections, finishing requests in flight, stopping the refresh');
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ port: config.PORT, host: config.HOST });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await startServer();
}

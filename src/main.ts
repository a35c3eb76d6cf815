import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { pino } from 'pino';
import { buildApp } from './api/app.js';
import { loadConfig } from './config.js';
import { ProfileStore, defaultProfilesDir } from './profiles/index.js';

/** Starts the service: config from the environment, embedded profiles, graceful shutdown on SIGTERM/SIGINT. */
export async function startServer(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    process.stderr.write(`lora-placer: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const logger = pino({ level: config.LOG_LEVEL });
  const profilesDir = config.MODELS_DIR ? join(config.MODELS_DIR, 'profiles') : defaultProfilesDir;
  const app = await buildApp({ profiles: ProfileStore.fromDirectory(profilesDir), logger });
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  await app.listen({ port: config.PORT, host: config.HOST });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await startServer();
}

import { pathToFileURL } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import { buildApp } from './api/app.js';
import { loadConfig, workLimitsOf, type Config } from './config.js';
import { ThreadBackend } from './jobs/work-queue.js';
import { PredictorRegistry } from './ml/registry.js';
import { readSecretFile } from './observe/prometheus-auth.js';
import { createLogger } from './obs/logger.js';
import { profilesWith, type ProfileStore } from './profiles/index.js';
import type { RedisPoolStore } from './store/redis-store.js';
import type { SweepQueueAddress } from './training/sweep-queue.js';
import type { SweepQueueWorker } from './training/sweep-queue-worker.js';

/** Loopback addresses: a service bound to one of them is reachable from this machine only. */
const loopback = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

function fail(message: string): never {
  process.stderr.write(`lora-placer: ${message}\n`);
  process.exit(1);
}

/**
 * Starts the service: config from the environment (bad config: exit 1), the embedded profiles and those of
 * PROFILES_DIR, the predictors of MODELS_DIR where it has them and the embedded ones otherwise (a profile
 * without any is answered by the Twin), graceful shutdown within SHUTDOWN_TIMEOUT_MS.
 */
export async function startServer(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    fail((err as Error).message);
  }
  // a secret file that cannot be read now is a deployment mistake: said at start, not at the first read
  await prometheusCredentials(config).catch((err: unknown) => fail(`invalid configuration: ${(err as Error).message}`));
  const logger = createLogger(config.LOG_LEVEL);
  let profiles: ProfileStore;
  try {
    // a profile directory that cannot be read, or a malformed profile in it, is a deployment mistake
    profiles = profilesWith(config.PROFILES_DIR);
  } catch (err) {
    fail(`PROFILES_DIR: ${(err as Error).message}`);
  }
  const predictors = PredictorRegistry.fromDirectory(profiles);
  const store = config.REDIS_URL ? await redisStore(config.REDIS_URL, config.REDIS_KEY_PREFIX, logger) : undefined;
  const app = await buildApp({
    profiles,
    predictors,
    logger,
    work: new ThreadBackend(config.VERIFY_THREADS),
    workQueue: { maxQueued: config.WORK_QUEUE_MAX, timeoutMs: config.TASK_TIMEOUT_MS },
    limits: workLimitsOf(config),
    refresh: {
      modelsDir: config.MODELS_DIR ?? null,
      workloads: config.REFRESH_WORKLOADS,
      maxWorkloads: config.REFRESH_MAX_WORKLOADS,
      threads: config.REFRESH_THREADS,
      ...(config.REFRESH_SWEEPS === 'queue' && config.REDIS_URL ? { sweepQueue: sweepQueueOf(config) } : {}),
      seed: config.REFRESH_SEED,
    },
    ...(config.API_TOKEN ? { apiToken: config.API_TOKEN } : {}),
    authScope: config.AUTH_SCOPE,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    predictBodyLimitBytes: config.PREDICT_BODY_LIMIT_BYTES,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: config.HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: config.KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: config.MAX_CONNECTIONS,
    poolStaleS: config.POOL_STALE_S,
    maxPools: config.MAX_POOLS,
    ...(store ? { store } : {}),
    ...(config.PROMETHEUS_URL
      ? {
          prometheus: {
            url: config.PROMETHEUS_URL,
            timeoutMs: config.PROMETHEUS_TIMEOUT_MS,
            maxBytes: config.PROMETHEUS_MAX_BYTES,
            ...(config.PROMETHEUS_BEARER_TOKEN_FILE ? { bearerTokenFile: config.PROMETHEUS_BEARER_TOKEN_FILE } : {}),
            ...(config.PROMETHEUS_BASIC_AUTH_PASSWORD_FILE
              ? { basicAuthPasswordFile: config.PROMETHEUS_BASIC_AUTH_PASSWORD_FILE }
              : {}),
          },
        }
      : {}),
    refreshIntervalS: config.REFRESH_INTERVAL_S,
    ...(config.MODELS_DIR ? { modelsSync: { dir: config.MODELS_DIR, intervalS: config.MODELS_RELOAD_S } } : {}),
    checkResponses: config.CHECK_RESPONSES === '1',
  });
  const sweepWorker = config.SWEEP_WORKER === '1' ? await startSweepWorker(config, logger) : null;
  warnIfOpen(config, logger);
  if (config.REDIS_URL && !config.MODELS_DIR) {
    logger.warn(
      'REDIS_URL without MODELS_DIR: a refresh swaps the model on one replica only, and the others then see its ' +
        'pools as stale (computed with a model they do not serve); set MODELS_DIR to a volume the replicas share',
    );
  }
  const shutdown = (signal: string): void => {
    logger.info(
      { signal, deadlineMs: config.SHUTDOWN_TIMEOUT_MS },
      'shutting down: no new connections, finishing requests in flight, stopping the refresh',
    );
    setTimeout(() => {
      logger.error(
        { deadlineMs: config.SHUTDOWN_TIMEOUT_MS },
        'shutdown deadline passed with work still running: exiting',
      );
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS).unref();
    Promise.all([app.close(), sweepWorker?.close()]).then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  try {
    await app.listen({ port: config.PORT, host: config.HOST });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? 'the port is already in use'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EADDRNOTAVAIL'
            ? 'no such address on this machine'
            : (err as Error).message;
    fail(`cannot listen on ${config.HOST}:${config.PORT}: ${why} (set PORT / HOST)`);
  }
}

/** Reads the Prometheus credential files once (each query reads them again). */
async function prometheusCredentials(config: Config): Promise<void> {
  if (config.PROMETHEUS_BEARER_TOKEN_FILE)
    await readSecretFile(config.PROMETHEUS_BEARER_TOKEN_FILE, 'PROMETHEUS_BEARER_TOKEN_FILE', 'token');
  if (config.PROMETHEUS_BASIC_AUTH_PASSWORD_FILE)
    await readSecretFile(config.PROMETHEUS_BASIC_AUTH_PASSWORD_FILE, 'PROMETHEUS_BASIC_AUTH_PASSWORD_FILE', 'password');
}

/**
 * Redis as the state store; connection problems are logged at most every 10 s (ioredis reconnects by itself).
 * ioredis loads only when REDIS_URL is set.
 */
async function redisStore(url: string, keyPrefix: string, logger: FastifyBaseLogger): Promise<RedisPoolStore> {
  const { RedisPoolStore } = await import('./store/redis-store.js');
  let lastLogged = 0;
  return new RedisPoolStore({
    url,
    keyPrefix,
    onError: (err) => {
      if (Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      logger.warn(
        { err: { message: err.message } },
        'state store (REDIS_URL) unreachable: pool routes answer 503 until it is back',
      );
    },
  });
}

/** Where the sweep queue is: REDIS_URL, under REDIS_KEY_PREFIX (as `lora-placer worker` and `train --queue`). */
function sweepQueueOf(config: Config): SweepQueueAddress {
  return { url: config.REDIS_URL!, keyPrefix: config.REDIS_KEY_PREFIX };
}

/**
 * SWEEP_WORKER=1: this replica takes sweep jobs too, on SWEEP_WORKER_THREADS threads of its own (the HTTP
 * loop only renews their locks). The queue library loads only then.
 */
async function startSweepWorker(config: Config, logger: FastifyBaseLogger): Promise<SweepQueueWorker> {
  const { SweepQueueWorker } = await import('./training/sweep-queue-worker.js');
  let lastLogged = 0;
  const worker = new SweepQueueWorker({
    address: sweepQueueOf(config),
    threads: config.SWEEP_WORKER_THREADS,
    onJob: (r) => {
      if (r.error === null) logger.debug({ job: r.id, what: r.what, ms: r.ms }, 'sweep job done');
      else logger.warn({ job: r.id, what: r.what, final: r.final, error: r.error }, 'sweep job failed');
    },
    onError: (err) => {
      if (Date.now() - lastLogged < 10_000) return;
      lastLogged = Date.now();
      logger.warn(
        { err: { message: err.message } },
        'sweep queue (REDIS_URL) unreachable: no sweep jobs taken meanwhile',
      );
    },
  });
  logger.info({ worker: worker.name, threads: config.SWEEP_WORKER_THREADS }, 'taking sweep jobs (SWEEP_WORKER=1)');
  return worker;
}

function warnIfOpen(config: Config, logger: FastifyBaseLogger): void {
  if (config.API_TOKEN || loopback.test(config.HOST)) return;
  logger.warn(
    { host: config.HOST, port: config.PORT },
    'API_TOKEN is not set and the service listens beyond loopback: anyone who can reach it may change pools, ' +
      'start refreshes and run simulations; set API_TOKEN',
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await startServer();
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostname } from 'node:os';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { ModelsDirSync } from '../jobs/models-sync.js';
import { predictorRefs } from '../jobs/predictor-refs.js';
import { RefreshManager } from '../jobs/refresh.js';
import { ThreadBackend, WorkQueue, type WorkBackend } from '../jobs/work-queue.js';
import type { Predictor } from '../ml/predictor.js';
import type { PredictorRegistry } from '../ml/registry.js';
import { ManifestCache } from '../manifests/manifest-cache.js';
import { AnswerSlots, type AnswerSlotsOptions } from './answer-slots.js';
import { Metrics } from '../obs/metrics.js';
import type { ParsedWorkload, Placement } from '../placement/index.js';
import { tensorParallelSizeOf, type ProfileStore } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { PoolObserver } from '../observe/pool-observer.js';
import type { PrometheusOptions } from '../observe/prometheus-query.js';
import { MemoryPoolStore } from '../store/memory-store.js';
import type { PoolStore } from '../store/pool-store.js';
import { defaultWorkLimits, type WorkLimits } from '../shared/work-limits.js';
import { authGuards, type AuthScope } from './auth.js';
import { capConnections } from './connections.js';
import { docsRoutes } from './docs.js';
import { clientErrorHandler, installErrorHandler, frameworkErrors } from './error-handler.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { modelRoutes } from './models.js';
import { PlacementService } from './placement-service.js';
import { placementRoutes } from './placements.js';
import { PoolPlans } from './pool-plans.js';
import { poolRoutes } from './pools.js';
import { predictRoutes } from './predict.js';
import type { Services } from './services.js';
import { simulateRoutes } from './simulate.js';
import { uiRoutes } from './ui.js';

export interface AppDeps {
  profiles: ProfileStore;
  predictors: PredictorRegistry;
  logger?: FastifyBaseLogger;
  /** where simulations and placements run (default: one worker thread) */
  work?: WorkBackend;
  /** admission control of that work (default: 16 waiting, 60 s deadline) */
  workQueue?: { maxQueued: number; timeoutMs: number };
  /** what one request may ask for (default: defaultWorkLimits) */
  limits?: WorkLimits;
  /** background refresh (default: in memory, 8,000 workloads, one thread) */
  refresh?: Omit<ConstructorParameters<typeof RefreshManager>[0], 'predictors' | 'onReplaced' | 'onFinished'>;
  apiToken?: string;
  authScope?: AuthScope;
  bodyLimitBytes?: number;
  predictBodyLimitBytes?: number;
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxConnections?: number;
  poolStaleS?: number;
  /** most pools kept (default 256) */
  maxPools?: number;
  /** where pools, plans and refresh jobs live (default: this process's memory); closed with the app */
  store?: PoolStore;
  /** this replica's name on the store's leases (default: the host name and a random suffix) */
  replicaId?: string;
  /** PROMETHEUS_URL: where observed pools' traffic is read (unset: PUT .../source answers 503) */
  prometheus?: PrometheusOptions;
  /**
   * Check every response against its zod schema (default true; tests keep it on). The service turns it
   * off: handler output is already typed by the same schemas, and re-validating costs about 15 % of the
   * CPU of a /v1/predict request.
   */
  checkResponses?: boolean;
  /** MODELS_DIR: its predictors replace the embedded ones at start and are re-read every `intervalS` */
  modelsSync?: { dir: string; intervalS: number };
  /** periodic refresh of every served model (0 or unset: on demand only) */
  refreshIntervalS?: number;
  /**
   * bytes of rendered manifest templates kept, one per pool and format (default 128 MiB: both formats of a
   * 100,000-adapter plan)
   */
  manifestCacheBytes?: number;
  /** how many manifests answers are written at once, and how the others wait (defaultManifestAnswers) */
  manifestAnswers?: Partial<AnswerSlotsOptions>;
  now?: () => number;
}

export const defaultManifestCacheBytes = 128 * 1024 * 1024;

/**
 * Two manifests answers written at once, 64 waiting at most 30 s each, a minute to read one: an operator or a CI
 * job asks a plan's manifests now and then; a crowd of them takes turns instead of crowding out /healthz.
 */
export const defaultManifestAnswers: AnswerSlotsOptions = {
  size: 2,
  maxWaiting: 64,
  maxWaitMs: 30_000,
  maxAnswerMs: 60_000,
  what: 'manifests answers',
};

/** A client's x-request-id is kept only in this form (it is echoed and logged); otherwise one is made. */
const safeRequestId = /^[A-Za-z0-9._:-]{1,128}$/;

function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && safeRequestId.test(given) ? given : randomUUID();
}

/** The HTTP application, separate from the process entry (src/main.ts) so tests can inject requests. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const requestTimeout = deps.requestTimeoutMs ?? 30_000;
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: deps.bodyLimitBytes ?? 8 * 1024 * 1024,
    requestTimeout,
    keepAliveTimeout: deps.keepAliveTimeoutMs ?? 5000,
    // checked every second (Node's default is 30 s), so a stalled body is cut close to the timeout
    http: {
      headersTimeout: Math.min(deps.headersTimeoutMs ?? 10_000, requestTimeout),
      requestTimeout,
      connectionsCheckingInterval: 1000,
      maxHeaderSize: 16 * 1024,
    },
    requestIdHeader: false,
    genReqId: requestId,
    clientErrorHandler,
    frameworkErrors,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(deps.checkResponses === false ? () => (data) => JSON.stringify(data) : serializerCompiler);
  installErrorHandler(app);
  capConnections(app.server, deps.maxConnections ?? 2048);

  const s = services(deps, app.log);
  // callback-style hooks on the hot path: no promise per request
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    // Fastify does not decode compressed bodies: a compressed body would be read as garbage
    const encoding = req.headers['content-encoding'];
    if (encoding !== undefined && encoding !== 'identity' && (req.method === 'POST' || req.method === 'PUT')) {
      done(new AppError('unsupportedMediaType', 'content-encoding is not supported: send the body uncompressed'));
      return;
    }
    done();
  });
  const sync = deps.modelsSync
    ? new ModelsDirSync({
        dir: deps.modelsSync.dir,
        predictors: deps.predictors,
        profiles: deps.profiles,
        onSwap: (p) => {
          app.log.info(
            { model: p.profile.model, gpu: p.profile.gpu, version: p.version },
            'model swapped in from MODELS_DIR',
          );
          s.modelSwapped(p);
        },
        onError: (err, dir) => {
          s.metrics.modelsDirErrors.inc();
          app.log.warn(
            { err: { message: err.message }, dir },
            'MODELS_DIR: predictor bundle not loaded; the served models stay',
          );
        },
      })
    : null;
  sync?.syncOnce();
  app.addHook('onReady', async () => {
    s.refresh.schedule(deps.refreshIntervalS ?? 0);
    s.observer.start();
    sync?.start(deps.modelsSync!.intervalS);
  });
  app.addHook('onClose', async () => {
    sync?.stop();
    await s.observer.stop();
    s.pools.close();
    await s.refresh.close();
    await s.work.close();
    await s.store.close();
  });
  // root-level on purpose: swagger must see every route, the metrics hook must time every request
  await docsRoutes(app);
  await metricsRoutes(app, s);
  await app.register(healthRoutes, s);
  await app.register(predictRoutes, s);
  await app.register(simulateRoutes, s);
  await app.register(placementRoutes, s);
  await app.register(modelRoutes, s);
  await app.register(poolRoutes, s);
  await app.register(uiRoutes);
  return app;
}

function services(deps: AppDeps, log: FastifyBaseLogger): Services {
  const now = deps.now ?? Date.now;
  const predictors = deps.predictors;
  const limits = deps.limits ?? defaultWorkLimits;
  const store = deps.store ?? new MemoryPoolStore(now);
  store.watchBadRecords((r) =>
    log.warn(
      { record: r.kind, [r.kind === 'job' ? 'id' : 'pool']: r.key, reason: r.reason },
      r.kind === 'job'
        ? 'state store: a malformed refresh job record is left out of the job list'
        : `state store: the ${r.kind} record of a pool is malformed: the pool is left out of ` +
            (r.kind === 'summary' ? 'lists, gauges and the observer' : 'reads by name (500)') +
            ' until a PUT rewrites it',
    ),
  );
  // the metrics read the pools, the refresh and the queue when scraped; all are made below
  let refresh: RefreshManager | null = null;
  let pools: PoolPlans | null = null;
  let work: WorkQueue | null = null;
  const metrics = new Metrics(
    {
      models: () => predictors.list().map((p) => p.bundle.metadata),
      refreshRunning: () => refresh?.isRunning() ?? false,
      pools: async () =>
        pools
          ? (await pools.list()).map((p) => ({ pool: p.pool, desiredReplicas: p.gpuCount, stale: pools!.isStale(p) }))
          : [],
      storeState: () => store.state(),
      storeBadRecords: () => store.badRecords(),
      work: () => work?.stats() ?? { running: 0, queued: 0 },
      manifestCacheBytes: () => manifests.bytes,
    },
    now,
  );
  const manifests = new ManifestCache(deps.manifestCacheBytes ?? defaultManifestCacheBytes, (format) =>
    metrics.manifestRenders.inc({ format }),
  );
  work = new WorkQueue(deps.work ?? new ThreadBackend(1), {
    maxQueued: deps.workQueue?.maxQueued ?? 16,
    timeoutMs: deps.workQueue?.timeoutMs ?? 60_000,
    onRejected: (kind, reason) => metrics.workRejected.inc({ kind, reason }),
  });
  const queue = work;
  const placements = new PlacementService({
    queue,
    metrics,
    limits,
    predictorRefs: () => predictorRefs(predictors),
    profileDirs: deps.profiles.dirs,
  });
  const replicaId = deps.replicaId ?? `${hostname()}:${randomUUID().slice(0, 8)}`;
  const replanFailed = (pool: string, error: Error): void => {
    metrics.storeErrors.inc();
    log.error(
      { pool, err: { message: error.message } },
      'pool not re-planned after a model swap (it is stale until its next PUT or swap)',
    );
  };
  pools = new PoolPlans({
    store,
    predictors,
    placeFn: async (w: ParsedWorkload, current: Placement) => (await placements.place(w, undefined, current)).placement,
    onPlanned: (pool, placement) => metrics.countMoves(pool, placement),
    onForgotten: (pool) => metrics.forgetPool(pool),
    onReplanFailed: (pool, error) => replanFailed(pool, error),
    staleS: deps.poolStaleS ?? 900,
    maxPools: deps.maxPools ?? 256,
    replicaId,
    now,
  });
  const plans = pools;
  const modelSwapped = (p: Predictor): void => {
    plans.recompute(p.profile.model, p.profile.gpu, tensorParallelSizeOf(p.profile)).then(
      (failed) => {
        for (const { pool, error } of failed) replanFailed(pool, error);
      },
      (err: unknown) => {
        metrics.storeErrors.inc();
        log.error({ err }, 'pool plans not recomputed after a model swap');
      },
    );
  };
  const observer = new PoolObserver({
    store,
    prometheus: deps.prometheus ?? null,
    place: (json, current) => placements.place(json, undefined, current),
    onPlanned: (pool, placement) => metrics.countMoves(pool, placement),
    onDropped: (pool, dropped) => metrics.countDropped(pool, dropped),
    servedVersion: (model, gpu, tensorParallelSize) => predictors.servedVersion(model, gpu, tensorParallelSize),
    replicaId,
    maxPools: deps.maxPools ?? 256,
    staleS: deps.poolStaleS ?? 900,
    now,
    onFailure: (pool, err) => {
      metrics.countObserveError(pool);
      log.warn(
        { pool, err: { message: err.message } },
        'pool traffic not observed; the last plan stays (stale after POOL_STALE_S)',
      );
    },
  });
  refresh = new RefreshManager({
    modelsDir: null,
    workloads: 8000,
    maxWorkloads: 20_000,
    threads: 1,
    seed: 1,
    profileDirs: deps.profiles.dirs,
    ...deps.refresh,
    predictors,
    now,
    store,
    replicaId,
    onStoreError: (err) => {
      metrics.storeErrors.inc();
      log.warn({ err }, 'refresh job record not written to the state store; the refresh goes on');
    },
    onReplaced: modelSwapped,
    onFinished: (job) => {
      if (job.durationS !== null) metrics.refreshDuration.observe({ outcome: job.state }, job.durationS);
      if (job.state === 'failed') metrics.refreshFailures.inc();
    },
  });
  return {
    profiles: deps.profiles,
    predictors,
    work: queue,
    metrics,
    pools: plans,
    observer,
    store,
    refresh,
    guards: authGuards(deps.apiToken, deps.authScope),
    limits: { work: limits, predictBodyBytes: deps.predictBodyLimitBytes ?? 1024 * 1024 },
    placements,
    manifests,
    manifestAnswers: new AnswerSlots({ ...defaultManifestAnswers, ...deps.manifestAnswers }),
    modelSwapped,
    now,
  };
}

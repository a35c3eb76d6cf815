import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { ModelsDirSync } from '../jobs/models-sync.js';
import { RefreshManager } from '../jobs/refresh.js';
import { TwinPool } from '../jobs/simulate-pool.js';
import type { Predictor } from '../ml/predictor.js';
import type { PredictorRegistry } from '../ml/registry.js';
import { Metrics } from '../obs/metrics.js';
import { place, type ParsedWorkload } from '../placement/index.js';
import type { ProfileStore } from '../profiles/index.js';
import { requireToken } from './auth.js';
import { docsRoutes } from './docs.js';
import { installErrorHandler } from './error-handler.js';
import { healthRoutes } from './health.js';
import { metricsRoutes } from './metrics.js';
import { modelRoutes } from './models.js';
import { placementRoutes } from './placements.js';
import { PoolPlans } from './pool-plans.js';
import { poolRoutes } from './pools.js';
import { predictRoutes } from './predict.js';
import type { Services, TwinRunner } from './services.js';

export interface AppDeps {
  profiles: ProfileStore;
  predictors: PredictorRegistry;
  logger?: FastifyBaseLogger;
  /** Twin runner (default: one worker thread) */
  twin?: TwinRunner;
  /** background refresh (default: in memory, 8,000 workloads, one thread) */
  refresh?: Omit<ConstructorParameters<typeof RefreshManager>[0], 'predictors' | 'onReplaced' | 'onFinished'>;
  apiToken?: string;
  bodyLimitBytes?: number;
  requestTimeoutMs?: number;
  poolStaleS?: number;
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
  now?: () => number;
}

/** The HTTP application, separate from the process entry (src/main.ts) so tests can inject requests. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: deps.bodyLimitBytes ?? 8 * 1024 * 1024,
    requestTimeout: deps.requestTimeoutMs ?? 120_000,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(deps.checkResponses === false ? () => (data) => JSON.stringify(data) : serializerCompiler);
  installErrorHandler(app);

  const s = services(deps, app.log);
  // callback-style hooks on the hot path: no promise per request
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    done();
  });
  const sync = deps.modelsSync
    ? new ModelsDirSync({
        dir: deps.modelsSync.dir,
        predictors: deps.predictors,
        profiles: deps.profiles,
        onSwap: (p) => {
          app.log.info({ model: p.profile.model, gpu: p.profile.gpu, version: p.version }, 'model swapped in from MODELS_DIR');
          s.modelSwapped(p);
        },
        onError: (err, dir) => app.log.warn({ err, dir }, 'predictor bundle in MODELS_DIR not loaded'),
      })
    : null;
  sync?.syncOnce();
  app.addHook('onReady', async () => {
    s.refresh.schedule(deps.refreshIntervalS ?? 0);
    sync?.start(deps.modelsSync!.intervalS);
  });
  app.addHook('onClose', async () => {
    sync?.stop();
    await s.refresh.close();
    await s.twin.destroy();
  });
  // root-level on purpose: swagger must see every route, the metrics hook must time every request
  await docsRoutes(app);
  await metricsRoutes(app, s);
  await app.register(healthRoutes, s);
  await app.register(predictRoutes, s);
  await app.register(placementRoutes, s);
  await app.register(modelRoutes, s);
  await app.register(poolRoutes, s);
  return app;
}

function services(deps: AppDeps, log: FastifyBaseLogger): Services {
  const now = deps.now ?? Date.now;
  const predictors = deps.predictors;
  // the metrics read the pools and the refresh when scraped; both are made below
  let refresh: RefreshManager | null = null;
  let pools: PoolPlans | null = null;
  const metrics = new Metrics(
    {
      models: () => predictors.list().map((p) => p.bundle.metadata),
      refreshRunning: () => refresh?.isRunning() ?? false,
      pools: () => pools?.list().map((p) => ({ pool: p.pool, desiredReplicas: p.placement.gpuCount, stale: pools!.isStale(p) })) ?? [],
    },
    now,
  );
  const twin = deps.twin ?? new TwinPool(1, { threadsOnly: true });
  const placeWorkload = async (w: ParsedWorkload) => {
    const end = metrics.placementDuration.startTimer({ verified: String(w.verify) });
    const answer = await place(w, predictors.get(w.model, w.gpu), { simulate: (sc) => twin.run(sc), parallel: twin.workers ?? 1 });
    end();
    metrics.placements.inc({ objective: w.objective, verified: String(w.verify) });
    return answer;
  };
  pools = new PoolPlans(predictors, placeWorkload, deps.poolStaleS ?? 900, now);
  const plans = pools;
  const modelSwapped = (p: Predictor): void => {
    plans.recompute(p.profile.model, p.profile.gpu).catch((err: unknown) => log.error({ err }, 'pool plans not recomputed after a model swap'));
  };
  refresh = new RefreshManager({
    modelsDir: null,
    workloads: 8000,
    threads: 1,
    seed: 1,
    ...deps.refresh,
    predictors,
    now,
    onReplaced: modelSwapped,
    onFinished: (job) => {
      if (job.durationS !== null) metrics.refreshDuration.observe({ outcome: job.state }, job.durationS);
      if (job.state === 'failed') metrics.refreshFailures.inc();
    },
  });
  return { profiles: deps.profiles, predictors, twin, metrics, pools: plans, refresh, guard: requireToken(deps.apiToken), place: placeWorkload, modelSwapped, now };
}

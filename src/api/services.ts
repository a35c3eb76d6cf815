import type { RefreshManager } from '../jobs/refresh.js';
import type { WorkQueue } from '../jobs/work-queue.js';
import type { Predictor } from '../ml/predictor.js';
import type { PredictorRegistry } from '../ml/registry.js';
import type { ManifestCache } from '../manifests/manifest-cache.js';
import type { Metrics } from '../obs/metrics.js';
import type { ProfileStore } from '../profiles/index.js';
import type { WorkLimits } from '../shared/work-limits.js';
import type { PoolObserver } from '../observe/pool-observer.js';
import type { PoolStore } from '../store/pool-store.js';
import type { AnswerSlots } from './answer-slots.js';
import type { AuthGuards } from './auth.js';
import type { PlacementService } from './placement-service.js';
import type { PoolPlans } from './pool-plans.js';

/** What one request may ask for (configuration; see docs/service.md "Limits"). */
export interface ServiceLimits {
  work: WorkLimits;
  /** /v1/predict runs on the HTTP thread: its body limit is lower than the others' */
  predictBodyBytes: number;
}

/** What the route plugins use; built once by buildApp. */
export interface Services {
  profiles: ProfileStore;
  predictors: PredictorRegistry;
  /** simulations and placements, off the HTTP thread, with admission control */
  work: WorkQueue;
  metrics: Metrics;
  pools: PoolPlans;
  /** reads observed pools' traffic from Prometheus and re-plans them */
  observer: PoolObserver;
  /** the state store behind the pools and refresh jobs (memory or Redis) */
  store: PoolStore;
  refresh: RefreshManager;
  /** onRequest hooks of the route classes (API_TOKEN, AUTH_SCOPE) */
  guards: AuthGuards;
  limits: ServiceLimits;
  /** placements on the work queue with the served predictors (POST /v1/placements, pools, re-plans) */
  placements: PlacementService;
  /** rendered manifest templates of the pools' plans, by revision (GET /v1/pools/{pool}/manifests) */
  manifests: ManifestCache;
  /** manifests answers written at once (the others wait their turn) */
  manifestAnswers: AnswerSlots;
  /** re-plans the pools of a model whose predictor was just swapped in (refresh, MODELS_DIR) */
  modelSwapped(p: Predictor): void;
  now(): number;
}

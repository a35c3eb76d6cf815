import type { onRequestHookHandler } from 'fastify';
import type { RefreshManager } from '../jobs/refresh.js';
import type { Predictor } from '../ml/predictor.js';
import type { PredictorRegistry } from '../ml/registry.js';
import type { Metrics } from '../obs/metrics.js';
import type { ParsedWorkload, Placement } from '../placement/index.js';
import type { ProfileStore } from '../profiles/index.js';
import type { ParsedScenario, SimulationResult } from '../twin/index.js';
import type { PoolPlans } from './pool-plans.js';

/** Runs Twin simulations off the event loop (a worker-thread pool in the service). */
export interface TwinRunner {
  run(scenarios: ParsedScenario[]): Promise<SimulationResult[]>;
  destroy(): Promise<void>;
  /** scenarios it simulates at once (default 1) */
  readonly workers?: number;
}

/** What the route plugins use; built once by buildApp. */
export interface Services {
  profiles: ProfileStore;
  predictors: PredictorRegistry;
  twin: TwinRunner;
  metrics: Metrics;
  pools: PoolPlans;
  refresh: RefreshManager;
  /** onRequest hook of the state-changing routes (API_TOKEN) */
  guard: onRequestHookHandler;
  /** places a workload with the served predictor, verification on the Twin pool, counted in metrics */
  place(workload: ParsedWorkload): Promise<Placement>;
  /** re-plans the pools of a model whose predictor was just swapped in (refresh, MODELS_DIR) */
  modelSwapped(p: Predictor): void;
  now(): number;
}

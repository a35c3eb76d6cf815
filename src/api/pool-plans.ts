import type { PredictorRegistry } from '../ml/registry.js';
import type { Placement, ParsedWorkload } from '../placement/index.js';
import { AppError } from '../shared/errors.js';

/** A pool's workload as last PUT and the placement computed for it. */
export interface PoolPlan {
  pool: string;
  workload: ParsedWorkload;
  placement: Placement;
  /** when the workload was last PUT: a plan whose workload is not kept up to date goes stale */
  updatedAt: number;
  /** when the placement was computed (a model swap recomputes it) */
  computedAt: number;
}

export type PlaceFn = (w: ParsedWorkload) => Promise<Placement>;

/** What an autoscaler reads (KEDA metrics-api JSON). */
export interface AutoscaleAnswer {
  pool: string;
  desiredReplicas: number;
  lowerBoundReplicas: number;
  computedAt: string;
  stale: boolean;
  modelVersion: string;
}

/**
 * The pools the service plans for, kept in memory (a restart forgets them: the controller that PUTs a
 * pool's workload re-PUTs it). A plan is stale when its workload was not updated for `staleS` seconds
 * or it was computed with a model that is no longer served.
 */
export class PoolPlans {
  private readonly plans = new Map<string, PoolPlan>();

  constructor(
    private readonly predictors: PredictorRegistry,
    private readonly placeFn: PlaceFn,
    private readonly staleS: number,
    private readonly now: () => number = Date.now,
    /** most pools kept (MAX_POOLS): each holds a workload and its plan in memory */
    private readonly maxPools = 256,
  ) {}

  /** Refuses (409) a new pool once MAX_POOLS are kept; checked before its placement is computed. */
  assertRoomFor(pool: string): void {
    if (this.plans.has(pool) || this.plans.size < this.maxPools) return;
    throw new AppError('conflict', `the service keeps ${this.maxPools} pools, the most MAX_POOLS allows; delete one first`, { limit: 'MAX_POOLS', allowed: this.maxPools });
  }

  /** Stores a pool's workload with the placement just computed for it. */
  put(pool: string, workload: ParsedWorkload, placement: Placement): PoolPlan {
    const t = this.now();
    const plan: PoolPlan = { pool, workload, placement, updatedAt: t, computedAt: t };
    this.plans.set(pool, plan);
    return plan;
  }

  get(pool: string): PoolPlan {
    const plan = this.plans.get(pool);
    if (!plan) throw new AppError('notFound', `no pool "${pool}" (PUT /v1/pools/${pool} first)`, { pool });
    return plan;
  }

  list(): PoolPlan[] {
    return [...this.plans.values()];
  }

  delete(pool: string): void {
    this.get(pool);
    this.plans.delete(pool);
  }

  isStale(plan: PoolPlan): boolean {
    const served = this.predictors.get(plan.workload.model, plan.workload.gpu).version;
    return plan.placement.modelVersion !== served || (this.staleS > 0 && this.now() - plan.updatedAt > this.staleS * 1000);
  }

  autoscale(pool: string): AutoscaleAnswer {
    const plan = this.get(pool);
    const stale = this.isStale(plan);
    return {
      pool,
      desiredReplicas: plan.placement.gpuCount,
      lowerBoundReplicas: plan.placement.lowerBound,
      computedAt: new Date(plan.computedAt).toISOString(),
      stale,
      modelVersion: plan.placement.modelVersion,
    };
  }

  /** Re-places every pool of a model@gpu after its predictor was swapped (keeps updatedAt). */
  async recompute(model: string, gpu: string): Promise<void> {
    for (const plan of this.list()) {
      if (plan.workload.model !== model || plan.workload.gpu !== gpu) continue;
      plan.placement = await this.placeFn(plan.workload);
      plan.computedAt = this.now();
    }
  }
}

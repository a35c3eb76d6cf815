import type { PredictorRegistry } from '../ml/registry.js';
import type { Placement, ParsedWorkload } from '../placement/index.js';
import { AppError } from '../shared/errors.js';
import {
  planToReplace,
  summaryOf,
  withLease,
  type PlanSummary,
  type PoolStore,
  type StoredPlan,
} from '../store/pool-store.js';

/** A pool's workload as last PUT and the placement computed for it. */
export type PoolPlan = StoredPlan;

/** Places a pool's workload, re-planning from its current placement (few moves) when it has one. */
export type PlaceFn = (w: ParsedWorkload, current: Placement) => Promise<Placement>;

/** What an autoscaler reads (KEDA metrics-api JSON). */
export interface AutoscaleAnswer {
  pool: string;
  desiredReplicas: number;
  lowerBoundReplicas: number;
  /** GPUs per replica (server) when above 1 */
  gpusPerReplica?: number;
  computedAt: string;
  stale: boolean;
  modelVersion: string;
}

export interface PoolPlansOptions {
  store: PoolStore;
  predictors: PredictorRegistry;
  placeFn: PlaceFn;
  /** POOL_STALE_S (0: never) */
  staleS: number;
  /** most pools kept (MAX_POOLS) */
  maxPools: number;
  /** this replica's name on leases */
  replicaId: string;
  /** a plan this replica stored (counts its moves) */
  onPlanned?: (pool: string, placement: Placement) => void;
  /** a pool this replica deleted */
  onForgotten?: (pool: string) => void;
  /** a re-plan retried after another replica's lease (see `recompute`) that failed */
  onReplanFailed?: (pool: string, error: Error) => void;
  /** how long a re-plan holds its pool's lease (default `replanLeaseMs`; tests shorten it) */
  replanLeaseMs?: number;
  now?: () => number;
}

/** How long one replica holds a pool while re-planning it; renewed while it works, freed if it dies. */
export const replanLeaseMs = 30_000;

/**
 * The pools the service plans for, in the state store (memory, or Redis shared by the replicas). A plan
 * is stale when its workload was not updated for `staleS` seconds or it was computed with a model that
 * is no longer served.
 */
export class PoolPlans {
  private readonly now: () => number;
  private readonly leaseMs: number;
  /** pools left to another replica's re-plan lease, by name: looked at again once that lease could have expired */
  private readonly retries = new Map<string, NodeJS.Timeout>();

  constructor(private readonly o: PoolPlansOptions) {
    this.now = o.now ?? Date.now;
    this.leaseMs = o.replanLeaseMs ?? replanLeaseMs;
  }

  /** Drops the pending re-plan retries (the app closes). */
  close(): void {
    for (const timer of this.retries.values()) clearTimeout(timer);
    this.retries.clear();
  }

  /** Refuses (409) a new pool once MAX_POOLS are kept; checked before its placement is computed. */
  async assertRoomFor(pool: string): Promise<void> {
    if ((await this.o.store.hasPool(pool)) || (await this.o.store.countPools()) < this.o.maxPools) return;
    throw this.full();
  }

  /**
   * A pushed workload may not replace an observed pool's silently: the observer would stop (409).
   * Answers the placement the pool serves now, if it exists: its re-plan starts from it (a malformed stored plan
   * counts as none: the PUT rewrites it).
   */
  async assertPushed(pool: string): Promise<Placement | undefined> {
    const current = await planToReplace(this.o.store, pool);
    if (current?.source)
      throw new AppError(
        'conflict',
        `pool "${pool}" is observed from Prometheus: DELETE it first, or PUT /v1/pools/${pool}/source (its ` +
          'adapters list plans pushed adapters beside the observed ones)',
        { pool, observed: true },
      );
    return current?.placement;
  }

  /** Stores a pool's workload with the placement just computed for it; resolves once the store has it. */
  async put(pool: string, workload: ParsedWorkload, placement: Placement): Promise<PoolPlan> {
    const t = this.now();
    const plan: PoolPlan = { pool, workload, placement, updatedAt: t, computedAt: t };
    // checked again here, atomically: another replica may have added pools while this one was placing
    if ((await this.o.store.putPlan(plan, this.o.maxPools)) === 'full') throw this.full();
    this.o.onPlanned?.(pool, placement);
    return plan;
  }

  async get(pool: string): Promise<PoolPlan> {
    const plan = await this.o.store.getPlan(pool);
    if (!plan) throw new AppError('notFound', `no pool "${pool}" (PUT /v1/pools/${pool} first)`, { pool });
    return plan;
  }

  /** A pool's summary (its revision among it), without reading its placement. */
  async summary(pool: string): Promise<PlanSummary> {
    const summary = (await this.list()).find((p) => p.pool === pool);
    if (!summary) throw new AppError('notFound', `no pool "${pool}" (PUT /v1/pools/${pool} first)`, { pool });
    return summary;
  }

  /** every pool's summary, by name */
  list(): Promise<PlanSummary[]> {
    return this.o.store.listSummaries();
  }

  async delete(pool: string): Promise<void> {
    if (!(await this.o.store.deletePlan(pool)))
      throw new AppError('notFound', `no pool "${pool}" (PUT /v1/pools/${pool} first)`, { pool });
    this.o.onForgotten?.(pool);
  }

  isStale(plan: PlanSummary): boolean {
    const served = this.o.predictors.servedVersion(plan.model, plan.gpu, plan.tensorParallelSize ?? 1);
    return plan.modelVersion !== served || (this.o.staleS > 0 && this.now() - plan.updatedAt > this.o.staleS * 1000);
  }

  autoscaleOf(plan: PlanSummary): AutoscaleAnswer {
    return {
      pool: plan.pool,
      desiredReplicas: plan.gpuCount,
      lowerBoundReplicas: plan.lowerBound,
      ...(plan.tensorParallelSize !== undefined ? { gpusPerReplica: plan.tensorParallelSize } : {}),
      computedAt: new Date(plan.computedAt).toISOString(),
      stale: this.isStale(plan),
      modelVersion: plan.modelVersion,
    };
  }

  async autoscale(pool: string): Promise<AutoscaleAnswer> {
    return this.autoscaleOf(summaryOf(await this.get(pool)));
  }

  /**
   * Re-places every pool of a model@gpu after its predictor was swapped (keeps updatedAt). Every replica
   * swaps the model, but a pool is re-planned by the one holding its lease; the new plan is stored only
   * if nobody wrote the pool meanwhile. A pool whose lease another replica holds is looked at again once
   * that lease could have expired (its holder may have died while re-planning it), until it is current.
   * A pool that fails (queue full, store down) does not stop the others; it is re-planned at the next
   * swap or PUT. Answers the pools that failed.
   */
  async recompute(model: string, gpu: string, tensorParallelSize = 1): Promise<{ pool: string; error: Error }[]> {
    const served = this.o.predictors.servedVersion(model, gpu, tensorParallelSize);
    const failed: { pool: string; error: Error }[] = [];
    for (const plan of await this.list()) {
      const samePlan =
        plan.model === model && plan.gpu === gpu && (plan.tensorParallelSize ?? 1) === tensorParallelSize;
      if (!samePlan || plan.modelVersion === served) continue;
      await this.replan(plan.pool).catch((error: unknown) => failed.push({ pool: plan.pool, error: error as Error }));
    }
    return failed;
  }

  /** Re-plans a pool computed with a model no longer served, unless another replica holds its lease. */
  private async replan(pool: string): Promise<void> {
    const outcome = await withLease(this.o.store, `replan:${pool}`, this.o.replicaId, this.leaseMs, async () => {
      const current = await this.o.store.getPlan(pool);
      if (!current) return;
      // another replica may have re-planned it while this one waited for the lease
      const tp = current.placement.gpusPerServer ?? 1;
      const served = this.o.predictors.servedVersion(current.workload.model, current.workload.gpu, tp);
      if (current.placement.modelVersion === served) return;
      const placement = await this.o.placeFn(current.workload, current.placement);
      if (await this.o.store.replacePlanIf({ ...current, placement, computedAt: this.now() }, current.revision!))
        this.o.onPlanned?.(pool, placement);
    });
    if (!outcome.ran) this.retryLater(pool);
  }

  /**
   * A lease taken with the same TTL expires within `leaseMs` of now unless its holder renews it (it is alive
   * and working): the pool is looked at again then, and again while the lease is renewed.
   */
  private retryLater(pool: string): void {
    if (this.retries.has(pool)) return;
    const timer = setTimeout(() => {
      this.retries.delete(pool);
      this.replan(pool).catch((error: unknown) => this.o.onReplanFailed?.(pool, error as Error));
    }, this.leaseMs);
    timer.unref();
    this.retries.set(pool, timer);
  }

  private full(): AppError {
    return new AppError(
      'conflict',
      `the service keeps ${this.o.maxPools} pools, the most MAX_POOLS allows; delete one first`,
      { limit: 'MAX_POOLS', allowed: this.o.maxPools },
    );
  }
}

import {
  revised,
  summaryOf,
  type PlanSummary,
  type PoolStore,
  type PutOutcome,
  type StoreState,
  type StoredJob,
  type StoredPlan,
} from './pool-store.js';
import type { BadRecord } from './records.js';

/**
 * The default store: this process's memory. A restart forgets every pool (the controller that PUTs a
 * pool's workload re-PUTs it); replicas do not share it. Records are copied in and out, as the Redis
 * backend's JSON does, so a caller never mutates what is stored.
 */
export class MemoryPoolStore implements PoolStore {
  readonly backend = 'memory';
  private readonly plans = new Map<string, StoredPlan>();
  private readonly jobs = new Map<string, StoredJob>();
  private readonly leases = new Map<string, { owner: string; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  async putPlan(plan: StoredPlan, maxPools: number): Promise<PutOutcome> {
    if (!this.plans.has(plan.pool) && this.plans.size >= maxPools) return 'full';
    this.plans.set(plan.pool, structuredClone(revised(plan)));
    return 'stored';
  }

  async replacePlanIf(plan: StoredPlan, expectedRevision: string): Promise<boolean> {
    if (this.plans.get(plan.pool)?.revision !== expectedRevision) return false;
    this.plans.set(plan.pool, structuredClone(revised(plan)));
    return true;
  }

  async getPlan(pool: string): Promise<StoredPlan | null> {
    const plan = this.plans.get(pool);
    return plan ? structuredClone(plan) : null;
  }

  async listSummaries(): Promise<PlanSummary[]> {
    return [...this.plans.keys()].sort().map((pool) => summaryOf(this.plans.get(pool)!));
  }

  async hasPool(pool: string): Promise<boolean> {
    return this.plans.has(pool);
  }

  async countPools(): Promise<number> {
    return this.plans.size;
  }

  async deletePlan(pool: string): Promise<boolean> {
    return this.plans.delete(pool);
  }

  async putJob(job: StoredJob, keep: number): Promise<void> {
    // an update keeps the job's place in the order (Map.set on a present key does)
    this.jobs.set(job.id, structuredClone(job));
    while (this.jobs.size > keep) this.jobs.delete(this.jobs.keys().next().value!);
  }

  async getJob(id: string): Promise<StoredJob | null> {
    const job = this.jobs.get(id);
    return job ? structuredClone(job) : null;
  }

  async listJobs(): Promise<StoredJob[]> {
    return [...this.jobs.values()].map((j) => structuredClone(j));
  }

  async acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    const held = this.leases.get(name);
    if (held && held.owner !== owner && held.expiresAt > this.now()) return false;
    this.leases.set(name, { owner, expiresAt: this.now() + ttlMs });
    return true;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    if (this.leases.get(name)?.owner === owner) this.leases.delete(name);
  }

  async leaseHolder(name: string): Promise<string | null> {
    const held = this.leases.get(name);
    return held && held.expiresAt > this.now() ? held.owner : null;
  }

  async state(): Promise<StoreState> {
    return 'reachable';
  }

  /** Records are kept as objects the service made: none is malformed. */
  badRecords(): BadRecord[] {
    return [];
  }

  watchBadRecords(): void {}

  async close(): Promise<void> {}
}

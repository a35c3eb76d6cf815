import { randomUUID } from 'node:crypto';
import type { DroppedSeries, ObservedAdapter, PoolSource } from '../observe/traffic-source.js';
import type { ParsedWorkload, Placement } from '../placement/index.js';
import { ErrorCodes, isAppError } from '../shared/errors.js';
import type { BadRecord } from './records.js';

/** The last reads of an observed pool's traffic. */
export interface Observation {
  attemptedAt: number;
  /** the last read that gave a plan; null until one did */
  succeededAt: number | null;
  /** why the last read failed (Prometheus down, garbage, no traffic); null when it worked */
  error: string | null;
  adapters: ObservedAdapter[];
  ignoredSeries: number;
  /** series the last successful read dropped, their value outside a Workload's limits (absent: none recorded) */
  droppedSeries?: DroppedSeries;
  /** whether the last successful read re-planned (false: within the hysteresis) */
  replanned: boolean;
}

/**
 * A pool's workload as last PUT and the placement computed for it, as kept in the store (plain JSON).
 * The placement carries the model version it was computed with (`placement.modelVersion`).
 */
export interface StoredPlan {
  pool: string;
  workload: ParsedWorkload;
  placement: Placement;
  /** when the workload was last PUT (ms since the epoch): a plan whose workload is not kept up to date goes stale */
  updatedAt: number;
  /** when the placement was computed (a model swap recomputes it) */
  computedAt: number;
  /** set by the store on every write: the token a conditional replace compares */
  revision?: string;
  /** an observed pool: where its traffic comes from (absent: a pushed pool) */
  source?: PoolSource;
  observation?: Observation;
}

/**
 * What lists, autoscalers and metrics read of a plan: a few numbers, kept beside the plan so that
 * listing 256 pools of 10,000 adapters each does not read 256 placements.
 */
export interface PlanSummary {
  pool: string;
  model: string;
  gpu: string;
  /** GPUs per server of the placement, when above 1 (gpuCount and lowerBound count servers) */
  tensorParallelSize?: number;
  gpuCount: number;
  lowerBound: number;
  modelVersion: string;
  updatedAt: number;
  computedAt: number;
  /** an observed pool's period (null: pushed) and its last read, so the observer finds the pools due */
  observePeriodS: number | null;
  observeAttemptedAt: number | null;
  revision: string | null;
}

export function summaryOf(plan: StoredPlan): PlanSummary {
  const { pool, workload, placement, updatedAt, computedAt } = plan;
  return {
    pool,
    model: workload.model,
    gpu: workload.gpu,
    ...(placement.gpusPerServer !== undefined ? { tensorParallelSize: placement.gpusPerServer } : {}),
    gpuCount: placement.gpuCount,
    lowerBound: placement.lowerBound,
    modelVersion: placement.modelVersion,
    updatedAt,
    computedAt,
    observePeriodS: plan.source?.prometheus.periodS ?? null,
    observeAttemptedAt: plan.observation?.attemptedAt ?? null,
    revision: plan.revision ?? null,
  };
}

/** A record of a background job (a model refresh), kept as JSON; `id` and `startedAt` identify it. */
export interface StoredJob {
  id: string;
  state: string;
  [field: string]: unknown;
}

/**
 * What /readyz and the metrics say of the store: `full` answers reads but refuses writes for memory (Redis at
 * maxmemory without eviction); `unreachable` answers nothing.
 */
export type StoreState = 'reachable' | 'full' | 'unreachable';

/** What `putPlan` did: stored, or refused because the store already keeps `maxPools` other pools. */
export type PutOutcome = 'stored' | 'full';

/**
 * The service's shared state: pools with their plans, refresh job records, and leases that let one
 * replica at a time do a piece of background work. Two backends: in memory (one process, the default)
 * and Redis (REDIS_URL: replicas sharing it see the same pools; a restart loses nothing acknowledged,
 * since every write resolves only once the store has it).
 *
 * Every method may reject with a 503 AppError carrying Retry-After: `storeUnavailable` when the backend cannot be
 * reached or answers an error, `storeFull` when it refuses a write for memory, `storeTimeout` when it does not
 * answer in time (a write may then have been applied). A record that reads back malformed is left out of lists
 * (`badRecords` names it) and read by its key rejects with `storeRecordInvalid` (500).
 */
export interface PoolStore {
  /** "memory" or "redis": shown by /readyz */
  readonly backend: string;
  /** Stores a plan unless that would make more than `maxPools` pools (replacing one is always allowed). */
  putPlan(plan: StoredPlan, maxPools: number): Promise<PutOutcome>;
  /**
   * Replaces a plan only while it is the one read (its `revision` unchanged: nobody wrote it since): a
   * background re-plan never overwrites a PUT, another re-plan or an observation made meanwhile.
   * Answers whether it was stored.
   */
  replacePlanIf(plan: StoredPlan, expectedRevision: string): Promise<boolean>;
  getPlan(pool: string): Promise<StoredPlan | null>;
  /** every plan's summary, ordered by pool name */
  listSummaries(): Promise<PlanSummary[]>;
  hasPool(pool: string): Promise<boolean>;
  countPools(): Promise<number>;
  /** Answers whether the pool existed. */
  deletePlan(pool: string): Promise<boolean>;

  /** Stores a job record, keeping the newest `keep` records. */
  putJob(job: StoredJob, keep: number): Promise<void>;
  getJob(id: string): Promise<StoredJob | null>;
  /** job records, oldest first */
  listJobs(): Promise<StoredJob[]>;

  /**
   * Takes the lease `name` for `owner` for `ttlMs` (or extends it when `owner` already holds it).
   * Answers false when another owner holds it; a lease whose owner died frees itself when it expires.
   */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Frees the lease if `owner` still holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
  /** who holds the lease, or null */
  leaseHolder(name: string): Promise<string | null>;

  /** The backend's state now (readiness, metrics); never rejects. */
  state(): Promise<StoreState>;
  /** the records this replica found malformed when it last read them (metrics) */
  badRecords(): BadRecord[];
  /** Calls `listener` once for each record a read finds malformed that was not already known to be (logs). */
  watchBadRecords(listener: (record: BadRecord) => void): void;
  close(): Promise<void>;
}

/** The plan a write is about to replace: a malformed one counts as none, since the write rewrites it. */
export async function planToReplace(store: PoolStore, pool: string): Promise<StoredPlan | null> {
  try {
    return await store.getPlan(pool);
  } catch (err) {
    if (isAppError(err) && err.code === ErrorCodes.storeRecordInvalid.code) return null;
    throw err;
  }
}

/** A plan as the store writes it: with a new revision. */
export function revised(plan: StoredPlan): StoredPlan {
  return { ...plan, revision: randomUUID() };
}

/**
 * Runs `work` while holding the lease `name`, renewing it every third of `ttlMs`; answers `skipped`
 * without running it when another owner holds the lease.
 */
export async function withLease<T>(
  store: PoolStore,
  name: string,
  owner: string,
  ttlMs: number,
  work: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  if (!(await store.acquireLease(name, owner, ttlMs))) return { ran: false };
  const renew = setInterval(
    () => {
      store.acquireLease(name, owner, ttlMs).catch(() => undefined);
    },
    Math.max(10, Math.floor(ttlMs / 3)),
  );
  renew.unref();
  try {
    return { ran: true, value: await work() };
  } finally {
    clearInterval(renew);
    await store.releaseLease(name, owner).catch(() => undefined);
  }
}

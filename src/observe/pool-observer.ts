import type { ParsedWorkload, Placement } from '../placement/index.js';
import { AppError } from '../shared/errors.js';
import { planToReplace, withLease, type Observation, type PoolStore, type StoredPlan } from '../store/pool-store.js';
import { mergeReading, observedWorkload, readTraffic, withinHysteresis } from './observed-traffic.js';
import type { PrometheusOptions } from './prometheus-query.js';
import type { DroppedSeries, PoolSource } from './traffic-source.js';

export interface PoolObserverOptions {
  store: PoolStore;
  /** PROMETHEUS_URL and its limits; null: observed pools are refused */
  prometheus: PrometheusOptions | null;
  /**
   * places a workload given as JSON text (validated like a PUT body), on the work queue; from the
   * pool's current placement when there is one (a re-plan with few moves)
   */
  place: (workloadJson: string, current?: Placement) => Promise<{ workload: ParsedWorkload; placement: Placement }>;
  /** the model version served for a model@gpu: a plan computed with another one is re-planned */
  /** the version of the predictor a placement of this model on servers of `tensorParallelSize` GPUs uses */
  servedVersion: (model: string, gpu: string, tensorParallelSize: number) => string;
  replicaId: string;
  maxPools: number;
  /** POOL_STALE_S (0: never): a period at least this long would leave the plan stale between reads */
  staleS: number;
  /** a read that failed (metric, log line); the last plan stays */
  onFailure: (pool: string, err: Error) => void;
  /** series a read dropped, their value outside a Workload's limits (called when there are some) */
  onDropped?: (pool: string, dropped: DroppedSeries) => void;
  /** a plan this replica stored (counts its moves) */
  onPlanned?: (pool: string, placement: Placement) => void;
  now?: () => number;
}

/** How often the observer looks for pools due; each pool is read every its own `periodS`. */
const tickMs = 1000;

/**
 * Keeps observed pools up to date: every `periodS`, one replica (the lease `observe:<pool>`) reads the
 * pool's traffic from Prometheus, merges it with what it saw before (vanished adapters decay out), and
 * re-plans when the drift is beyond the hysteresis. A failed read leaves the last plan serving and its
 * `updatedAt` unchanged, so the plan goes stale after POOL_STALE_S (autoscale answers 503).
 */
export class PoolObserver {
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopping = false;
  private readonly now: () => number;
  /** pools whose observation failed outside the read (a malformed record, the store), by when to try again */
  private readonly failedUntil = new Map<string, number>();

  constructor(private readonly o: PoolObserverOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Reads a new observed pool's traffic once and stores its first plan; nothing is stored if that fails. */
  async create(pool: string, source: PoolSource): Promise<StoredPlan> {
    const prometheus = this.prometheus();
    if (this.o.staleS > 0 && source.prometheus.periodS >= this.o.staleS) {
      throw new AppError(
        'invalidInput',
        `prometheus.periodS: must be less than POOL_STALE_S (${this.o.staleS} s), or the plan is stale between ` +
          'two reads',
        { path: 'prometheus.periodS' },
      );
    }
    const now = this.now();
    const reading = await readTraffic(prometheus, source.prometheus);
    const adapters = mergeReading([], reading, now, source.prometheus.graceS);
    // a pool pushed until now keeps its adapters where they are (a malformed stored plan is rewritten)
    const existing = await planToReplace(this.o.store, pool);
    const { workload, placement } = await this.o.place(
      JSON.stringify(nonEmpty(pool, observedWorkload(source, adapters, now))),
      existing?.placement,
    );
    const plan: StoredPlan = {
      pool,
      workload,
      placement,
      updatedAt: now,
      computedAt: now,
      source,
      observation: {
        attemptedAt: now,
        succeededAt: now,
        error: null,
        adapters,
        ignoredSeries: reading.ignoredSeries,
        droppedSeries: reading.droppedSeries,
        replanned: true,
      },
    };
    if ((await this.o.store.putPlan(plan, this.o.maxPools)) === 'full') {
      throw new AppError(
        'conflict',
        `the service keeps ${this.o.maxPools} pools, the most MAX_POOLS allows; delete one first`,
        { limit: 'MAX_POOLS', allowed: this.o.maxPools },
      );
    }
    this.o.onPlanned?.(pool, placement);
    this.countDropped(pool, reading.droppedSeries);
    return plan;
  }

  start(): void {
    if (!this.o.prometheus || this.timer) return;
    this.timer = setInterval(() => {
      this.ticking ??= this.tick().finally(() => (this.ticking = null));
    }, tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
  }

  /** Observes every pool that is due (one at a time: each may place on the work queue). */
  async tick(): Promise<void> {
    let due: { pool: string; periodMs: number }[];
    try {
      const now = this.now();
      for (const [pool, until] of this.failedUntil) if (until <= now) this.failedUntil.delete(pool);
      due = (await this.o.store.listSummaries()).flatMap((s) =>
        s.observePeriodS !== null &&
        now - (s.observeAttemptedAt ?? 0) >= s.observePeriodS * 1000 &&
        !this.failedUntil.has(s.pool)
          ? [{ pool: s.pool, periodMs: s.observePeriodS * 1000 }]
          : [],
      );
    } catch {
      return; // the store is down: the next tick tries again
    }
    for (const { pool, periodMs } of due) {
      // shutting down: the pools left are read by another replica, or after the restart
      if (this.stopping) return;
      await withLease(this.o.store, `observe:${pool}`, this.o.replicaId, 60_000, () => this.observe(pool)).then(
        () => this.failedUntil.delete(pool),
        (err: unknown) => {
          // tried again after its period, not at every tick (one failure and log line a second)
          this.failedUntil.set(pool, this.now() + periodMs);
          this.o.onFailure(pool, err as Error);
        },
      );
    }
  }

  /** One read of one pool, stored only if nobody wrote the pool meanwhile (a PUT, a model-swap re-plan). */
  async observe(pool: string): Promise<void> {
    const plan = await this.o.store.getPlan(pool);
    if (!plan?.source) return;
    const now = this.now();
    // another replica may have read it while this one waited for the lease
    if (plan.observation && now - plan.observation.attemptedAt < plan.source.prometheus.periodS * 1000) return;
    const previous = plan.observation?.adapters ?? [];
    let next: StoredPlan;
    try {
      next = await this.read(plan, plan.source, previous, now);
    } catch (err) {
      this.o.onFailure(pool, err as Error);
      // this read planned nothing: the plan served is the one the last good read made
      const observation: Observation = {
        ...(plan.observation ?? { succeededAt: null, adapters: previous, ignoredSeries: 0 }),
        attemptedAt: now,
        error: (err as Error).message,
        replanned: false,
      };
      next = { ...plan, observation };
    }
    const stored = await this.o.store.replacePlanIf(next, plan.revision!);
    if (stored && next.observation?.replanned) this.o.onPlanned?.(pool, next.placement);
  }

  private async read(
    plan: StoredPlan,
    source: PoolSource,
    previous: Observation['adapters'],
    now: number,
  ): Promise<StoredPlan> {
    const reading = await readTraffic(this.prometheus(), source.prometheus);
    this.countDropped(plan.pool, reading.droppedSeries);
    const adapters = mergeReading(previous, reading, now, source.prometheus.graceS);
    const workload = nonEmpty(plan.pool, observedWorkload(source, adapters, now));
    const { model, gpu } = plan.workload;
    const current = plan.placement.modelVersion === this.o.servedVersion(model, gpu, plan.placement.gpusPerServer ?? 1);
    const observation: Observation = {
      attemptedAt: now,
      succeededAt: now,
      error: null,
      adapters,
      ignoredSeries: reading.ignoredSeries,
      droppedSeries: reading.droppedSeries,
      replanned: false,
    };
    if (current && withinHysteresis(plan.workload, workload, source.prometheus.hysteresis))
      return { ...plan, updatedAt: now, observation };
    // the observer's hysteresis is on the workload (above); the re-plan itself starts from the current placement
    const placed = await this.o.place(JSON.stringify(workload), plan.placement);
    return {
      ...plan,
      workload: placed.workload,
      placement: placed.placement,
      updatedAt: now,
      computedAt: now,
      observation: { ...observation, replanned: true },
    };
  }

  /** (a pool's, once stored: metric labels are never made for a pool that is not kept) */
  private countDropped(pool: string, d: DroppedSeries): void {
    if (d.rate + d.inputTokens + d.outputTokens > 0) this.o.onDropped?.(pool, d);
  }

  private prometheus(): PrometheusOptions {
    // a setting of this service, not an outage: 409, so a client does not retry it as a 503
    if (!this.o.prometheus)
      throw new AppError(
        'conflict',
        'this service has no traffic source: observed pools need PROMETHEUS_URL to be set',
        { setting: 'PROMETHEUS_URL' },
      );
    return this.o.prometheus;
  }
}

function nonEmpty(pool: string, workload: Record<string, unknown>): Record<string, unknown> {
  if ((workload.adapters as unknown[]).length === 0)
    throw new AppError(
      'sourceUnavailable',
      `pool "${pool}": no adapter had requests in the window (and none is listed with a rate)`,
      { pool },
    );
  return workload;
}

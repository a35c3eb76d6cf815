import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The reasons of lora_placer_observed_series_dropped_total, by the query whose series was dropped. */
const droppedReasons = {
  rate: 'rate_out_of_range',
  inputTokens: 'input_tokens_out_of_range',
  outputTokens: 'output_tokens_out_of_range',
} as const;

/** Service state read when Prometheus scrapes. */
export interface MetricSources {
  models(): { model: string; gpu: string; version: string; created: string }[];
  refreshRunning(): boolean;
  /** read from the state store: may reject when it cannot be reached (the pool gauges are then left out) */
  pools(): Promise<{ pool: string; desiredReplicas: number; stale: boolean }[]>;
  /** the state store's state now (full: Redis refuses writes for memory); never rejects */
  storeState(): Promise<'reachable' | 'full' | 'unreachable'>;
  /** records of the state store found malformed when last read (a pool read refreshes the summaries') */
  storeBadRecords(): { kind: 'plan' | 'summary' | 'job' }[];
  /** simulations and placements on the work queue */
  work(): { running: number; queued: number };
  /** bytes of rendered manifest templates kept (GET /v1/pools/{pool}/manifests) */
  manifestCacheBytes?(): number;
}

/**
 * Every metric of the service on an app-owned registry (tests build fresh ones), named
 * `lora_placer_*` in base units (seconds, requests), counters ending in `_total`.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration = new Histogram({
    name: 'lora_placer_http_request_duration_seconds',
    help: 'HTTP request duration by route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [this.registry],
  });
  readonly predictions = new Counter({
    name: 'lora_placer_predictions_total',
    help: 'Predictions answered',
    labelNames: ['model', 'gpu'] as const,
    registers: [this.registry],
  });
  readonly simulations = new Counter({
    name: 'lora_placer_simulations_total',
    help: 'Twin simulations answered',
    labelNames: ['model', 'gpu'] as const,
    registers: [this.registry],
  });
  readonly placements = new Counter({
    name: 'lora_placer_placements_total',
    help: 'Placements computed (requests and pool plans)',
    labelNames: ['objective', 'verified'] as const,
    registers: [this.registry],
  });
  readonly placementDuration = new Histogram({
    name: 'lora_placer_placement_duration_seconds',
    help: 'Time to compute one placement, verification included',
    labelNames: ['verified'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120],
    registers: [this.registry],
  });
  readonly refreshDuration = new Histogram({
    name: 'lora_placer_refresh_duration_seconds',
    help: 'Model refresh duration by outcome (replaced, kept, failed)',
    labelNames: ['outcome'] as const,
    buckets: [1, 10, 60, 300, 900, 1800, 3600, 7200],
    registers: [this.registry],
  });
  readonly refreshFailures = new Counter({
    name: 'lora_placer_refresh_failures_total',
    help: 'Model refreshes that failed (the old models kept serving)',
    registers: [this.registry],
  });
  readonly workRejected = new Counter({
    name: 'lora_placer_work_rejected_total',
    help:
      'Simulations and placements not answered: queue full (busy), past TASK_TIMEOUT_MS (timeout), client gone ' +
      '(cancelled), shutting down (closed)',
    labelNames: ['kind', 'reason'] as const,
    registers: [this.registry],
  });
  readonly modelsDirErrors = new Counter({
    name: 'lora_placer_models_dir_errors_total',
    help: 'MODELS_DIR problems (unreadable, malformed or partly written bundles); the served models stayed',
    registers: [this.registry],
  });

  /**
   * The pools with per-pool counter series, each with the count of increments made before its last one: a scrape
   * drops the series of a pool the store no longer lists (deleted on another replica), unless it was counted after
   * that listing began (set by the constructor).
   */
  private readonly counted = new Map<string, number>();
  private increments = 0;
  private dropGonePools: () => Promise<void> = async () => {};

  readonly observeErrors = new Counter({
    name: 'lora_placer_pool_observe_errors_total',
    help:
      "Reads of an observed pool's traffic that failed (Prometheus down or answering garbage, no traffic, " +
      'placement refused); the last plan kept serving',
    labelNames: ['pool'] as const,
    registers: [this.registry],
    collect: () => this.dropGonePools(),
  });
  readonly observedSeriesDropped = new Counter({
    name: 'lora_placer_observed_series_dropped_total',
    help:
      "Series of an observed pool's reads dropped, their value outside a workload's limits (reason " +
      'rate_out_of_range, input_tokens_out_of_range, output_tokens_out_of_range); the rest of each read planned',
    labelNames: ['pool', 'reason'] as const,
    registers: [this.registry],
  });
  readonly adapterMoves = new Counter({
    name: 'lora_placer_adapter_moves_total',
    help:
      "Adapters loaded on a GPU that did not hold them, by the pool's re-plans (each a cold adapter load and a " +
      'routing change); counted by the replica that stored the plan',
    labelNames: ['pool'] as const,
    registers: [this.registry],
    collect: () => this.dropGonePools(),
  });
  readonly manifestRenders = new Counter({
    name: 'lora_placer_manifest_renders_total',
    help: "Renders of a pool plan's manifests (once per plan revision and format while it stays cached)",
    labelNames: ['format'] as const,
    registers: [this.registry],
  });
  readonly storeErrors = new Counter({
    name: 'lora_placer_store_errors_total',
    help:
      'Background reads and writes of the state store (Redis) that failed: scrapes that left the pool gauges out, ' +
      're-plans not done (requests answer 503 LP_ERR_STORE_UNAVAILABLE, counted by the HTTP histogram)',
    registers: [this.registry],
  });

  /**
   * The moves of a plan this replica stored: each replica counts its own, so the sum over replicas counts each once.
   */
  countMoves(pool: string, placement: { moves?: { count: number } }): void {
    if (!placement.moves) return;
    this.counted.set(pool, this.increments++);
    this.adapterMoves.inc({ pool }, placement.moves.count);
  }

  /** A read of an observed pool's traffic that failed. */
  countObserveError(pool: string): void {
    this.counted.set(pool, this.increments++);
    this.observeErrors.inc({ pool });
  }

  /** The series an observed pool's read dropped, by query. */
  countDropped(pool: string, dropped: Record<keyof typeof droppedReasons, number>): void {
    this.counted.set(pool, this.increments++);
    for (const query of ['rate', 'inputTokens', 'outputTokens'] as const)
      if (dropped[query] > 0) this.observedSeriesDropped.inc({ pool, reason: droppedReasons[query] }, dropped[query]);
  }

  /**
   * A deleted pool's series go with it: pool names are the client's, and the label sets stay bounded by MAX_POOLS.
   * Every replica forgets it: this one when it deletes it, the others when a scrape no longer finds it in the store.
   */
  forgetPool(pool: string): void {
    this.counted.delete(pool);
    this.adapterMoves.remove({ pool });
    this.observeErrors.remove({ pool });
    for (const reason of Object.values(droppedReasons)) this.observedSeriesDropped.remove({ pool, reason });
  }

  constructor(sources: MetricSources, now: () => number = Date.now) {
    // a scrape while the store is down still answers, without the pool gauges (and forgets no pool); the collectors
    // of one scrape run together and share one read
    const poolsRead = shared(async () => {
      const before = this.increments;
      try {
        return { before, pools: await sources.pools() };
      } catch {
        this.storeErrors.inc();
        return { before, pools: null };
      }
    });
    const poolsOrNone = async () => (await poolsRead()).pools ?? [];
    this.dropGonePools = async () => {
      const { before, pools } = await poolsRead();
      if (!pools) return;
      const listed = new Set(pools.map((p) => p.pool));
      for (const [pool, increment] of this.counted) if (!listed.has(pool) && increment < before) this.forgetPool(pool);
    };
    collectDefaultMetrics({ register: this.registry, prefix: 'lora_placer_' });
    // prom-client names these gauges *_total, which promtool (rightly) rejects; nodejs_active_resources{type} carries
    // the same information
    for (const g of ['handles', 'requests', 'resources'])
      this.registry.removeSingleMetric(`lora_placer_nodejs_active_${g}_total`);
    new Gauge({
      name: 'lora_placer_model_info',
      help: 'Predictor model being served (value 1), by model, gpu and version',
      labelNames: ['model', 'gpu', 'version'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of sources.models()) this.set({ model: m.model, gpu: m.gpu, version: m.version }, 1);
      },
    });
    new Gauge({
      name: 'lora_placer_desired_replicas',
      help: 'GPUs (vLLM replicas) the current plan of a pool needs',
      labelNames: ['pool'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const p of await poolsOrNone()) this.set({ pool: p.pool }, p.desiredReplicas);
      },
    });
    new Gauge({
      name: 'lora_placer_pool_plan_stale',
      help: '1 when a pool plan is stale (its autoscale route answers 503)',
      labelNames: ['pool'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const p of await poolsOrNone()) this.set({ pool: p.pool }, p.stale ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lora_placer_store_reachable',
      help:
        '1 when the state store (REDIS_URL, or memory) answers (lora_placer_store_full tells whether it takes ' +
        'writes); 0: pool and refresh routes answer 503 LP_ERR_STORE_UNAVAILABLE',
      registers: [this.registry],
      async collect() {
        this.set((await sources.storeState()) === 'unreachable' ? 0 : 1);
      },
    });
    new Gauge({
      name: 'lora_placer_store_full',
      help:
        '1 while the state store (Redis) refuses writes for memory (maxmemory, no eviction): pool PUTs answer 503 ' +
        'LP_ERR_STORE_FULL; reads still work',
      registers: [this.registry],
      async collect() {
        this.set((await sources.storeState()) === 'full' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lora_placer_store_bad_records',
      help:
        'Records of the state store this replica found malformed when it last read them, by kind (summary: left ' +
        'out of lists, gauges and the observer; plan: its pool answers 500 LP_ERR_STORE_RECORD_INVALID; job); ' +
        'a PUT of the pool rewrites them',
      labelNames: ['kind'] as const,
      registers: [this.registry],
      async collect() {
        // after this scrape's read of the summaries
        await poolsOrNone();
        const bad = sources.storeBadRecords();
        for (const kind of ['plan', 'summary', 'job'] as const)
          this.set({ kind }, bad.filter((r) => r.kind === kind).length);
      },
    });
    new Gauge({
      name: 'lora_placer_work_tasks',
      help: 'Simulations and placements on the work queue, by state (running, queued)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      collect() {
        const w = sources.work();
        this.set({ state: 'running' }, w.running);
        this.set({ state: 'queued' }, w.queued);
      },
    });
    new Gauge({
      name: 'lora_placer_manifest_cache_bytes',
      help: 'Bytes of rendered manifest templates kept (bounded; least recently used dropped first)',
      registers: [this.registry],
      collect() {
        this.set(sources.manifestCacheBytes?.() ?? 0);
      },
    });
    new Gauge({
      name: 'lora_placer_refresh_running',
      help: '1 while a model refresh runs',
      registers: [this.registry],
      collect() {
        this.set(sources.refreshRunning() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lora_placer_model_age_seconds',
      help: 'Seconds since the served predictor model was created',
      labelNames: ['model', 'gpu'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const m of sources.models())
          this.set({ model: m.model, gpu: m.gpu }, Math.max(0, (now() - Date.parse(m.created)) / 1000));
      },
    });
  }
}

/** A read shared by every caller while it is in flight (the collectors of one scrape), made anew after. */
function shared<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}

import type { Profile } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { AdapterCache } from './adapter-cache.js';
import { ArrivalSource, type AdapterStreamSpec, type Arrival } from './arrivals.js';
import { Metrics } from './metrics.js';
import { RequestState, RequestTable } from './request-table.js';
import { RunningBatch } from './running-batch.js';
import type { ResolvedEngine, ResolvedScenario } from './scenario.js';
import { V1Scheduler, type StepPlan } from './scheduler.js';
import { AdapterLookups } from './adapter-lookups.js';
import { EnginePauses } from './engine-pauses.js';
import { MetricsScrapes, adapterKey, labelSetKey, researchHostRender, type Scrape } from './metrics-scrapes.js';
import { KvBlocks } from './kv-blocks.js';
import { diskLoadMs, forwardMs, gpuLoadMs, schedulerMs } from './step-time.js';
import { WaitingQueue } from './waiting-queue.js';

export interface EngineAdapter extends AdapterStreamSpec {
  id: string;
  rank: number;
}

/** What arrives at the server: the adapters' requests and, when `base` is set, requests to the base model. */
export interface EngineTraffic {
  adapters: EngineAdapter[];
  base: AdapterStreamSpec | null;
}

/** Rng streams of the base model's lengths and arrival times (the adapters use 1, 2, ...; pauses 0). */
export const baseModelStreams = [-1, -2] as const;

/** One executed step (or run of identical steps), as seen by an observer. */
export interface StepRecord {
  startS: number;
  endS: number;
  steps: number;
  /** duration of the first of the `steps` steps; step k (0-based) lasts firstMs + k * growthMs */
  firstMs: number;
  /** growth of each further step of a fast-forwarded run (its decoders' context grows) */
  growthMs: number;
  decodes: number;
  prefillTokens: number;
  admitted: number;
  preempted: number;
  skipped: number;
  running: number;
  waiting: number;
  adapters: number;
  usedBlocks: number;
  loadMs: number;
}

export interface RequestRecord {
  id: number;
  /** index of the adapter in the scenario; the number of adapters for a request to the base model */
  adapter: number;
  arrivalS: number;
  firstTokenS: number;
  endS: number;
  prompt: number;
  output: number;
}

/** Hooks for tests and debugging; the engine costs nothing extra without them. */
export interface EngineObserver {
  /** a request reached the engine: its id (-1 when refused: maxInFlight or longer than max_model_len) */
  onArrival?(id: number, adapter: number, arrivalS: number, tokens: number): void;
  onStep?(step: StepRecord): void;
  onComplete?(request: RequestRecord): void;
  onPreempt?(id: number, adapter: number, atS: number): void;
  /** a preempted request recomputed its prompt and streamed its next token at `atS` (it decodes again) */
  onResume?(id: number, atS: number): void;
  /** a scrape of /metrics started (only with a scraper and a profile that prices its render) */
  onScrape?(scrape: Scrape): void;
}

export interface EngineOptions {
  observer?: EngineObserver;
  /** advance runs of identical decode-only steps in closed form (default true; false is the step-by-step reference) */
  fastForward?: boolean;
  /**
   * Arrivals after which the run stops with LP_ERR_TOO_MUCH_WORK (default: none). The expected count
   * is checked before a run; this catches the bursty processes whose draws exceed it by far.
   */
  maxArrivals?: number;
}

/** Everything the engine leaves behind for the result. */
export interface EngineOutcome {
  metrics: Metrics;
  runningAtEnd: number;
  waitingAtEnd: number;
  gpuLoads: number;
  diskLoads: number;
}

/**
 * Discrete-event simulation of one vLLM V1 server with multi-LoRA. Time advances one engine step at a
 * time; a step's duration is scheduler time + adapter loads + forward time. Runs of identical
 * decode-only steps are advanced in closed form up to the next event.
 */
export class TwinEngine {
  private readonly req = new RequestTable();
  private readonly metrics: Metrics;
  private readonly batch: RunningBatch;
  private readonly waiting: WaitingQueue;
  private readonly cache: AdapterCache;
  private readonly scheduler: V1Scheduler;
  private readonly arrivals: ArrivalSource;
  private readonly profile: Profile;
  private readonly engine: ResolvedEngine;
  private readonly horizon: number;
  private readonly frontendS: number;
  private readonly maxInFlight: number;
  private readonly maxArrivals: number;

  private readonly observer: EngineObserver | undefined;
  private readonly fastForward: boolean;
  private readonly kv: KvBlocks;
  private readonly pauses: EnginePauses | null;
  /** first requests of adapters held by the API server's tokenizer lookup (null: the profile charges none) */
  private readonly lookups: AdapterLookups | null;
  private readonly baseIndex: number;
  /** /metrics scrapes that hold the API server (null: no scraper) */
  private readonly scrapes: MetricsScrapes | null;
  /** XOR of adapterKey over the adapters in the running batch (vLLM's running_lora_adapters) */
  private runningKey = 0;
  /** when the previous step's tokens reached the clients */
  private prevDeliveredS = 0;

  /**
   * Adapter i's requests have index i; the base model's, when `traffic.base` is set, the index after the
   * adapters (they hold no slot and load nothing).
   */
  constructor(resolved: ResolvedScenario, traffic: EngineTraffic, options: EngineOptions = {}) {
    this.observer = options.observer;
    this.fastForward = options.fastForward ?? true;
    this.profile = resolved.profile;
    this.engine = resolved.engine;
    this.horizon = resolved.durationS;
    this.frontendS = this.profile.frontend.ttftOverheadMs / 1000;
    this.maxInFlight = resolved.scenario.arrivals?.maxInFlight ?? Infinity;
    this.maxArrivals = options.maxArrivals ?? Infinity;
    const { adapters, base } = traffic;
    const baseIndex = base ? adapters.length : -1;
    this.baseIndex = baseIndex;
    const streams: AdapterStreamSpec[] = base ? [...adapters, { ...base, rngStreams: baseModelStreams }] : adapters;
    const n = streams.length;
    this.metrics = new Metrics(n, resolved.scenario.report?.perAdapter === true, baseIndex);
    this.cache = new AdapterCache(
      n,
      this.engine.maxLoras,
      this.engine.maxCpuLoras,
      (a) => gpuLoadMs(this.profile, adapters[a]!.rank, this.engine.maxLoraRank),
      (a) => diskLoadMs(this.profile, adapters[a]!.rank),
    );
    this.batch = new RunningBatch(
      this.req,
      n,
      this.profile.blockSize,
      (a) => {
        if (a !== baseIndex) this.runningKey ^= adapterKey(a, runningSalt);
        this.waiting.adapterEnteredBatch(a);
      },
      (a) => {
        if (a !== baseIndex) this.runningKey ^= adapterKey(a, runningSalt);
        this.waiting.adapterLeftBatch(a);
        this.cache.release(a);
      },
      this.metrics.byAdapter !== null,
      baseIndex,
    );
    // the base model needs no slot: its requests are admissible whenever the adapters in the batch's are
    this.waiting = new WaitingQueue(this.req, n, (a) => a === baseIndex || this.batch.isRunning(a));
    this.kv = new KvBlocks(this.engine.kvCacheTokens, this.profile.blockSize);
    this.scheduler = new V1Scheduler(
      this.req,
      this.batch,
      this.waiting,
      this.cache,
      this.kv,
      this.metrics,
      this.engine,
      options.observer?.onPreempt,
      baseIndex,
    );
    const index = new Map<string | undefined, number>(adapters.map((a, i) => [a.id, i]));
    if (base) index.set(undefined, baseIndex);
    this.pauses = this.profile.pauses ? new EnginePauses(this.profile.pauses, resolved.seed) : null;
    const firstRequest = this.profile.frontend.firstRequestOfAdapter;
    this.lookups =
      firstRequest && firstRequest.ms > 0 && this.engine.enableLora !== false
        ? new AdapterLookups(firstRequest.ms / 1000, Math.max(this.engine.maxLoras, this.engine.maxNumSeqs))
        : null;
    const render = this.profile.frontend.metricsRender ?? researchHostRender;
    const scrapeS = resolved.scenario.metricsScrapeIntervalS ?? 0;
    // the first scrape half an interval in: the research checker polls from before the window opens
    this.scrapes = scrapeS > 0 ? new MetricsScrapes(render, scrapeS, scrapeS / 2, options.observer?.onScrape) : null;
    this.arrivals = new ArrivalSource(
      streams,
      resolved.scenario.arrivals ?? { process: 'poisson' },
      resolved.seed,
      index,
      this.horizon,
    );
  }

  run(): EngineOutcome {
    let t = 0;
    for (;;) {
      this.scrapes?.advanceTo(t);
      this.admitArrivals(t);
      const plan = this.scheduler.schedule(t);
      if (this.batch.count === 0) {
        const next = this.nextEngineArrivalS();
        if (next > this.horizon) break;
        t = next;
        continue;
      }
      const pauseMs = this.pauses?.pauseMs(this.cache.heldAdapters) ?? 0;
      const firstMs = this.stepMs(plan) + pauseMs;
      if (t + firstMs / 1000 > this.horizon) break;
      let steps = 1;
      let growthMs = 0;
      if (plan.decodeOnly && this.fastForward && pauseMs === 0) {
        growthMs = (this.profile.forward.base.perContextKiloTokenMs * plan.decodes) / 1000;
        // a pause due now has no length when the server holds no adapter (base-model requests only): one step
        steps = Math.max(
          1,
          Math.min(this.identicalSteps(t, firstMs, growthMs), this.pauses?.stepsBeforePause ?? Infinity),
        );
        // no run crosses a scrape's start or end: its steps' tokens all reach the clients alike
        if (this.scrapes) {
          const boundaryMs = (this.scrapes.nextBoundaryAfter(t) - t) * 1000;
          steps = Math.min(steps, stepsToReach(boundaryMs, firstMs, growthMs));
        }
      }
      this.pauses?.advance(steps);
      const totalMs = steps * firstMs + (growthMs * steps * (steps - 1)) / 2;
      const startS = t;
      t += totalMs / 1000;
      this.scrapes?.advanceTo(t);
      this.finishSteps(plan, steps, firstMs, growthMs, totalMs, t);
      this.scrapes?.recordLabelSet(
        labelSetKey(this.runningKey, this.waiting.adapterSetKey),
        this.batch.activeAdapters + this.waiting.adapterSetSize,
      );
      this.observer?.onStep?.({
        startS,
        endS: t,
        steps,
        firstMs,
        growthMs,
        decodes: plan.decodes,
        prefillTokens: plan.prefillTokens,
        admitted: plan.admitted,
        preempted: plan.preempted,
        skipped: plan.skipped,
        running: this.batch.count,
        waiting: this.waiting.size,
        adapters: this.batch.activeAdapters,
        usedBlocks: this.kv.used,
        loadMs: plan.loadMs,
      });
    }
    return {
      metrics: this.metrics,
      runningAtEnd: this.batch.count,
      waitingAtEnd: this.waiting.size,
      gpuLoads: this.cache.gpuLoads,
      diskLoads: this.cache.diskLoads,
    };
  }

  /** Requests that reached the engine by `t` join the waiting queue (or are refused). */
  private admitArrivals(t: number): void {
    const maxLen = this.profile.maxModelLen;
    for (let a = this.nextAdmission(t); a !== null; a = this.nextAdmission(t)) {
      const inFlight = this.waiting.size + this.batch.count;
      if (inFlight >= this.maxInFlight || a.inputTokens + a.outputTokens > maxLen) {
        this.metrics.rejected++;
        this.observer?.onArrival?.(-1, a.adapter, a.time, a.inputTokens + a.outputTokens);
        continue;
      }
      const id = this.req.add(a.time, a.adapter, a.inputTokens, a.outputTokens);
      this.observer?.onArrival?.(id, a.adapter, a.time, a.inputTokens + a.outputTokens);
      this.waiting.pushArrival(id);
    }
  }

  /** The next request that reaches the engine by `t`, or null: one held by a lookup, or a new one that needs none. */
  private nextAdmission(t: number): Arrival | null {
    for (;;) {
      const heldS = this.lookups?.peekS() ?? Infinity;
      const sentS = this.sentEngineArrivalS();
      if (heldS <= sentS) return heldS <= t ? this.lookups!.take() : null;
      if (sentS > t) return null;
      const a = this.arrivals.pop();
      this.metrics.onArrival(a.adapter, a.inputTokens + a.outputTokens);
      if (this.metrics.arrived > this.maxArrivals) {
        throw new AppError(
          'tooMuchWork',
          `the simulation generated more than ${this.maxArrivals} requests by t = ${a.time.toFixed(1)} s ` +
            '(bursty arrivals far above their mean); shorten durationS (limit MAX_SIMULATED_REQUESTS)',
        );
      }
      if (this.lookups && a.adapter !== this.baseIndex && this.lookups.route(a, sentS) !== null) continue;
      return a;
    }
  }

  /** When the next request reaches the engine: a held one, or the next one sent. */
  private nextEngineArrivalS(): number {
    return Math.min(this.lookups?.peekS() ?? Infinity, this.sentEngineArrivalS());
  }

  /** When the next request sent reaches the engine: after the frontend's overhead, and after a scrape holding it. */
  private sentEngineArrivalS(): number {
    const sent = this.arrivals.peekTime();
    if (!this.scrapes || !Number.isFinite(sent) || sent > this.horizon) return sent + this.frontendS;
    return this.scrapes.deliveredAt(sent) + this.frontendS;
  }

  /** When tokens the engine emits at `t` reach the clients. */
  private deliveredAt(t: number): number {
    return this.scrapes ? this.scrapes.deliveredAt(t) : t;
  }

  private stepMs(plan: StepPlan): number {
    const forward = forwardMs(this.profile.forward, {
      decodes: plan.decodes,
      prefillTokens: plan.prefillTokens,
      contextTokens: this.batch.contextTokens(),
      adapters: this.batch.activeAdapters,
      slots: this.engine.maxLoras,
      maxLoraRank: this.engine.maxLoraRank,
      enableLora: this.engine.enableLora,
    });
    const sched = schedulerMs(this.profile.scheduler, this.batch.count, this.waiting.size, plan.skipped);
    return sched + plan.loadMs + forward;
  }

  /**
   * How many copies of this decode-only step run before anything changes: the next completion, the
   * step in which the next request arrives, the last step whose new KV blocks still fit, the window end.
   * Step times grow by `growthMs` per step as the decoders' context grows.
   */
  private identicalSteps(t: number, firstMs: number, growthMs: number): number {
    const elapsedMs = (k: number): number => k * firstMs + (growthMs * k * (k - 1)) / 2;
    const untilFinish = this.batch.nextFinishKey() - this.batch.decodeCounter;
    let k = Number.isFinite(untilFinish) ? untilFinish : Number.MAX_SAFE_INTEGER;
    const arrivalMs = (this.nextEngineArrivalS() - t) * 1000;
    if (Number.isFinite(arrivalMs)) k = Math.min(k, Math.max(1, stepsToReach(arrivalMs, firstMs, growthMs)));
    const windowMs = (this.horizon - t) * 1000;
    k = Math.min(k, Math.max(1, stepsWithin(windowMs, firstMs, growthMs)));
    // the first step's blocks are already allocated; later steps must fit in what is free
    let free = this.kv.free;
    const blockSize = this.profile.blockSize;
    for (let j = 1; j < k; j++) {
      if (j >= blockSize && free >= this.batch.decoders * Math.ceil((k - j) / blockSize)) break;
      const need = this.batch.blocksNeeded(j);
      if (need > free) {
        k = j;
        break;
      }
      free -= need;
    }
    while (k > 1 && elapsedMs(k) > windowMs) k--;
    return k;
  }

  private finishSteps(
    plan: StepPlan,
    steps: number,
    firstMs: number,
    growthMs: number,
    totalMs: number,
    tEnd: number,
  ): void {
    const { batch, req, metrics, kv } = this;
    for (let j = 1; j < steps; j++) kv.allocate(batch.blocksNeeded(j));
    batch.advanceDecodes(steps);
    metrics.onStep(totalMs, steps, batch.count, batch.activeAdapters);
    if (plan.decodes > 0) {
      // gaps of the decoders; with growing steps, record the run's mean (growth is a fraction of a ms)
      const gapMs = firstMs + (growthMs * (steps - 1)) / 2;
      const gaps = this.scrapes
        ? this.deliveredGaps(tEnd - totalMs / 1000, steps, firstMs, growthMs)
        : [{ ms: gapMs, perDecoder: steps }];
      const byAdapter = metrics.byAdapter;
      for (const g of gaps) {
        metrics.onGaps(g.ms, plan.decodes * g.perDecoder);
        if (byAdapter)
          for (let k = 0; k < batch.decodingAdapterCount; k++) {
            const adapter = batch.decodingAdapter(k);
            byAdapter.onGaps(adapter, g.ms, batch.decodersOf(adapter) * g.perDecoder);
          }
      }
    }
    if (this.scrapes) this.prevDeliveredS = this.scrapes.deliveredAt(tEnd);
    for (let i = 0; i < plan.prefillCount; i++) {
      const id = plan.prefillIds[i]!;
      req.computed[id] = req.computed[id]! + plan.prefillChunks[i]!;
      if (req.computed[id]! < req.prompt[id]! + req.generated[id]!) continue;
      // prompt done: the same step samples the next token
      if (req.firstTokenTime[id]! < 0) req.firstTokenTime[id] = this.deliveredAt(tEnd);
      else {
        metrics.onGaps((tEnd - req.lastTokenTime[id]!) * 1000, 1);
        metrics.byAdapter?.onGaps(req.adapter[id]!, (tEnd - req.lastTokenTime[id]!) * 1000, 1);
        this.observer?.onResume?.(id, tEnd);
      }
      req.generated[id] = req.generated[id]! + 1;
      batch.prefillDone(id);
      if (req.generated[id]! >= req.output[id]!) this.complete(id, tEnd);
      else batch.addDecoder(id);
    }
    for (let id = batch.popFinished(); id >= 0; id = batch.popFinished()) this.complete(id, tEnd);
  }

  /**
   * The decoders' token gaps as clients see them when a scrape may hold the tokens: a token made during a
   * scrape arrives when it ends, together with the others made meanwhile (one streamed chunk, one gap).
   * A run never crosses a scrape boundary before its last step, so its steps before the last arrive alike.
   */
  private deliveredGaps(startS: number, steps: number, firstMs: number, growthMs: number): Gap[] {
    const end = (j: number): number => startS + (j * firstMs + (growthMs * j * (j - 1)) / 2) / 1000;
    const at = (j: number): number => this.deliveredAt(end(j));
    const gaps: Gap[] = [];
    const push = (ms: number, perDecoder: number): void => {
      if (ms > 0 && perDecoder > 0) gaps.push({ ms, perDecoder });
    };
    push((at(1) - this.prevDeliveredS) * 1000, 1);
    if (steps >= 3 && at(steps - 1) > at(1)) push(firstMs + (growthMs * (steps - 1)) / 2, steps - 2);
    if (steps >= 2) push((at(steps) - at(steps - 1)) * 1000, 1);
    return gaps;
  }

  private complete(id: number, t: number): void {
    const { req, batch } = this;
    const freed = req.state[id] === RequestState.Decoding ? batch.removeDecoder(id) : req.blocks[id]!;
    batch.unlink(id);
    this.kv.release(freed);
    req.state[id] = RequestState.Done;
    const endS = this.deliveredAt(t);
    this.metrics.onComplete(req, id, endS);
    this.observer?.onComplete?.({
      id,
      adapter: req.adapter[id]!,
      arrivalS: req.arrival[id]!,
      firstTokenS: req.firstTokenTime[id]!,
      endS,
      prompt: req.prompt[id]!,
      output: req.output[id]!,
    });
  }
}

/** `perDecoder` gaps of `ms` each, for every decoder of a run of steps. */
interface Gap {
  ms: number;
  perDecoder: number;
}

/** Salt of the running set's adapter keys (the waiting set's is `waitingSalt`). */
const runningSalt = 0x27d4eb2f;

/** Smallest k >= 1 with k*a + g*k*(k-1)/2 >= target. */
function stepsToReach(targetMs: number, a: number, g: number): number {
  if (targetMs <= a) return 1;
  let k =
    g > 1e-12
      ? Math.ceil((-(a - g / 2) + Math.sqrt((a - g / 2) ** 2 + 2 * g * targetMs)) / g)
      : Math.ceil(targetMs / a);
  k = Math.max(1, k);
  while (k > 1 && (k - 1) * a + (g * (k - 1) * (k - 2)) / 2 >= targetMs) k--;
  while (k * a + (g * k * (k - 1)) / 2 < targetMs) k++;
  return k;
}

/** Largest k >= 0 with k*a + g*k*(k-1)/2 <= limit. */
function stepsWithin(limitMs: number, a: number, g: number): number {
  const k = stepsToReach(limitMs, a, g);
  return k * a + (g * k * (k - 1)) / 2 <= limitMs ? k : k - 1;
}

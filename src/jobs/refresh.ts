import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { PredictorBundle, PredictorMetrics } from '../ml/bundle.js';
import { bundleKey, writeVersionedBundle } from '../ml/bundle-store.js';
import { Predictor } from '../ml/predictor.js';
import type { PredictorRegistry } from '../ml/registry.js';
import { profileKey, tensorParallelSizeOf, type Profile } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { MemoryPoolStore } from '../store/memory-store.js';
import type { PoolStore, StoredJob } from '../store/pool-store.js';
import { profileSha256 } from '../training/sweep.js';
import type { SweepQueueAddress } from '../training/sweep-queue.js';
import type { RefreshProgress, RefreshWorkerInput, RefreshWorkerResult } from './refresh.worker.js';
import { workerEntry } from '../shared/worker-file.js';

export type RefreshState = 'running' | 'replaced' | 'kept' | 'failed' | 'cancelled';

export interface RefreshJob {
  id: string;
  model: string;
  gpu: string;
  /** the profile's GPUs per server, when above 1 */
  tensorParallelSize?: number;
  seed: number;
  workloads: number;
  state: RefreshState;
  trigger: 'request' | 'schedule';
  /** the replica running it: a record left "running" by a replica that no longer holds the lease is ended as failed */
  replica: string;
  startedAt: string;
  finishedAt: string | null;
  durationS: number | null;
  progress: { sweepRowsDone: number; sweepRowsTotal: number | null; lastLog: string | null };
  /** versions and Twin hold-out metrics of the candidate and of the model it would replace, same rows */
  candidate: { version: string; metrics: PredictorMetrics } | null;
  current: { version: string; metrics: PredictorMetrics | null } | null;
  decision: string | null;
  persistedTo: string | null;
  error: string | null;
}

export interface RefreshOptions {
  predictors: PredictorRegistry;
  /** where replaced models are written (predictors/<profile key>/); null keeps them in memory only */
  modelsDir: string | null;
  workloads: number;
  /** most workloads one refresh may sweep (REFRESH_MAX_WORKLOADS); more is refused with 413 */
  maxWorkloads?: number;
  threads: number;
  /** the sweep queue a refresh's sweep goes to (REFRESH_SWEEPS=queue); absent: `threads` local threads */
  sweepQueue?: SweepQueueAddress;
  seed: number;
  /** the service's profile directories (ProfileStore.dirs): the refresh thread sweeps with the same profiles */
  profileDirs?: readonly string[];
  teacherTrees?: number;
  denseSamples?: number;
  /** called after a model was swapped in (pool plans recompute) */
  onReplaced?: (p: Predictor) => void;
  /** called when a job ends, whatever the outcome (metrics, logs) */
  onFinished?: (job: RefreshJob) => void;
  /** where job records live and the lease that lets one replica at a time refresh (default: memory) */
  store?: PoolStore;
  /** this replica's name on that lease */
  replicaId?: string;
  /** a job record that could not be written (the store is down): the job goes on */
  onStoreError?: (err: unknown) => void;
  now?: () => number;
}

/** Relative slack of "not worse": the candidate may be within 1 % of the served model's hold-out SMAPE. */
const smapeSlack = 1.01;
const f1Slack = 0.005;
const keptJobs = 100;
/** The fleet-wide refresh lease: held while a refresh runs, renewed every third of it, freed when its replica dies. */
const refreshLease = 'refresh';
const refreshLeaseMs = 30_000;
/** progress is written to the store at most this often (the worker reports every sweep row) */
const progressWriteMs = 2000;
/**
 * Background model refresh: one at a time across the replicas sharing a store (a lease), each in its own
 * worker thread. A candidate replaces the served model only if it is not worse on the same Twin hold-out
 * rows (throughput SMAPE and starvation macro-F1); a failure leaves the old model serving. Job records
 * live in the store, so any replica answers for any job.
 */
export class RefreshManager {
  private running: {
    job: RefreshJob;
    abort: AbortController;
    done: Promise<void>;
    cancelled: boolean;
    renew: NodeJS.Timeout;
  } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly store: PoolStore;
  private readonly replicaId: string;
  private lastProgressWrite = 0;
  /** set synchronously while start() awaits the store, so a second start() on this replica is refused */
  private starting = false;

  constructor(private readonly options: RefreshOptions) {
    this.now = options.now ?? Date.now;
    this.store = options.store ?? new MemoryPoolStore(this.now);
    this.replicaId = options.replicaId ?? randomUUID();
  }

  /** Starts a refresh; 409 while another one runs (here or on another replica), 404 for a model without a predictor. */
  async start(
    model: string,
    gpu: string,
    opts: { tensorParallelSize?: number; seed?: number; workloads?: number; trigger?: RefreshJob['trigger'] } = {},
  ): Promise<RefreshJob> {
    if (this.running)
      throw new AppError('conflict', `refresh ${this.running.job.id} is running; one refresh at a time`, {
        running: this.running.job.id,
      });
    if (this.starting) throw new AppError('conflict', 'a refresh is starting on this replica; one refresh at a time');
    const served = this.options.predictors.get(model, gpu, opts.tensorParallelSize);
    const tp = tensorParallelSizeOf(served.profile);
    const workloads = opts.workloads ?? this.options.workloads;
    const maxWorkloads = this.options.maxWorkloads ?? Infinity;
    if (workloads > maxWorkloads) {
      throw new AppError(
        'tooMuchWork',
        `workloads: ${workloads} is more than the ${maxWorkloads} a refresh may sweep (limit REFRESH_MAX_WORKLOADS)`,
        { path: 'workloads', limit: 'REFRESH_MAX_WORKLOADS', allowed: maxWorkloads, requested: workloads },
      );
    }
    const job: RefreshJob = {
      id: randomUUID(),
      model,
      gpu,
      ...(tp > 1 ? { tensorParallelSize: tp } : {}),
      seed: opts.seed ?? this.options.seed,
      workloads,
      state: 'running',
      trigger: opts.trigger ?? 'request',
      replica: this.replicaId,
      startedAt: new Date(this.now()).toISOString(),
      finishedAt: null,
      durationS: null,
      progress: { sweepRowsDone: 0, sweepRowsTotal: null, lastLog: null },
      candidate: null,
      current: null,
      decision: null,
      persistedTo: null,
      error: null,
    };
    this.starting = true;
    try {
      if (!(await this.store.acquireLease(refreshLease, this.replicaId, refreshLeaseMs))) {
        const holder = await this.store.leaseHolder(refreshLease);
        throw new AppError('conflict', 'a refresh is running on another replica; one refresh at a time', {
          runningOn: holder,
        });
      }
      try {
        await this.store.putJob(job as unknown as StoredJob, keptJobs);
      } catch (err) {
        await this.store.releaseLease(refreshLease, this.replicaId).catch(() => undefined);
        throw err;
      }
    } finally {
      this.starting = false;
    }
    const input: RefreshWorkerInput = {
      model,
      gpu,
      tensorParallelSize: tp,
      seed: job.seed,
      workloads: job.workloads,
      threads: this.options.threads,
      ...(this.options.sweepQueue ? { sweepQueue: this.options.sweepQueue } : {}),
      datasetFile: this.datasetFile(job, served.profile),
      created: job.startedAt,
      current: served.bundle,
      ...(this.options.profileDirs ? { profileDirs: this.options.profileDirs } : {}),
      ...(this.options.teacherTrees ? { teacherTrees: this.options.teacherTrees } : {}),
      ...(this.options.denseSamples ? { denseSamples: this.options.denseSamples } : {}),
    };
    const abort = new AbortController();
    const renew = setInterval(() => {
      this.store
        .acquireLease(refreshLease, this.replicaId, refreshLeaseMs)
        .catch((err: unknown) => this.options.onStoreError?.(err));
    }, refreshLeaseMs / 3);
    renew.unref();
    const done = this.follow(job, input, served, abort.signal, renew);
    this.running = { job, abort, done, cancelled: false, renew };
    return job;
  }

  /** Stops a running refresh (its job ends as cancelled, the served model stays); 409 once it has ended. */
  async cancel(id: string): Promise<RefreshJob> {
    const job = await this.get(id);
    const r = this.running;
    if (!r || r.job !== job) {
      const where =
        job.state === 'running' ? 'runs on another replica: cancel it there' : `has already ended (${job.state})`;
      throw new AppError('conflict', `refresh ${id} ${where}`, { id, state: job.state });
    }
    r.cancelled = true;
    r.abort.abort(new Error('cancelled by request'));
    await r.done;
    return job;
  }

  async get(id: string): Promise<RefreshJob> {
    if (this.running?.job.id === id) return this.running.job;
    const job = (await this.store.getJob(id)) as RefreshJob | null;
    if (!job) throw new AppError('notFound', `no refresh job "${id}"`, { id });
    return this.orphanChecked(job);
  }

  /** Jobs remembered (the last 100), oldest first. */
  async list(): Promise<RefreshJob[]> {
    const jobs = (await this.store.listJobs()) as unknown as RefreshJob[];
    return Promise.all(jobs.map((j) => (this.running?.job.id === j.id ? this.running.job : this.orphanChecked(j))));
  }

  /**
   * A record still "running" whose replica no longer holds the refresh lease was left by a replica that
   * died (kill -9, OOM): it is ended as failed, so it does not read "running" forever.
   */
  private async orphanChecked(job: RefreshJob): Promise<RefreshJob> {
    if (job.state !== 'running' || (await this.store.leaseHolder(refreshLease)) === job.replica) return job;
    // its replica may have written the outcome and freed the lease between the two reads above
    const fresh = (await this.store.getJob(job.id)) as RefreshJob | null;
    if (fresh?.state !== 'running') return fresh ?? job;
    const ended: RefreshJob = {
      ...job,
      state: 'failed',
      error: 'the replica running this refresh stopped before it ended',
      finishedAt: new Date(this.now()).toISOString(),
    };
    await this.store.putJob(ended as unknown as StoredJob, keptJobs);
    return ended;
  }

  isRunning(): boolean {
    return this.running !== null;
  }

  /** Resolves when the running refresh (if any) has ended. */
  async idle(): Promise<void> {
    await this.running?.done;
  }

  /** Refreshes every served model in turn every `intervalS` seconds (skipped while one runs). */
  schedule(intervalS: number): void {
    if (intervalS <= 0) return;
    let next = 0;
    this.timer = setInterval(() => {
      const all = this.options.predictors.list();
      if (this.running || all.length === 0) return;
      const p = all[next++ % all.length]!;
      // another replica running one (409) or the store being down skips this turn
      this.start(p.profile.model, p.profile.gpu, {
        tensorParallelSize: tensorParallelSizeOf(p.profile),
        trigger: 'schedule',
      }).catch((err: unknown) => {
        if (!(err instanceof AppError && err.status === 409)) this.options.onStoreError?.(err);
      });
    }, intervalS * 1000);
    this.timer.unref();
  }

  /** Stops the schedule and the running refresh (its job ends as failed: "stopped"). */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const r = this.running;
    if (r) {
      r.abort.abort(new Error('stopped: the service is shutting down'));
      await r.done;
    }
  }

  /** Runs the job on a thread of its own (piscina: the thread ends with the job, abortable). */
  private async follow(
    job: RefreshJob,
    input: RefreshWorkerInput,
    served: Predictor,
    signal: AbortSignal,
    renew: NodeJS.Timeout,
  ): Promise<void> {
    const started = this.now();
    const pool = new Piscina({ ...workerEntry(import.meta.url, 'refresh.worker'), minThreads: 0, maxThreads: 1 });
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (m: RefreshProgress) => {
      if (m.type === 'progress') job.progress = { ...job.progress, sweepRowsDone: m.done, sweepRowsTotal: m.total };
      else job.progress = { ...job.progress, lastLog: m.line };
      this.saveProgress(job);
    });
    let result: RefreshWorkerResult | null = null;
    let error: string | null = null;
    try {
      result = (await pool.run({ input, port: port2 }, { transferList: [port2], signal })) as RefreshWorkerResult;
    } catch (err) {
      error = signal.aborted ? String((signal.reason as Error)?.message ?? 'stopped') : (err as Error).message;
    } finally {
      port1.close();
      await pool.destroy();
    }
    // every outcome field changes in this one synchronous block: a reader never sees half an answer
    const cancelled = this.running?.cancelled === true;
    try {
      if (result && !cancelled) this.decide(job, result, served);
    } catch (err) {
      error = (err as Error).message;
    }
    if (cancelled) {
      job.state = 'cancelled';
      job.error = 'cancelled by request';
    } else if (error !== null) {
      job.state = 'failed';
      job.error = error;
    }
    job.finishedAt = new Date(this.now()).toISOString();
    job.durationS = (this.now() - started) / 1000;
    clearInterval(renew);
    await this.store
      .putJob(job as unknown as StoredJob, keptJobs)
      .catch((err: unknown) => this.options.onStoreError?.(err));
    await this.store
      .releaseLease(refreshLease, this.replicaId)
      .catch((err: unknown) => this.options.onStoreError?.(err));
    this.running = null;
    this.options.onFinished?.(job);
  }

  /** Writes a running job's progress for the other replicas, at most every progressWriteMs. */
  private saveProgress(job: RefreshJob): void {
    if (this.now() - this.lastProgressWrite < progressWriteMs) return;
    this.lastProgressWrite = this.now();
    this.store.putJob(job as unknown as StoredJob, keptJobs).catch((err: unknown) => this.options.onStoreError?.(err));
  }

  private decide(job: RefreshJob, r: RefreshWorkerResult, served: Predictor): void {
    job.candidate = { version: r.bundle.metadata.version, metrics: r.candidate };
    job.current = { version: served.version, metrics: r.current };
    const verdict = notWorse(r.candidate, r.current);
    job.decision = verdict.reason;
    if (!verdict.ok) {
      job.state = 'kept';
      return;
    }
    const next = new Predictor(served.profile, r.bundle);
    if (this.options.modelsDir) job.persistedTo = persist(this.options.modelsDir, r.bundle);
    this.options.predictors.swap(next);
    job.state = 'replaced';
    this.options.onReplaced?.(next);
  }

  /**
   * The sweep's file, named by its profile's hash too: a dataset of the same model@gpu and seed from before a profile
   * changed belongs to another sweep (openDataset refuses it), so an updated profile starts a file of its own.
   */
  private datasetFile(job: RefreshJob, profile: Profile): string {
    const dir = this.options.modelsDir ? join(this.options.modelsDir, 'sweeps') : join(tmpdir(), 'lora-placer-sweeps');
    const key = profileKey(job.model, job.gpu, job.tensorParallelSize);
    return join(dir, `${key}-seed${job.seed}-${profileSha256(profile).slice(0, 12)}.jsonl`);
  }
}

/** The rule a candidate must pass: not worse on throughput SMAPE nor on starvation macro-F1. */
export function notWorse(
  candidate: PredictorMetrics,
  current: PredictorMetrics | null,
): { ok: boolean; reason: string } {
  if (!current) return { ok: true, reason: 'served model has other features: replaced without comparison' };
  const smapeOk = candidate.throughput.smapeResearch <= current.throughput.smapeResearch * smapeSlack;
  const f1Ok = candidate.starved.macroF1 >= current.starved.macroF1 - f1Slack;
  const figures =
    `throughput SMAPE ${candidate.throughput.smapeResearch} vs ${current.throughput.smapeResearch} %, starvation ` +
    `macro-F1 ${candidate.starved.macroF1} vs ${current.starved.macroF1}`;
  if (smapeOk && f1Ok) return { ok: true, reason: `not worse on the hold-out rows: ${figures}` };
  return {
    ok: false,
    reason:
      `worse on the hold-out rows (${!smapeOk ? 'throughput' : 'starvation'}): ${figures}; ` + 'the served model stays',
  };
}

/**
 * Publishes a replacing bundle to MODELS_DIR in the versioned layout (src/ml/bundle-store.ts): a crash at
 * any moment leaves the old bundle or the new one, whole, for this and the other replicas to serve.
 */
function persist(modelsDir: string, bundle: PredictorBundle): string {
  const dir = join(modelsDir, 'predictors', bundleKey(bundle));
  writeVersionedBundle(dir, bundle);
  return dir;
}

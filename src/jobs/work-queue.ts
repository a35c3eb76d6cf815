import { Piscina } from 'piscina';
import type { ProfileStore } from '../profiles/index.js';
import { AppError, fromWireError } from '../shared/errors.js';
import { runWorkTask, type WorkEnvelope, type WorkOutputs, type WorkTask } from './work-task.js';
import { workerEntry } from '../shared/worker-file.js';

/** Where tasks run: worker threads in the service, the caller's thread in tests (same task code). */
export interface WorkBackend {
  /** tasks it runs at once */
  readonly slots: number;
  run(task: WorkTask, signal: AbortSignal): Promise<WorkEnvelope>;
  close(): Promise<void>;
}

/** Worker threads (piscina); an aborted task that is already running has its thread stopped and replaced. */
export class ThreadBackend implements WorkBackend {
  private pool: Piscina | null = null;

  constructor(
    readonly slots: number,
    /** JS heap of each worker; the Twin's request table lives outside it and is bounded by the work limits */
    private readonly heapMb = 1024,
  ) {}

  run(task: WorkTask, signal: AbortSignal): Promise<WorkEnvelope> {
    this.pool ??= new Piscina({
      ...workerEntry(import.meta.url, 'work.worker'),
      minThreads: this.slots,
      maxThreads: this.slots,
      idleTimeout: Infinity,
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb },
    });
    return this.pool.run(task, { signal }) as Promise<WorkEnvelope>;
  }

  async close(): Promise<void> {
    await this.pool?.destroy();
    this.pool = null;
  }
}

/** Runs tasks in the calling thread, one at a time (tests and tools: no thread start-up). */
export class InlineBackend implements WorkBackend {
  readonly slots = 1;
  /** `profiles`: those the tasks look up (default: the embedded ones, as the worker threads do) */
  constructor(private readonly profiles?: ProfileStore) {}
  run(task: WorkTask, signal: AbortSignal): Promise<WorkEnvelope> {
    signal.throwIfAborted();
    return runWorkTask(task, this.profiles);
  }
  async close(): Promise<void> {}
}

export interface WorkQueueOptions {
  /** tasks allowed to wait beyond the running ones; one more is refused with 503 LP_ERR_BUSY */
  maxQueued: number;
  /** from admission: a task not done by then is stopped and answered 503 LP_ERR_TIMEOUT */
  timeoutMs: number;
  /** every refusal, stop and cancellation, for metrics */
  onRejected?: (kind: WorkTask['kind'], reason: 'busy' | 'timeout' | 'cancelled' | 'closed') => void;
}

/**
 * Admission control in front of a backend: a bounded number of tasks in flight, a deadline on each,
 * and cancellation when the client that asked has gone. The HTTP thread never runs the work itself,
 * so /healthz, /metrics and /v1/predict answer whatever the heavy routes are asked.
 */
export class WorkQueue {
  private inFlight = 0;
  private closed = false;
  /** moving average of task durations, for Retry-After */
  private meanTaskMs = 1000;

  constructor(
    private readonly backend: WorkBackend,
    private readonly options: WorkQueueOptions,
  ) {}

  get slots(): number {
    return this.backend.slots;
  }

  stats(): { running: number; queued: number } {
    const running = Math.min(this.inFlight, this.backend.slots);
    return { running, queued: this.inFlight - running };
  }

  async run<K extends WorkTask['kind']>(
    task: Extract<WorkTask, { kind: K }>,
    clientSignal?: AbortSignal,
  ): Promise<WorkOutputs[K]> {
    if (this.closed) throw this.refuse(task.kind, 'closed', new AppError('notReady', 'the service is shutting down'));
    if (this.inFlight >= this.backend.slots + this.options.maxQueued) {
      throw this.refuse(
        task.kind,
        'busy',
        new AppError(
          'busy',
          `${this.inFlight} tasks are running or queued, the most this service takes (VERIFY_THREADS + ` +
            'WORK_QUEUE_MAX); retry later',
        ),
      );
    }
    // one controller, its timer cleared when the task ends: AbortSignal.timeout would keep a timer alive
    // for the whole deadline after every task (tens of thousands at a thousand tasks a second)
    const stop = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      stop.abort(new Error('deadline'));
    }, this.options.timeoutMs);
    const onClientGone = (): void => stop.abort(new Error('client gone'));
    clientSignal?.addEventListener('abort', onClientGone, { once: true });
    const started = Date.now();
    this.inFlight++;
    let envelope: WorkEnvelope;
    try {
      envelope = await this.backend.run(task, stop.signal);
    } catch (err) {
      throw this.stopped(task.kind, err, timedOut, clientSignal);
    } finally {
      this.inFlight--;
      clearTimeout(timer);
      clientSignal?.removeEventListener('abort', onClientGone);
    }
    this.meanTaskMs = 0.8 * this.meanTaskMs + 0.2 * (Date.now() - started);
    if (!envelope.ok) throw fromWireError(envelope.error);
    return envelope.value as WorkOutputs[K];
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.backend.close();
  }

  /** Seconds until a slot is likely free: the queue ahead, at the recent pace. */
  private retryAfterS(): number {
    return Math.min(60, Math.max(1, Math.ceil(((this.inFlight / this.backend.slots) * this.meanTaskMs) / 1000)));
  }

  private refuse(kind: WorkTask['kind'], reason: 'busy' | 'timeout' | 'cancelled' | 'closed', err: AppError): AppError {
    if (reason === 'busy' || reason === 'timeout') err.retryAfterS = this.retryAfterS();
    this.options.onRejected?.(kind, reason);
    return err;
  }

  /** The error of a task the backend did not finish: past its deadline, its client gone, or a crashed worker. */
  private stopped(
    kind: WorkTask['kind'],
    err: unknown,
    timedOut: boolean,
    clientSignal: AbortSignal | undefined,
  ): AppError {
    if (timedOut) {
      return this.refuse(
        kind,
        'timeout',
        new AppError(
          'timeout',
          `the ${kind} task did not finish within TASK_TIMEOUT_MS (${this.options.timeoutMs} ms) and was stopped`,
        ),
      );
    }
    if (clientSignal?.aborted)
      return this.refuse(
        kind,
        'cancelled',
        new AppError('clientClosed', 'the client closed the connection; the task was stopped'),
      );
    if (this.closed) return this.refuse(kind, 'closed', new AppError('notReady', 'the service is shutting down'));
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return new AppError('tooMuchWork', `the ${kind} task ran out of memory on its worker thread; ask for less work`);
    }
    const internal = new AppError('internal', 'internal error');
    internal.stack = (err as Error)?.stack ?? String(err);
    return internal;
  }
}

import { hostname } from 'node:os';
import { type Job, UnrecoverableError, Worker } from 'bullmq';
import { Piscina } from 'piscina';
import { workerEntry } from '../shared/worker-file.js';
import {
  maxResultBytes,
  openSweepBatch,
  type BatchRow,
  type OpenedBatch,
  type SweepBatchResult,
} from './sweep-batch.js';
import { bullPrefix, sweepQueueName, type SweepQueueAddress } from './sweep-queue.js';

export interface SweepQueueWorkerOptions {
  address: SweepQueueAddress;
  /** Twin threads, and jobs taken at once */
  threads: number;
  /**
   * a job's lock (default 30 s), renewed while it runs: a worker that vanishes (kill -9, lost node) has its
   * jobs taken again by another worker within about twice this
   */
  lockMs?: number;
  /** shown on the jobs it takes (default host:pid) */
  name?: string;
  /** after each job, finished or failed */
  onJob?: (report: JobReport) => void;
  /** Redis unreachable and the like (BullMQ retries by itself) */
  onError?: (err: Error) => void;
}

export interface JobReport {
  id: string;
  /** "model@gpu rows a..b" when the job was a readable batch */
  what: string;
  ms: number;
  /** why it failed (null: done) */
  error: string | null;
  /** the failure is final (a refused batch), not retried */
  final: boolean;
}

/** A job stalled (its worker vanished) this many times is failed rather than run again. */
const maxStalledCount = 3;

/**
 * Takes sweep batches from the queue and simulates them on `threads` worker threads, so the event
 * loop keeps renewing the jobs' locks. A batch is checked before any simulation (openSweepBatch: shape,
 * profile sha256, row versions); one that fails the check fails at once and for good (BullMQ's
 * UnrecoverableError), so a bad job costs one look and never blocks the queue; a result over its bound
 * fails the same way. A thread that crashes fails the try, which the queue retries.
 */
export class SweepQueueWorker {
  readonly name: string;
  private readonly pool: Piscina;
  private readonly worker: Worker<unknown, SweepBatchResult>;

  constructor(private readonly options: SweepQueueWorkerOptions) {
    this.name = options.name ?? `${hostname()}:${process.pid}`;
    const lockMs = options.lockMs ?? 30_000;
    this.pool = new Piscina({
      ...workerEntry(import.meta.url, 'sweep-batch.worker'),
      minThreads: options.threads,
      maxThreads: options.threads,
    });
    this.worker = new Worker<unknown, SweepBatchResult>(sweepQueueName, (job) => this.process(job), {
      connection: { url: options.address.url },
      prefix: bullPrefix(options.address.keyPrefix),
      concurrency: options.threads,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      maxStalledCount,
      name: this.name,
    });
    this.worker.on('error', (err) => options.onError?.(err));
  }

  /** Resolves once connected to Redis. */
  async ready(): Promise<void> {
    await this.worker.waitUntilReady();
  }

  /** Stops taking jobs, lets the running ones finish, then stops the threads. */
  async close(): Promise<void> {
    await this.worker.close();
    await this.pool.destroy();
  }

  private async process(job: Job<unknown, SweepBatchResult>): Promise<SweepBatchResult> {
    const started = Date.now();
    let what = 'unreadable batch';
    const report = (error: string | null, final: boolean): void =>
      this.options.onJob?.({ id: job.id ?? '?', what, ms: Date.now() - started, error, final });
    let batch: OpenedBatch;
    try {
      batch = openSweepBatch(job.data);
    } catch (err) {
      report((err as Error).message, true);
      throw new UnrecoverableError((err as Error).message);
    }
    what = `${batch.profile.model}@${batch.profile.gpu} rows ${batch.indices[0]}..${batch.indices.at(-1)}`;
    let rows: BatchRow[];
    try {
      rows = (await this.pool.run(batch)) as BatchRow[];
    } catch (err) {
      report((err as Error).message, false);
      throw err;
    }
    const result = { rows };
    const bytes = JSON.stringify(result).length;
    if (bytes > maxResultBytes(batch.indices.length)) {
      const message = `result of ${bytes} bytes is over its bound of ${maxResultBytes(batch.indices.length)}`;
      report(message, true);
      throw new UnrecoverableError(message);
    }
    report(null, false);
    return result;
  }
}

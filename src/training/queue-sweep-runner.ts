import { randomUUID } from 'node:crypto';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { DatasetRow } from '../ml/dataset.js';
import type { ProfileStore } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { checkBatchResult, maxBatchRows, sweepBatch, type SweepBatch } from './sweep-batch.js';
import { bullPrefix, describeQueue, sweepQueueName, type SweepQueueAddress } from './sweep-queue.js';
import type { SweepJob, SweepRunner } from './sweep-runner.js';

export interface QueueSweepRunnerOptions {
  address: SweepQueueAddress;
  /** rows per queued job (default 8: a few seconds of one thread) */
  batchRows?: number;
  /** the sweep fails when no worker is connected to the queue for this long (default 60 s) */
  workerWaitMs?: number;
  /** the sweep fails when Redis cannot be reached within this (default 10 s) */
  connectTimeoutMs?: number;
  /** how often workers are counted and unreported jobs looked up (default 5 s) */
  checkMs?: number;
  /** one line per notable event (jobs queued, waiting for workers) */
  log?: (line: string) => void;
}

export const defaultBatchRows = 8;
/** a retried job (a thread that crashed, Redis lost mid-answer) gets this many tries in all */
const attempts = 3;
/** jobs stay this long at most: a caller that died leaves nothing behind for longer */
const keepCompletedS = 24 * 3600;
const keepFailedS = 7 * 24 * 3600;
/** unreported jobs are looked up every this many checks (events missed while Redis was away) */
const lookupEvery = 6;

export interface Batch {
  id: string;
  data: SweepBatch;
  /** the caller's jobs of the batch, by index */
  jobs: Map<number, SweepJob>;
  settled: boolean;
}

/**
 * A SweepRunner on a BullMQ queue: the rows to compute are cut into batches of `batchRows` indices,
 * each a job carrying its profile (sweep-batch.ts), taken by `lora-placer worker` processes and by
 * service replicas with SWEEP_WORKER=1. Results are checked against their batch and reported once per
 * index, whatever happens to the workers: a job whose worker died (kill -9, lost node) is taken again
 * by another once its lock expires, and an index reported before is not reported again. The rows
 * are those of the local runners (the same code computes them), so `train` gives the same bytes.
 */
export class QueueSweepRunner implements SweepRunner {
  private readonly batchRows: number;
  private readonly workerWaitMs: number;
  private readonly connectTimeoutMs: number;
  private readonly checkMs: number;
  private queue: Queue | null = null;
  private events: QueueEvents | null = null;
  private lastError: Error | null = null;

  constructor(
    private readonly profiles: ProfileStore,
    private readonly options: QueueSweepRunnerOptions,
  ) {
    this.batchRows = options.batchRows ?? defaultBatchRows;
    if (!Number.isInteger(this.batchRows) || this.batchRows < 1 || this.batchRows > maxBatchRows)
      throw new AppError('invalidInput', `batch rows: expected 1 to ${maxBatchRows}, got ${this.batchRows}`);
    this.workerWaitMs = options.workerWaitMs ?? 60_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.checkMs = options.checkMs ?? 5000;
  }

  async run(
    jobs: SweepJob[],
    onRow: (job: SweepJob, row: DatasetRow | null) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    if (jobs.length === 0) return;
    signal?.throwIfAborted();
    const { queue, events } = await this.connect();
    const batches = sweepBatches(jobs, this.profiles, this.batchRows, randomUUID());
    // one "closing" listener per job waiting on this queue (BullMQ's waitUntilFinished)
    queue.setMaxListeners(batches.length + 16);
    const added = await queue.addBulk(
      batches.map((b) => ({
        name: `${b.data.header.model}@${b.data.header.gpu}`,
        data: b.data,
        opts: {
          jobId: b.id,
          attempts,
          backoff: { type: 'fixed', delay: 1000 },
          removeOnComplete: { age: keepCompletedS },
          removeOnFail: { age: keepFailedS, count: 1000 },
        },
      })),
    );
    this.options.log?.(
      `queued ${batches.length} sweep job(s) of up to ${this.batchRows} rows on ${describeQueue(this.options.address)}`,
    );
    try {
      await this.collect(queue, events, batches, added, onRow, signal);
    } catch (err) {
      // jobs no worker took yet are withdrawn; a job being run finishes and expires with its result
      await Promise.all(batches.filter((b) => !b.settled).map((b) => queue.remove(b.id).catch(() => 0)));
      throw err;
    }
  }

  async close(): Promise<void> {
    const { queue, events } = this;
    this.queue = null;
    this.events = null;
    await Promise.all([events?.close(), queue?.close()]);
  }

  /**
   * The queue and its events, connected; AppError storeUnavailable when Redis does not answer in time.
   * The events' connection opens only once the queue's has: a QueueEvents that never connected does
   * not close (BullMQ waits for its connection), and would keep the process alive.
   */
  private async connect(): Promise<{ queue: Queue; events: QueueEvents }> {
    const opts = { connection: { url: this.options.address.url }, prefix: bullPrefix(this.options.address.keyPrefix) };
    // BullMQ reports connection problems as 'error' events (ioredis reconnects by itself)
    const remember = (err: Error): void => {
      this.lastError = err;
    };
    if (!this.queue) {
      const queue = new Queue(sweepQueueName, opts);
      queue.on('error', remember);
      try {
        await this.ready(queue);
      } catch (err) {
        await queue.close();
        throw err;
      }
      this.queue = queue;
    }
    if (!this.events) {
      this.events = new QueueEvents(sweepQueueName, opts);
      this.events.on('error', remember);
      await this.ready(this.events);
    }
    return { queue: this.queue, events: this.events };
  }

  private async ready(connection: Queue | QueueEvents): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const why = this.lastError ? `: ${this.lastError.message}` : '';
        const where = describeQueue(this.options.address);
        reject(
          new AppError('storeUnavailable', `cannot reach ${where} within ${this.connectTimeoutMs / 1000} s${why}`),
        );
      }, this.connectTimeoutMs);
    });
    try {
      await Promise.race([connection.waitUntilReady(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Jobs grouped by sweep (profile and seed), cut into batches of ascending indices. */
  /**
   * Waits for every batch, reporting rows as they come. Fails on the first failed job, when no worker
   * is connected for workerWaitMs, or on abort.
   */
  private collect(
    queue: Queue,
    events: QueueEvents,
    batches: Batch[],
    added: Job[],
    onRow: (job: SweepJob, row: DatasetRow | null) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let open = batches.length;
      let ended = false;
      let checks = 0;
      let workerlessSince: number | null = null;
      const reported = new Set<number>();
      const end = (err?: unknown): void => {
        if (ended) return;
        ended = true;
        clearInterval(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err === undefined) resolve();
        else reject(err);
      };
      const onAbort = (): void => end(signal!.reason);
      const settle = (batch: Batch, outcome: { value: unknown } | { failed: string }): void => {
        if (ended || batch.settled) return;
        batch.settled = true;
        try {
          if ('failed' in outcome) throw new AppError('internal', `${jobText(batch)} failed: ${outcome.failed}`);
          const rows = checkBatchResult(batch.data.indices, outcome.value);
          for (const [index, job] of batch.jobs) {
            // rows are keyed by index: one reported before (a job run twice) is not reported again
            if (reported.has(index)) continue;
            reported.add(index);
            onRow(job, rows.get(index)!);
          }
        } catch (err) {
          end(err);
          return;
        }
        // collected: the job's result need not stay in Redis
        queue.remove(batch.id).catch(() => 0);
        if (--open === 0) end();
      };
      const lookUp = async (batch: Batch): Promise<void> => {
        const job = await Job.fromId(queue, batch.id);
        if (!job) return settle(batch, { failed: 'it is no longer in the queue (removed by someone else?)' });
        const state = await job.getState();
        if (state === 'completed') settle(batch, { value: job.returnvalue });
        else if (state === 'failed') settle(batch, { failed: job.failedReason });
      };
      let checking = false;
      const check = async (): Promise<void> => {
        // one check at a time: looking up many jobs on a slow Redis may outlast the interval
        if (checking || ended) return;
        checking = true;
        try {
          await checkOnce();
        } finally {
          checking = false;
        }
      };
      const checkOnce = async (): Promise<void> => {
        checks++;
        const workers = await queue.getWorkersCount().catch(() => null);
        if (workers === 0) {
          workerlessSince ??= Date.now();
          if (Date.now() - workerlessSince >= this.workerWaitMs) {
            end(
              new AppError(
                'timeout',
                `no worker has taken sweep jobs from ${describeQueue(this.options.address)} for ` +
                  `${Math.round(this.workerWaitMs / 1000)} s: start \`lora-placer worker\` (or service replicas ` +
                  'with SWEEP_WORKER=1) on the same Redis',
              ),
            );
          }
        } else {
          workerlessSince = null;
        }
        if (checks % lookupEvery === 0)
          for (const b of batches) if (!b.settled && !ended) await lookUp(b).catch(() => undefined);
      };
      const timer = setInterval(() => void check(), this.checkMs);
      signal?.addEventListener('abort', onAbort, { once: true });
      void check();
      batches.forEach((batch, i) => {
        added[i]!.waitUntilFinished(events).then(
          (value: unknown) => settle(batch, { value }),
          (err: Error) => {
            // the queue closing (close() while a sweep runs) is not the job failing
            if (!ended) settle(batch, { failed: err.message });
          },
        );
      });
    });
  }
}

function jobText(batch: Batch): string {
  const { indices, header } = batch.data;
  return `sweep job ${batch.id} (rows ${indices[0]}..${indices.at(-1)} of ${header.model}@${header.gpu})`;
}

/**
 * The queued jobs of a sweep: its rows, grouped by profile (model, GPU, tensor-parallel size) and seed, cut into
 * batches of `batchRows` indices, each carrying its profile; ids `${run}-${n}`.
 */
export function sweepBatches(jobs: SweepJob[], profiles: ProfileStore, batchRows: number, run: string): Batch[] {
  const sweeps = new Map<string, SweepJob[]>();
  for (const job of jobs) {
    const key = JSON.stringify([job.model, job.gpu, job.tensorParallelSize ?? 1, job.seed]);
    sweeps.set(key, [...(sweeps.get(key) ?? []), job]);
  }
  const batches: Batch[] = [];
  for (const group of sweeps.values()) {
    const { model, gpu, tensorParallelSize, seed } = group[0]!;
    const profile = profiles.get(model, gpu, tensorParallelSize ?? 1);
    const sorted = [...new Map(group.map((j) => [j.index, j])).values()].sort((a, b) => a.index - b.index);
    for (let at = 0; at < sorted.length; at += batchRows) {
      const slice = sorted.slice(at, at + batchRows);
      batches.push({
        id: `${run}-${batches.length}`,
        data: sweepBatch(
          profile,
          seed,
          slice.map((j) => j.index),
        ),
        jobs: new Map(slice.map((j) => [j.index, j])),
        settled: false,
      });
    }
  }
  return batches;
}

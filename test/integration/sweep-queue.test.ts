import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerProcess, type WorkerProcess } from '../../src/bench/worker-process.js';
import { datasetHash, type DatasetRow } from '../../src/ml/dataset.js';
import { sweepRow } from '../../src/ml/sweep-row.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { AppError } from '../../src/shared/errors.js';
import { freePort } from '../../src/shared/free-port.js';
import { RefreshManager } from '../../src/jobs/refresh.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { InlineSweepRunner } from '../../src/training/inline-sweep-runner.js';
import { trainPredictors } from '../../src/training/train.js';
import { QueueSweepRunner } from '../../src/training/queue-sweep-runner.js';
import { sweepBatch } from '../../src/training/sweep-batch.js';
import { bullPrefix, sweepQueueName, type SweepQueueAddress } from '../../src/training/sweep-queue.js';
import { runSweep } from '../../src/training/sweep.js';
import { describeWith } from '../helpers/real-parts.js';
import { startRedis, type RedisServer } from '../helpers/redis-server.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';
import { cliAsync } from '../helpers/cli.js';

// Issue 23, point 6: sweeps on a BullMQ queue in a real redis-server, taken by `lora-placer worker` processes
// and by the service's replicas (SWEEP_WORKER=1). Every test has a key prefix of its own.

const root = join(import.meta.dirname, '..', '..');
const profiles = embeddedProfiles();
const profile = profiles.get('qwen-2.5-7b-instruct', 'h100-64gb');
const quickTraining = ['--teacher-trees', '8', '--dense-samples', '3000'];

/** Rows without their wall times (which vary between runs), as JSON, for comparison. */
const comparable = (rows: DatasetRow[]): string => JSON.stringify(rows.map((r) => ({ ...r, wallMs: 0 })));

/** Indices of the rows and infeasible marks of a dataset file (line 1 is the header). */
function datasetIndices(file: string): number[] {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  return lines.map((l) => (JSON.parse(l) as { index: number }).index).sort((a, b) => a - b);
}

describeWith(['redis-server'], 'sweeps on the queue (real redis-server, worker processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-sweep-queue-'));
  let redis: RedisServer;
  let prefixes = 0;
  const workers: WorkerProcess[] = [];
  const runners: QueueSweepRunner[] = [];
  const address = (): SweepQueueAddress => ({ url: redis.url, keyPrefix: `sq-${++prefixes}:` });
  const startWorkers = async (at: SweepQueueAddress, n: number, lockS = 30): Promise<WorkerProcess[]> => {
    const started = await Promise.all(Array.from({ length: n }, () => startWorkerProcess(at, { lockS })));
    workers.push(...started);
    return started;
  };
  const runner = (at: SweepQueueAddress, o: Partial<ConstructorParameters<typeof QueueSweepRunner>[1]> = {}) => {
    const r = new QueueSweepRunner(profiles, { address: at, checkMs: 500, ...o });
    runners.push(r);
    return r;
  };

  beforeAll(async () => {
    redis = await startRedis(dir);
  }, 30_000);
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop('SIGKILL')));
    await Promise.all(runners.splice(0).map((r) => r.close()));
  });
  afterAll(async () => {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two worker processes and `train --queue` train predictors byte-identical to a local train --check', async () => {
    const at = address();
    const [a, b] = await startWorkers(at, 2);
    const out = join(dir, 'queued-predictors');
    const common = [
      'train',
      '--model',
      profile.model,
      '--gpu',
      profile.gpu,
      '--workloads',
      '40',
      '--seed',
      '4',
      '--quiet',
    ];
    const created = ['--created', '2026-01-01T00:00:00.000Z'];
    const queued = await cliAsync(
      [
        ...common,
        ...quickTraining,
        ...created,
        '--queue',
        at.url,
        '--batch-rows',
        '2',
        '--out',
        out,
        '--dataset',
        join(dir, 'q.jsonl'),
      ],
      { env: { REDIS_KEY_PREFIX: at.keyPrefix } },
    );
    expect(queued.status, queued.stderr).toBe(0);
    expect(queued.stderr).toMatch(/^queued 20 sweep job\(s\) of up to 2 rows on queue "sweeps" at redis:/m);
    expect(queued.stdout).toMatch(/^trained qwen-2.5-7b-instruct@h100-64gb/m);
    // both workers took jobs: the sweep was spread, not run by one
    for (const w of [a!, b!]) expect(w.log(), `${a!.log()}\n${b!.log()}`).toMatch(/ done in /);
    expect(datasetIndices(join(dir, 'q.jsonl'))).toEqual(Array.from({ length: 40 }, (_, i) => i));

    // the local retrain (threads, a fresh dataset) gives the same bytes as the queued training wrote
    const local = await cliAsync([...common, ...quickTraining, '--workers', '2', '--out', out, '--check']);
    expect(local.status).toBe(0);
    const lines = local.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('same  ')).length).toBe(8);
    expect(lines.filter((l) => l.startsWith('DIFFERENT'))).toEqual([]);
  }, 240_000);

  it('loses and duplicates no row when a worker is killed (kill -9) in the middle of a job', async () => {
    const at = address();
    const [first, second] = await startWorkers(at, 2, 2);
    const byName = new Map([first!, second!].map((w) => [w.name, w]));
    const queue = new Queue(sweepQueueName, { connection: { url: at.url }, prefix: bullPrefix(at.keyPrefix) });
    const file = join(dir, 'killed.jsonl');
    let killed: { worker: WorkerProcess; job: string } | null = null;
    let killing: Promise<void> | null = null;
    const killOneMidJob = async (): Promise<void> => {
      for (const job of await queue.getActive()) {
        const victim = job.processedBy ? byName.get(job.processedBy) : undefined;
        if (!victim || killed) continue;
        victim.process.kill('SIGKILL');
        killed = { worker: victim, job: job.id! };
        return;
      }
      killing = null; // nothing running right now: try again at the next row
    };
    try {
      const rows = await runSweep({
        profile,
        seed: 6,
        rows: 24,
        datasetFile: file,
        runner: runner(at, { batchRows: 1 }),
        progress: false,
        onProgress: (done) => {
          if (done >= 3 && !killed && !killing) killing = killOneMidJob();
        },
      });
      expect(killed).not.toBeNull();
      const { worker, job } = killed!;
      const survivor = worker === first ? second! : first!;
      // the job the killed worker held never finished there; the survivor ran it after its lock expired
      expect(worker.log()).not.toContain(`job ${job} (`);
      expect(survivor.log()).toMatch(new RegExp(`job ${job} \\(.* done in`));
      // every row once, in the file and in the answer, and equal to this process's own simulation
      expect(datasetIndices(file)).toEqual(Array.from({ length: 24 }, (_, i) => i));
      expect(new Set(rows.map((r) => r.index)).size).toBe(rows.length);
      const expected: DatasetRow[] = [];
      await new InlineSweepRunner(profiles).run(
        Array.from({ length: 24 }, (_, index) => ({ model: profile.model, gpu: profile.gpu, seed: 6, index })),
        (_, row) => row && expected.push(row),
      );
      expect(comparable(rows)).toBe(comparable(expected));
      expect(datasetHash(rows)).toBe(datasetHash(expected));
    } finally {
      await queue.close();
    }
  }, 180_000);

  it('fails bad jobs at once with a clear reason, and the queue goes on with the good ones', async () => {
    const at = address();
    const [worker] = await startWorkers(at, 1);
    const opts = { connection: { url: at.url }, prefix: bullPrefix(at.keyPrefix) };
    const queue = new Queue(sweepQueueName, opts);
    const events = new QueueEvents(sweepQueueName, opts);
    try {
      await events.waitUntilReady();
      const good = sweepBatch(profile, 1, [0]);
      const tampered = JSON.parse(good.profile) as typeof profile;
      tampered.scheduler.fit.rows += 1;
      const bad = [
        { data: { hello: 'world' }, reason: /invalid sweep batch/ },
        { data: { ...good, profile: JSON.stringify(tampered) }, reason: /hashes to [0-9a-f]{64}, not to/ },
        { data: { ...good, header: { ...good.header, sampler: 999 } }, reason: /same version of lora-placer/ },
        { data: { ...good, indices: Array.from({ length: 1000 }, (_, i) => i) }, reason: /indices/ },
      ];
      const jobs = await queue.addBulk(bad.map((b) => ({ name: 'bad', data: b.data, opts: { attempts: 3 } })));
      for (const [i, job] of jobs.entries()) {
        await expect(job.waitUntilFinished(events)).rejects.toThrow(bad[i]!.reason);
        // failed for good on its first try: a refused job is not retried
        expect((await queue.getJob(job.id!))?.attemptsMade).toBe(1);
      }
      // the same worker then runs a good sweep
      const rows = await runSweep({
        profile,
        seed: 1,
        rows: 3,
        datasetFile: join(dir, 'after-bad.jsonl'),
        runner: runner(at, { batchRows: 1 }),
        progress: false,
      });
      expect(rows.map((r) => r.index)).toEqual([0, 1, 2].filter((i) => sweepRow(profile, 1, i) !== null));
      expect(worker!.log()).toMatch(/failed for good: sweep batch refused: its profile hashes to/);
    } finally {
      await Promise.all([events.close(), queue.close()]);
    }
  }, 120_000);

  it('fails the sweep when no worker is connected (its jobs withdrawn), and when Redis cannot be reached', async () => {
    const at = address();
    const started = Date.now();
    const failure = await runSweep({
      profile,
      seed: 1,
      rows: 4,
      datasetFile: join(dir, 'no-worker.jsonl'),
      runner: runner(at, { workerWaitMs: 1500 }),
      progress: false,
    }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(AppError);
    expect((failure as AppError).message).toMatch(/no worker has taken sweep jobs from queue "sweeps" .* for 2 s/);
    expect(Date.now() - started).toBeLessThan(20_000);
    const queue = new Queue(sweepQueueName, { connection: { url: at.url }, prefix: bullPrefix(at.keyPrefix) });
    expect(await queue.getJobCounts('wait', 'active', 'delayed')).toEqual({ wait: 0, active: 0, delayed: 0 });
    await queue.close();

    const closed = { url: `redis://127.0.0.1:${await freePort()}`, keyPrefix: 'nowhere:' };
    const unreachable = await runner(closed, { connectTimeoutMs: 1000 })
      .run([{ model: profile.model, gpu: profile.gpu, seed: 1, index: 0 }], () => {})
      .catch((err: unknown) => err);
    expect((unreachable as AppError).code).toBe('LP_ERR_STORE_UNAVAILABLE');
    expect((unreachable as AppError).message).toMatch(/cannot reach queue "sweeps" at redis:\/\/127\.0\.0\.1:\d+/);
  }, 60_000);

  it("runs a refresh's sweep on the queue (REFRESH_SWEEPS=queue): the candidate a local training gives", async () => {
    const at = address();
    await startWorkers(at, 1);
    const training = { seed: 9, workloads: 20, teacherTrees: 8, denseSamples: 3000 };
    const predictors = PredictorRegistry.fromDirectory(profiles);
    const manager = new RefreshManager({ predictors, modelsDir: null, threads: 1, sweepQueue: at, ...training });
    const job = await manager.start(profile.model, profile.gpu);
    await manager.idle();
    const ended = await manager.get(job.id);
    expect(ended.error).toBeNull();
    expect(['replaced', 'kept']).toContain(ended.state);
    expect(ended.progress.lastLog).not.toBeNull();
    const local = await trainPredictors({
      profile,
      ...training,
      datasetFile: join(dir, 'refresh-local.jsonl'),
      runner: new InlineSweepRunner(profiles),
      realRunsFile: null,
      created: ended.startedAt,
      progress: false,
      log: () => {},
    });
    expect(ended.candidate?.version).toBe(local.metadata.version);
    expect(ended.candidate?.metrics).toEqual(local.metadata.metrics.twinHoldout.student);
  }, 180_000);

  describe('the service', () => {
    let service: ServiceProcess | null = null;
    afterEach(async () => {
      await service?.stop();
      service = null;
    });

    it('takes sweep jobs with SWEEP_WORKER=1, beside a worker process', async () => {
      const at = address();
      service = await startService({
        REDIS_URL: at.url,
        REDIS_KEY_PREFIX: at.keyPrefix,
        SWEEP_WORKER: '1',
      });
      // the service's replica is a worker of the queue, under its own name (host:pid)
      const queue = new Queue(sweepQueueName, { connection: { url: at.url }, prefix: bullPrefix(at.keyPrefix) });
      const mine = `:w:${hostname()}:${service.process.pid}`;
      let names: string[] = [];
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        names = (await queue.getWorkers()).map((w) => String(w.rawname));
        if (names.some((n) => n.endsWith(mine))) break;
      }
      await queue.close();
      expect(
        names.filter((n) => n.endsWith(mine)),
        names.join(),
      ).toHaveLength(1);
      const [worker] = await startWorkers(at, 1);
      const rows = await runSweep({
        profile,
        seed: 8,
        rows: 12,
        datasetFile: join(dir, 'service.jsonl'),
        runner: runner(at, { batchRows: 1 }),
        progress: false,
      });
      expect(datasetIndices(join(dir, 'service.jsonl'))).toEqual(Array.from({ length: 12 }, (_, i) => i));
      expect(rows.length).toBeGreaterThan(6);
      // both took jobs: the worker process ran some of the 12, the service (the queue's only other worker) the rest
      const byWorker = worker!.log().match(/ done in /g)?.length ?? 0;
      expect(byWorker).toBeGreaterThan(0);
      expect(byWorker).toBeLessThan(12);
    }, 120_000);

    it('refuses SWEEP_WORKER=1 and REFRESH_SWEEPS=queue without REDIS_URL (exit 1, naming both)', () => {
      const { REDIS_URL: _, ...env } = process.env;
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
        cwd: root,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...env, PORT: '0', SWEEP_WORKER: '1', REFRESH_SWEEPS: 'queue' },
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/REFRESH_SWEEPS: the sweep queue needs REDIS_URL/);
      expect(r.stderr).toMatch(/SWEEP_WORKER: the sweep queue needs REDIS_URL/);
    });
  });
});

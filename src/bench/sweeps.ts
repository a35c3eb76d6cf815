import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetHash } from '../ml/dataset.js';
import { embeddedProfiles } from '../profiles/index.js';
import { quantileSorted } from '../shared/stats.js';
import { QueueSweepRunner } from '../training/queue-sweep-runner.js';
import type { SweepQueueAddress } from '../training/sweep-queue.js';
import { runSweep } from '../training/sweep.js';
import { startPrivateRedis } from './private-redis.js';
import { startWorkerProcess } from './worker-process.js';

/**
 * `bench sweeps`: the same sweep on the queue, taken by 1 and by 2 `lora-placer worker` processes side by
 * side (one thread each unless --threads), in rounds alternating the order so the machine's noise hits
 * both alike. Workers start before the clock and stop after it; each run sweeps into a fresh dataset.
 * The bar (issue 23): 2 workers at least 1.7x faster than 1. Needs a quiet machine with 2 free cores.
 */
export interface SweepBenchOptions {
  model: string;
  gpu: string;
  seed: number;
  workloads: number;
  repeats: number;
  batchRows: number;
  /** threads per worker process */
  threads: number;
  /** an existing Redis; absent: a redis-server of the benchmark's own */
  redisUrl?: string;
  workerCounts: number[];
  onRun?: (workers: number, seconds: number) => void;
}

export interface SweepBenchRow {
  workers: number;
  runs: number;
  medianS: number;
  minS: number;
  maxS: number;
  rowsPerS: number;
  /** median seconds of the first count (1 worker) / this count's */
  speedup: number;
  samplesS: number[];
}

export interface SweepBenchResult {
  options: Omit<SweepBenchOptions, 'onRun' | 'redisUrl'>;
  rows: SweepBenchRow[];
  /** every run gave the same rows (dataset hash) */
  sameRows: boolean;
  /** the machine's 1-minute load average before the first run */
  loadBefore: number;
}

export const sweepBenchBar = 1.7;

export async function benchSweeps(o: SweepBenchOptions): Promise<SweepBenchResult> {
  const profile = embeddedProfiles().get(o.model, o.gpu);
  const loadBefore = loadavg()[0]!;
  const redis = o.redisUrl ? null : await startPrivateRedis();
  const address: SweepQueueAddress = { url: o.redisUrl ?? redis!.url, keyPrefix: `lora-placer-bench-${process.pid}:` };
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-bench-sweeps-'));
  const samples = new Map<number, number[]>(o.workerCounts.map((n) => [n, []]));
  const hashes = new Set<string>();
  try {
    for (let round = 0; round < o.repeats; round++) {
      const order = round % 2 === 0 ? o.workerCounts : [...o.workerCounts].reverse();
      for (const n of order) {
        const workers = await Promise.all(
          Array.from({ length: n }, () => startWorkerProcess(address, { threads: o.threads })),
        );
        const runner = new QueueSweepRunner(embeddedProfiles(), { address, batchRows: o.batchRows });
        try {
          const started = performance.now();
          const rows = await runSweep({
            profile,
            seed: o.seed,
            rows: o.workloads,
            datasetFile: join(dir, `round${round}-workers${n}.jsonl`),
            runner,
            progress: false,
          });
          const seconds = (performance.now() - started) / 1000;
          samples.get(n)!.push(seconds);
          hashes.add(datasetHash(rows));
          o.onRun?.(n, seconds);
        } finally {
          await runner.close();
          await Promise.all(workers.map((w) => w.stop()));
        }
      }
    }
  } finally {
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const { onRun: _, redisUrl: __, ...options } = o;
  const median = (n: number): number =>
    quantileSorted(
      [...samples.get(n)!].sort((a, b) => a - b),
      0.5,
    );
  const rows = o.workerCounts.map((n) => {
    const sorted = [...samples.get(n)!].sort((a, b) => a - b);
    return {
      workers: n,
      runs: sorted.length,
      medianS: median(n),
      minS: sorted[0]!,
      maxS: sorted.at(-1)!,
      rowsPerS: o.workloads / median(n),
      speedup: median(o.workerCounts[0]!) / median(n),
      samplesS: samples.get(n)!,
    };
  });
  return { options, rows, sameRows: hashes.size === 1, loadBefore };
}

export function formatSweepBench(r: SweepBenchResult): string {
  const o = r.options;
  const lines = [
    `sweep of ${o.workloads} workloads of ${o.model}@${o.gpu} (seed ${o.seed}) on the queue, jobs of ` +
      `${o.batchRows} rows, ${o.threads} thread(s) per worker process, ${o.repeats} round(s) alternating the order`,
    'workers  runs  median s   min s   max s  rows/s  speed-up vs 1',
  ];
  for (const row of r.rows) {
    lines.push(
      `${String(row.workers).padStart(7)} ${String(row.runs).padStart(5)} ${row.medianS.toFixed(1).padStart(9)}` +
        ` ${row.minS.toFixed(1).padStart(7)} ${row.maxS.toFixed(1).padStart(7)}` +
        ` ${row.rowsPerS.toFixed(2).padStart(7)} ${row.speedup.toFixed(2).padStart(14)}x`,
    );
  }
  const two = r.rows.find((row) => row.workers === 2);
  if (two) {
    lines.push(
      `bar: 2 worker processes >= ${sweepBenchBar}x faster than 1: ${two.speedup >= sweepBenchBar ? 'met' : 'MISSED'}` +
        ` (${two.speedup.toFixed(2)}x)`,
    );
  }
  lines.push(
    `rows identical in every run: ${r.sameRows ? 'yes' : 'NO'}; load average before the first run ` +
      `${r.loadBefore.toFixed(2)} (the bar needs two idle cores)`,
  );
  return lines.join('\n');
}

import { num, readCsv, type CsvRow } from '../shared/csv.js';
import type { Scenario } from '../twin/index.js';

import { benchmarkClientMaxInFlight } from '../ml/protocol.js';

/**
 * Replays cap requests in flight like the benchmark client did (src/ml/protocol.ts); the real
 * overloaded runs plateau there (running + waiting peaks at 27-28.5 thousand).
 */
export { benchmarkClientMaxInFlight };

/** One real vLLM run of the validation table, reduced to what a replay needs and what it is scored on. */
export interface RealRun {
  /** run folder below real_results/, e.g. llama-3.1-8b-instruct/rank_16_rates_0.1_0.05_0.025/_128_128_16_ */
  key: string;
  model: string;
  maxLoras: number;
  servedAdapters: number;
  maxLoraRank: number;
  ranks: number[];
  rates: number[];
  durationS: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  promptMean: number;
  outputMean: number;
  memoryError: boolean;
  errorClass: string;
  real: RealMetrics | null;
}

export interface RealMetrics {
  throughput: number;
  idealThroughput: number;
  starved: boolean;
  ttftMs: number;
  ttftP50Ms: number;
  ttftP99Ms: number;
  itlMs: number;
  itlP50Ms: number;
  itlP99Ms: number;
  tpotMs: number;
  completed: number;
  durationS: number;
}

/** Real mean TTFT below which a run counts as "operator load": queues short enough that someone would deploy it. */
export const operatorLoadTtftMs = 10_000;

/** The research benchmark's metrics checker polled the server's /metrics with 2 s between polls. */
export const benchmarkCheckerIntervalS = 2;

export function runKey(runDir: string, marker: string): string {
  const i = runDir.indexOf(marker);
  return i >= 0 ? runDir.slice(i + marker.length) : runDir;
}

const list = (cell: string | undefined): number[] =>
  (cell ?? '')
    .trim()
    .split(/\s+/)
    .filter((s) => s !== '')
    .map(Number);

/** Reads a table in the format of dt_validation_real_runs.csv; skips launches with neither results nor an error. */
export function readRealRuns(file: string): RealRun[] {
  return readCsv(file).flatMap((r) => {
    const run = toRealRun(r);
    return run ? [run] : [];
  });
}

function toRealRun(r: CsvRow): RealRun | null {
  const errorClass = r.error_class ?? '';
  const throughput = num(r, 'total_throughput');
  if (errorClass === '' && throughput === null) return null;
  const pool = num(r, 'log_prompts_pool');
  const real: RealMetrics | null =
    throughput === null
      ? null
      : {
          throughput,
          idealThroughput: num(r, 'approx_ideal_throughput') ?? NaN,
          starved: r.approx_starvation_10pct === '1',
          ttftMs: num(r, 'log_mean_ttft_ms') ?? NaN,
          ttftP50Ms: num(r, 'log_median_ttft_ms') ?? NaN,
          ttftP99Ms: num(r, 'log_p99_ttft_ms') ?? NaN,
          itlMs: num(r, 'log_mean_itl_ms') ?? NaN,
          itlP50Ms: num(r, 'log_median_itl_ms') ?? NaN,
          itlP99Ms: num(r, 'log_p99_itl_ms') ?? NaN,
          tpotMs: num(r, 'log_mean_tpot_ms') ?? NaN,
          completed: num(r, 'log_completed') ?? 0,
          durationS: num(r, 'log_duration') ?? num(r, 'arg_total_time') ?? 3600,
        };
  return {
    key: runKey(r.run_dir ?? '', 'real_results/'),
    model: r.srv_model ?? '',
    maxLoras: num(r, 'srv_max_loras') ?? 1,
    servedAdapters: num(r, 'srv_max_cpu_loras') ?? 1,
    maxLoraRank: num(r, 'srv_max_lora_rank') ?? 8,
    ranks: list(r.srv_dummy_lora_ranks),
    rates: list(r.arg_adapter_rates),
    durationS: num(r, 'arg_total_time') ?? 3600,
    maxNumSeqs: num(r, 'srv_max_num_seqs') ?? 256,
    maxNumBatchedTokens: num(r, 'max_num_batched_tokens') ?? 2048,
    // the prompt pool was drawn from the same ShareGPT sample as the requests: its means are the length means
    promptMean: pool ? (num(r, 'log_pool_input_tokens') ?? 0) / pool : 223,
    outputMean: pool ? (num(r, 'log_pool_output_tokens') ?? 0) / pool : 196,
    memoryError: errorClass !== '',
    errorClass,
    real,
  };
}

/**
 * The Scenario replaying a real run: `servedAdapters` adapters with ranks and Poisson rates cycled
 * from the run's lists, ShareGPT-shaped lengths at the pool means, the client's in-flight cap.
 */
export function scenarioOf(run: RealRun, gpu: string, seed: number): Scenario {
  const rank = (i: number): number => run.ranks[i % run.ranks.length] ?? run.maxLoraRank;
  const rate = (i: number): number => run.rates[i % run.rates.length] ?? 0;
  return {
    model: run.model,
    gpu,
    engine: {
      maxLoras: run.maxLoras,
      maxCpuLoras: run.servedAdapters,
      maxLoraRank: run.maxLoraRank,
      maxNumBatchedTokens: run.maxNumBatchedTokens,
      maxNumSeqs: run.maxNumSeqs,
    },
    adapters: Array.from({ length: run.servedAdapters }, (_, i) => ({
      id: `adapter-${i}`,
      rank: rank(i),
      rate: rate(i),
    })),
    inputTokens: { mean: run.promptMean },
    outputTokens: { mean: run.outputMean },
    arrivals: { process: 'poisson', maxInFlight: benchmarkClientMaxInFlight },
    metricsScrapeIntervalS: benchmarkCheckerIntervalS,
    durationS: run.durationS,
    seed,
  };
}

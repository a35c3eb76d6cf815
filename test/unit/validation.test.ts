import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { smapeResearch, smapeStandard } from '../../src/shared/smape.js';
import { benchmarkClientMaxInFlight, readRealRuns, scenarioOf } from '../../src/validation/real-runs.js';
import { parseScenario, type SimulationResult } from '../../src/twin/index.js';
import { buildReport } from '../../src/validation/report.js';

describe('SMAPE', () => {
  it('uses the research definition without the factor 2, and the standard one with it', () => {
    expect(smapeResearch([100, 50], [110, 50])).toBeCloseTo((100 * (10 / 210)) / 2, 9);
    expect(smapeStandard([100, 50], [110, 50])).toBeCloseTo(100 * (10 / 210), 9);
    expect(smapeResearch([0], [0])).toBe(0);
    expect(smapeResearch([1], [0])).toBe(100);
  });
});

describe('real runs table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-val-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const header =
    'run_dir,arg_total_time,arg_adapter_rates,srv_max_loras,srv_max_cpu_loras,srv_max_lora_rank,' +
    'srv_max_num_seqs,srv_model,srv_dummy_lora_ranks,log_completed,log_duration,log_mean_ttft_ms,' +
    'log_mean_tpot_ms,log_mean_itl_ms,log_prompts_pool,log_pool_input_tokens,log_pool_output_tokens,error_class,' +
    'max_num_batched_tokens,total_throughput,approx_ideal_throughput,approx_starvation_10pct';
  const file = join(dir, 'runs.csv');
  writeFileSync(
    file,
    [
      header,
      'x/real_results/m/r/_8_5_16_,3600,0.1 0.05 0.025,8,5,16,2048,m,8 ' +
        '16,100,3600.1,40,15,16,300,60000,50000,,2048,1000,1001,0',
      'x/real_results/m/r/_256_256_16_,3600,0.1 0.05 0.025,256,256,16,2048,m,8 16,,,,,,,,,kv_cache_too_small,,,,',
      'x/real_results/m/r/_9_9_16_,3600,0.1,9,9,16,2048,m,8,,,,,,,,,,,,,',
    ].join('\n'),
  );

  it('keeps runs with results or a start-up error and skips launches with neither', () => {
    const runs = readRealRuns(file);
    expect(runs.map((r) => r.key)).toEqual(['m/r/_8_5_16_', 'm/r/_256_256_16_']);
    expect(runs[1]!.memoryError).toBe(true);
    expect(runs[0]!.real).toMatchObject({ throughput: 1000, ttftMs: 40, itlMs: 16, starved: false });
    expect(runs[0]!.promptMean).toBeCloseTo(200, 9);
  });

  it('replays a run with rates and ranks cycled over the served adapters', () => {
    const s = parseScenario(scenarioOf(readRealRuns(file)[0]!, 'h100-64gb', 3));
    expect(s.adapters.map((a) => a.rate)).toEqual([0.1, 0.05, 0.025, 0.1, 0.05]);
    expect(s.adapters.map((a) => a.rank)).toEqual([8, 16, 8, 16, 8]);
    expect(s.engine).toEqual({
      maxLoras: 8,
      maxCpuLoras: 5,
      maxLoraRank: 16,
      maxNumBatchedTokens: 2048,
      maxNumSeqs: 2048,
    });
    expect(s.arrivals?.maxInFlight).toBe(benchmarkClientMaxInFlight);
    expect(s.inputTokens).toEqual({ mean: 200 });
    expect(s.seed).toBe(3);
  });
});

describe('latency by load regime', () => {
  const run = (key: string, ttftMs: number, ttftP99Ms: number) => ({
    key,
    model: 'm',
    memoryError: false,
    rates: [1],
    servedAdapters: 1,
    durationS: 3600,
    real: {
      throughput: 100,
      idealThroughput: 100,
      starved: false,
      ttftMs,
      ttftP50Ms: ttftMs,
      ttftP99Ms,
      itlMs: 10,
      itlP50Ms: 10,
      itlP99Ms: 20,
      tpotMs: 10,
      completed: 10,
      durationS: 3600,
    },
  });
  const sim = (ttft: number, ttftP99: number) =>
    ({
      throughput: { total: 100 },
      memoryError: null,
      ttftMs: { mean: ttft, p50: ttft, p90: ttft, p99: ttftP99 },
      itlMs: { mean: 10, p50: 10, p90: 10, p99: 10 },
      arrivedRequests: 10,
      completedRequests: 10,
      durationS: 3600,
      starved: false,
      wallMs: 1,
    }) as unknown as SimulationResult;

  it('splits the runs at a real mean TTFT of 10 s and scores each group on its own', () => {
    const comparisons = [
      { run: run('a', 50, 100), sim: sim(50, 50), reference: undefined },
      { run: run('b', 60, 120), sim: sim(60, 120), reference: undefined },
      { run: run('c', 20_000, 40_000), sim: sim(20_000, 40_000), reference: undefined },
    ] as unknown as Parameters<typeof buildReport>[1];
    const g = buildReport('m', comparisons).regimes;
    expect([g.operatorLoad.runs, g.saturated.runs]).toEqual([2, 1]);
    // run a: |100 - 50| / 150 = 1/3, run b: 0 -> research SMAPE 16.7 %
    expect(g.operatorLoad.ttftP99.research).toBeCloseTo(100 / 6, 9);
    expect(g.saturated.ttftP99.research).toBe(0);
    expect(g.operatorLoad.itlP99.research).toBeCloseTo((100 * 10) / 30, 9);
    expect(g.operatorLoad.ratio.itlP99).toBe(0.5);
  });
});

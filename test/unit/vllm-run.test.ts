import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/shared/errors.js';
import { readVllmRun, realFigures, replayVllmRun, scenarioOfVllmRun } from '../../src/validation/vllm-run.js';
import { testProfile } from '../helpers/profile.js';
import { observe } from '../helpers/twin.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A small overloaded benchmark: 120 requests in 1.2 s (off the 10-ms step boundaries), exact lengths. */
const events = Array.from({ length: 120 }, (_, i) => ({
  t: i * 0.0101,
  inputTokens: 40 + ((i * 37) % 200),
  outputTokens: 20 + ((i * 11) % 90),
}));

const meta = {
  model: 'org/test-model',
  vllm_version: '0.19.0',
  engine_kwargs: { max_num_seqs: 16, max_num_batched_tokens: 512, max_model_len: 4096 },
  kv_cache: { num_kv_tokens: 20_000, enable_prefix_caching: false, gpu_memory_utilization: 0.85 },
  hardware: { device_name: 'Test GPU' },
  resolved_config: { lora_config: null },
};

/**
 * The files a plain vLLM benchmark leaves, written from a Twin run of the test profile standing in for the real
 * server: engine timestamps on a clock of their own, arrivals on the epoch clock.
 */
function writeRun(format: 'csv' | 'jsonl', metaDoc: object = meta): string {
  const dir = mkdtempSync(join(tmpdir(), 'vllm-run-'));
  dirs.push(dir);
  const { requests } = observe(testProfile(), {
    engine: { enableLora: false, maxNumSeqs: 16, maxNumBatchedTokens: 512, kvCacheTokens: 20_000 },
    baseModel: { rate: 100 },
    arrivals: { process: 'trace', events },
    durationS: 3600,
  });
  expect(requests).toHaveLength(events.length);
  const engineClock = 27_000;
  const rows = requests.map((r) => ({
    request_id: `bench-${r.id}`,
    input_toks: r.prompt,
    output_toks: r.output,
    arrival_time: 1.7e9 + r.arrivalS,
    queued_ts: engineClock + r.arrivalS,
    first_token_ts: engineClock + r.firstTokenS,
    last_token_ts: engineClock + r.endS,
  }));
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(metaDoc));
  if (format === 'jsonl') writeFileSync(join(dir, 'requests.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n'));
  else {
    const header = Object.keys(rows[0]!);
    const lines = rows.map((r) => header.map((h) => String(r[h as keyof typeof r])).join(','));
    writeFileSync(join(dir, 'requests.csv'), [header.join(','), ...lines].join('\n'));
  }
  return dir;
}

describe('replaying a plain vLLM run from its files', () => {
  it('reads the engine settings and requests, and replays them as base-model requests without LoRA', () => {
    const run = readVllmRun(writeRun('csv'));
    expect(run.engine).toEqual({ maxNumSeqs: 16, maxNumBatchedTokens: 512 });
    expect(run.kvCacheTokens).toBe(20_000);
    expect(run.maxModelLen).toBe(4096);
    expect(run.gpuMemoryUtilization).toBe(0.85);
    expect(run.requests).toHaveLength(120);
    expect(run.requests[0]!.arrivalS).toBe(0);
    expect(run.requests[119]!.arrivalS).toBeCloseTo(1.2019, 6);
    // the profile's KV capacity unless asked for the logged one: a replay scores the profile's memory arithmetic
    const scenario = scenarioOfVllmRun(run, 'test-model', 'test-gpu', 0);
    expect(scenario.engine).toEqual({ enableLora: false, maxNumSeqs: 16, maxNumBatchedTokens: 512 });
    expect(scenarioOfVllmRun(run, 'test-model', 'test-gpu', 0, 'run').engine).toEqual({
      enableLora: false,
      maxNumSeqs: 16,
      maxNumBatchedTokens: 512,
      kvCacheTokens: 20_000,
    });
    const sixth = scenario.arrivals!.events![5]!;
    // arrival offsets from the epoch clock of the files: exact to a microsecond
    expect(sixth.t).toBeCloseTo(0.0505, 6);
    expect(sixth).toMatchObject({ inputTokens: 40 + 185, outputTokens: 20 + 55 });
  });

  it("scores the Twin with the real run's definitions: a run the Twin produced replays with no error", () => {
    for (const format of ['csv', 'jsonl'] as const) {
      const run = readVllmRun(writeRun(format));
      const real = realFigures(run);
      const { twin, rejected, memoryError, kvCacheTokens } = replayVllmRun(run, testProfile(), 0, 'run');
      expect(kvCacheTokens).toBe(20_000);
      expect(memoryError).toBeNull();
      expect(rejected).toBe(0);
      expect(real.completed).toBe(120);
      // overloaded: 16 sequences at a time, so requests queue
      expect(real.ttftP50Ms).toBeGreaterThan(500);
      for (const key of ['makespanS', 'ttftP50Ms', 'ttftMeanMs', 'tpotP50Ms', 'tpotMeanMs', 'throughput'] as const)
        expect(twin[key] / real[key], key).toBeCloseTo(1, 6);
      expect(twin.completed).toBe(120);
    }
  });

  it('notices a different server: a slower profile misses the real figures', () => {
    const run = readVllmRun(writeRun('csv'));
    const { twin } = replayVllmRun(run, testProfile(undefined, 12), 0, 'run');
    const real = realFigures(run);
    expect(twin.tpotP50Ms / real.tpotP50Ms).toBeCloseTo(1.2, 2);
    expect(twin.makespanS).toBeGreaterThan(real.makespanS * 1.1);
  });

  it('refuses a run with LoRA, and a malformed request naming its row and column', () => {
    const refused = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('LP_ERR_DATA_FILE');
        return (err as AppError).message;
      }
      throw new Error('expected an AppError');
    };
    const lora = writeRun('csv', { ...meta, resolved_config: { lora_config: { max_loras: 4 } } });
    expect(refused(() => readVllmRun(lora))).toMatch(/LoRA config/);
    const bad = writeRun('csv');
    writeFileSync(
      join(bad, 'requests.csv'),
      'input_toks,output_toks,arrival_time,queued_ts,first_token_ts,last_token_ts\n10,5,0,1,2,3\n10,,0,1,2,3\n',
    );
    expect(refused(() => readVllmRun(bad))).toMatch(/requests\.csv row 2: output_toks is missing/);
    const empty = mkdtempSync(join(tmpdir(), 'vllm-run-'));
    dirs.push(empty);
    writeFileSync(join(empty, 'meta.json'), '{}');
    expect(refused(() => readVllmRun(empty))).toMatch(/neither requests\.csv nor requests\.jsonl/);
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { vllmVersionTraits } from '../../src/profiles/build/vllm-version.js';
import { fitFirstRequest } from '../../src/profiles/calibration/fit-first-request.js';
import { MeasurementTables } from '../../src/profiles/calibration/tables.js';

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-first-request-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const header =
  'srv_model,flag_lora_pre_loading,log_completed,log_number_of_adapters,log_mean_ttft_ms,log_median_ttft_ms,' +
  'log_p99_ttft_ms';
/** [adapters, completed, mean, p50, p99, pre-loading] */
const run = (m: string, a: number, c: number, mean: number, p50: number, p99: number, pre = 'False') =>
  [m, pre, c, a, mean, p50, p99].join(',');

describe('fitFirstRequest', () => {
  it('takes the median p99 - p50 of the operator-load runs whose first requests are over 1 % of the requests', () => {
    writeFileSync(
      join(dir, 'ml_test_shared_real_runs.csv'),
      [
        header,
        run('m', 16, 1300, 40, 30, 330), // gap 300
        run('m', 32, 2500, 45, 35, 345), // 310
        run('m', 64, 5000, 50, 40, 360), // 320
        run('m', 16, 9000, 40, 30, 100), // first requests 0.18 %: out
        run('m', 128, 10_000, 60, 50, 900), // too many adapters (long /metrics renders): out
        run('m', 16, 1300, 12_000, 8000, 30_000), // saturated: out
        run('m', 16, 1300, 40, 30, 900, 'True'), // adapters pre-loaded: out
        run('other', 16, 1300, 40, 30, 1000), // another model: out
      ].join('\n'),
    );
    const fit = fitFirstRequest(new MeasurementTables(dir), 'm');
    expect(fit?.ms).toBe(310);
    expect(fit?.source).toMatch(/median p99 - p50 TTFT of 3 operator-load runs of ml_test_shared_real_runs\.csv/);
    expect(fitFirstRequest(new MeasurementTables(dir), 'absent')).toBeUndefined();
  });

  it('charges nothing without the tail-calibration runs', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    expect(fitFirstRequest(new MeasurementTables(empty), 'm')).toBeUndefined();
  });
});

describe('built profiles and the tokenizer lookup', () => {
  it('only vLLM versions before 0.11 look adapter tokenizers up (vllm-project/vllm#24078 removed them)', () => {
    expect(vllmVersionTraits('0.8.5').looksUpLoraTokenizers).toBe(true);
    expect(vllmVersionTraits('0.1.dev6216+g1125ba0').looksUpLoraTokenizers).toBe(true);
    expect(vllmVersionTraits('0.10.2').looksUpLoraTokenizers).toBe(true);
    expect(vllmVersionTraits('0.11.0').looksUpLoraTokenizers).toBe(false);
    expect(vllmVersionTraits('0.14.0').looksUpLoraTokenizers).toBe(false);
  });
});

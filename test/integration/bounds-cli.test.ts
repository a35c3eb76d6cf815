import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { conformalQuantile } from '../../src/validation/conformal.js';

// `bounds calibrate` end to end on a synthetic table in the format of ml_test_shared_real_runs.csv (the real one
// lives in ../shared, which tests never read): 18 short Llama runs at operator load over three workloads, two
// saturated runs and a memory error that the fit must leave out.

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lora-placer-bounds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const header =
  'run_dir,srv_model,srv_max_loras,srv_max_cpu_loras,srv_max_lora_rank,srv_dummy_lora_ranks,arg_adapter_rates,' +
  'arg_total_time,srv_max_num_seqs,max_num_batched_tokens,error_class,total_throughput,approx_ideal_throughput,' +
  'approx_starvation_10pct,log_mean_ttft_ms,log_median_ttft_ms,log_p99_ttft_ms,log_mean_itl_ms,log_median_itl_ms,' +
  'log_p99_itl_ms,log_mean_tpot_ms,log_completed,log_duration';

function row(workload: string, i: number, meanTtftMs: number, error = ''): string {
  const served = 4 + (i % 3) * 2;
  return [
    `test_dataset/llama-3.1-8b-instruct/${workload}/_${served}_${served}_16_`,
    'llama-3.1-8b-instruct',
    served,
    served,
    16,
    '8 16',
    workload.startsWith('slow') ? '0.2 0.1' : '1 0.5',
    120,
    2048,
    2048,
    error,
    error ? '' : 1000,
    error ? '' : 1000,
    0,
    meanTtftMs,
    meanTtftMs * 0.8,
    // real tails spread over runs, so that the factors differ from 1
    meanTtftMs * (2 + i * 0.4),
    15,
    14,
    20 + i * 3,
    15,
    100,
    120,
  ].join(',');
}

const runs = join(dir, 'runs.csv');
writeFileSync(
  runs,
  [
    header,
    ...['slow_a', 'fast_b', 'slow_c'].flatMap((w) => Array.from({ length: 6 }, (_, i) => row(w, i, 40 + 5 * i))),
    row('fast_b', 7, 25_000),
    row('slow_a', 8, 60_000),
    row('slow_c', 9, 0, 'kv_cache_too_small'),
  ].join('\n'),
);

describe('lora-placer bounds calibrate', () => {
  it('refuses a missing subcommand, option or file with exit 2', () => {
    const none = cli(['bounds']);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('bounds calibrate');
    const noRuns = cli(['bounds', 'calibrate']);
    expect(noRuns.status).toBe(2);
    expect(noRuns.stderr).toContain('--runs');
    expect(cli(['bounds', 'calibrate', '--runs', join(dir, 'missing.csv')]).stderr).toContain('does not exist');
  });

  it('fits the factors on the operator-load runs, scores them, and --check fails when they differ', () => {
    const json = join(dir, 'bounds.json');
    const r = cli(['bounds', 'calibrate', '--runs', runs, '--check', '--workers', '1', '--quiet', '--json', json]);
    // the committed factors come from the real runs, not from these
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain('differ from what these runs give');
    expect(r.stdout).toContain('Twin: leave-one-workload-out');
    expect(r.stdout).toContain('Students: leave-one-workload-out');
    const out = JSON.parse(readFileSync(json, 'utf8'));
    // saturated runs and the memory error are left out
    expect(out.fit.twin).toHaveLength(18);
    expect(out.fit.students).toHaveLength(18);
    const llama = out.factors.twin['llama-3.1-8b-instruct'];
    for (const figure of ['ttftP99', 'itlP99', 'ttftMean'] as const) {
      // every case is recomputed: the light regime's factor is the conformal quantile of its log ratios
      const light = out.fit.twin.filter((c: any) => c.regime === 'light');
      expect(light.length).toBeGreaterThanOrEqual(9);
      const q = conformalQuantile(
        light.map((c: any) => Math.log(c.real[figure] / c.estimate[figure])),
        0.9,
      );
      expect(llama.light[figure].factor).toBeCloseTo(Math.max(1, Math.exp(q)), 2);
      expect(llama.light[figure].factor).toBeGreaterThanOrEqual(Math.max(1, Math.exp(q)));
    }
    expect(out.factors.students['llama-3.1-8b-instruct'].bundleVersion).toMatch(/^[0-9a-f]+$/);
  });
});

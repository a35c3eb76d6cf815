import { num } from '../../shared/csv.js';
import type { Profile } from '../schema.js';
import type { MeasurementTables } from './tables.js';

/** Real mean TTFT below which a run is at operator load (as src/validation/real-runs.ts counts it). */
const operatorLoadTtftMs = 10_000;
/** First requests must be more than this share of a run's requests for its p99 TTFT to be one of them. */
const minFirstRequestShare = 0.01;
/** Runs with more adapters have /metrics renders (docs/twin-tails.md) long enough to blur the p99. */
const maxAdapters = 96;

/**
 * What an adapter's first request waits at the API server, from the tail-calibration runs: each server starts
 * fresh without --lora-pre-loading, so every adapter's first request looks its tokenizer up. Where those first
 * requests are more than 1 % of a run's requests the run's p99 TTFT is one of them, so p99 - p50 is the wait;
 * the median over the operator-load runs of up to 96 adapters. Absent (no wait charged) without those runs.
 */
export function fitFirstRequest(
  tables: MeasurementTables,
  model: string,
): Profile['frontend']['firstRequestOfAdapter'] | undefined {
  if (!tables.has('tailRuns')) return undefined;
  const gaps = tables
    .rows('tailRuns')
    .filter((r) => r.srv_model === model && r.flag_lora_pre_loading !== 'True')
    .flatMap((r) => {
      const adapters = num(r, 'log_number_of_adapters');
      const completed = num(r, 'log_completed');
      const mean = num(r, 'log_mean_ttft_ms');
      const p50 = num(r, 'log_median_ttft_ms');
      const p99 = num(r, 'log_p99_ttft_ms');
      if (adapters === null || !completed || mean === null || p50 === null || p99 === null) return [];
      const eligible =
        mean < operatorLoadTtftMs && adapters <= maxAdapters && adapters / completed > minFirstRequestShare;
      return eligible ? [p99 - p50] : [];
    })
    .sort((a, b) => a - b);
  if (gaps.length === 0) return undefined;
  const mid = gaps.length >> 1;
  const ms = gaps.length % 2 === 1 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2;
  return {
    ms: Math.round(ms * 10) / 10,
    source:
      `median p99 - p50 TTFT of ${gaps.length} operator-load runs of ${tables.file('tailRuns')} with <= ` +
      `${maxAdapters} adapters whose first requests are > 1 % of the requests (src/profiles/calibration/` +
      'fit-first-request.ts)',
  };
}

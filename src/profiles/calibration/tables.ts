import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../../shared/errors.js';
import { readCsv, type CsvRow } from '../../shared/csv.js';

/**
 * The measurement tables `calibrate` reads, named as in the research repository's probes (see
 * README "Calibrating your own GPU"). Only calibration runs: the DT-validation runs are never read here; the
 * tail-calibration runs (ml_test_shared) only for the first-request lookup.
 */
export const tableFiles = {
  kvTable: 'mem_max_table.csv',
  kvRuns: 'mem_max_kv_cache_runs.csv',
  baseLatency: 'lat_model_base_latency_runs.csv',
  loraOverhead: 'lat_model_lora_overhead_runs.csv',
  loading: 'lat_load_loading_runs.csv',
  loadTimes: 'lat_load_per_load_times.csv',
  mixedLoad: 'scheduler-overhead/metrics_data_adapter_rates.csv',
  aggregatedLoad: 'scheduler-overhead/metrics_data_aggregated_rate.csv',
  tailRuns: 'ml_test_shared_real_runs.csv',
} as const;

export type TableName = keyof typeof tableFiles;

const requiredColumns: Record<TableName, string[]> = {
  tailRuns: [
    'srv_model',
    'flag_lora_pre_loading',
    'log_completed',
    'log_number_of_adapters',
    'log_mean_ttft_ms',
    'log_median_ttft_ms',
    'log_p99_ttft_ms',
  ],
  kvTable: ['model', 'A_max_max_loras', 'max_lora_rank', 'kv_cache_tokens', 'status'],
  kvRuns: [
    'srv_model',
    'srv_max_loras',
    'srv_max_lora_rank',
    'json_total_input_tokens',
    'json_total_output_tokens',
    'json_mean_ttft_ms',
    'json_mean_itl_ms',
  ],
  baseLatency: [
    'run_dir',
    'srv_model',
    'json_completed',
    'json_total_input_tokens',
    'json_total_output_tokens',
    'json_duration',
    'json_mean_itl_ms',
    'npy_num_running_mean',
    'steps_in_window',
    'step_interval_mean_ms',
  ],
  loraOverhead: [
    'run_dir',
    'srv_model',
    'json_completed',
    'json_total_input_tokens',
    'json_total_output_tokens',
    'json_duration',
    'npy_num_running_mean',
    'unique_adapters_mean',
    'step_interval_mean_ms',
    'sched_time_mean_ms',
    'srv_max_loras',
    'srv_max_lora_rank',
  ],
  loading: [
    'srv_model',
    'srv_max_lora_rank',
    'srv_dummy_lora_ranks',
    'json_completed',
    'json_total_input_tokens',
    'json_total_output_tokens',
    'step_interval_median_ms',
    'sched_time_mean_ms',
    'mem_loading_time_per_load_ms',
    'run_dir',
  ],
  loadTimes: ['run_dir', 'this_load_time_ms'],
  mixedLoad: [
    'gpu_loras',
    'cpu_loras',
    'rank',
    'avg_batch_size',
    'avg_waiting_queue',
    'mean_loras_by_batch',
    'completed_requests',
    'processed_tokens',
    'total_scheduling_time',
    'max_lora_loading_time',
    'max_lora_loads_from_disk',
    'max_lora_loads_from_memory_corrected',
    'duration',
    'steps',
  ],
  aggregatedLoad: [
    'gpu_loras',
    'cpu_loras',
    'avg_batch_size',
    'avg_waiting_queue',
    'mean_loras_by_batch',
    'total_scheduling_time',
    'max_lora_loading_time',
    'max_lora_loads_from_disk',
    'max_lora_loads_from_memory_corrected',
    'steps',
  ],
};

export class MeasurementTables {
  private readonly cache = new Map<TableName, CsvRow[]>();

  constructor(readonly dir: string) {
    if (!existsSync(dir)) throw new AppError('invalidInput', `--data: directory ${dir} does not exist`);
  }

  /** Relative file name, as recorded in a profile's fit reports. */
  file(name: TableName): string {
    return tableFiles[name];
  }

  has(name: TableName): boolean {
    return existsSync(join(this.dir, tableFiles[name]));
  }

  rows(name: TableName): CsvRow[] {
    const cached = this.cache.get(name);
    if (cached) return cached;
    const path = join(this.dir, tableFiles[name]);
    if (!existsSync(path))
      throw new AppError('dataFile', `calibration table ${tableFiles[name]} is missing in ${this.dir}`);
    const rows = readCsv(path);
    const header = rows[0] ? Object.keys(rows[0]) : [];
    const missing = requiredColumns[name].filter((c) => !header.includes(c));
    if (rows.length === 0 || missing.length > 0) {
      throw new AppError(
        'dataFile',
        `${tableFiles[name]}: ${rows.length === 0 ? 'no rows' : `missing columns ${missing.join(', ')}`}`,
      );
    }
    this.cache.set(name, rows);
    return rows;
  }

  /** Models that have KV-capacity measurements. */
  models(): string[] {
    return [...new Set(this.rows('kvTable').map((r) => r.model ?? ''))].filter((m) => m !== '').sort();
  }
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Ground truth the synthetic probes are generated from. */
export const truth = {
  base: { c0: 11, decode: 0.03, context: 0.07, prefill: 0.02 },
  lora: { enabled: 2, first: 1, slot: 0.024, slotDecode: 1e-4, slotPrefill: 6e-4, adapter: 0.3, tile: 0.4 },
  sched: { running: 0.005, waiting: 5e-5, skipped: 2e-4 },
  load: { firstLoadMs: 9, activationMs: 6.5 },
  frontendMs: 7,
  kv: { noLora: 300_000, perSlotRank8: 400 },
};

const t = truth;
const baseMs = (b: number, ctx: number, p: number): number =>
  t.base.c0 + t.base.decode * b + (t.base.context * b * ctx) / 1000 + t.base.prefill * p;
const loraMs = (b: number, p: number, l: number, s: number, rank: number): number =>
  t.lora.enabled +
  (l > 0 ? t.lora.first : 0) +
  s * (t.lora.slot + t.lora.slotDecode * b + t.lora.slotPrefill * p) * (1 + t.lora.tile * (Math.ceil(rank / 16) - 1)) +
  t.lora.adapter * l;

function csv(rows: Record<string, string | number>[]): string {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return `${[cols.join(','), ...rows.map((r) => cols.map((c) => String(r[c] ?? '')).join(','))].join('\n')}\n`;
}

/** Writes the probe tables of one model `m` (with the layout `calibrate --data` reads) into `dir`. */
export function writeSyntheticTables(dir: string, m = 'toy-model'): void {
  mkdirSync(join(dir, 'scheduler-overhead'), { recursive: true });
  const kv = [];
  for (const rank of [8, 16]) {
    for (const slots of [8, 16, 32, 64, 96]) {
      const tokens = t.kv.noLora - t.kv.perSlotRank8 * (rank / 8) * slots;
      kv.push({
        model: m,
        A_max_max_loras: slots,
        max_lora_rank: rank,
        kv_cache_tokens: tokens,
        status: 'ok',
        vllm_version: 'toy',
      });
    }
    kv.push({
      model: m,
      A_max_max_loras: 4000,
      max_lora_rank: rank,
      kv_cache_tokens: '',
      status: 'kv_cache_too_small',
      vllm_version: 'toy',
    });
  }
  writeFileSync(join(dir, 'mem_max_table.csv'), csv(kv));

  const kvRuns = [];
  for (const rank of [8, 16, 32]) {
    for (const slots of [8, 32, 128, 256]) {
      const itl = baseMs(1, 13 + 60, 0) + loraMs(1, 0, 0, slots, rank);
      kvRuns.push({
        srv_model: m,
        srv_max_loras: slots,
        srv_max_lora_rank: rank,
        json_completed: 1,
        json_total_input_tokens: 13,
        json_total_output_tokens: 120,
        json_mean_itl_ms: itl,
        json_mean_ttft_ms: itl + t.frontendMs,
        flag_disable_loras_users: 'True',
      });
    }
  }
  writeFileSync(join(dir, 'mem_max_kv_cache_runs.csv'), csv(kvRuns));

  const base = [];
  for (const b of [50, 100, 200, 400, 800]) {
    for (const out of [100, 400]) {
      const p = 5;
      const st = baseMs(b, 10 + out / 2, p);
      const n = 4096;
      base.push({
        run_dir: `x/${m}/output/_${b}__1_${out}`,
        srv_model: m,
        json_completed: n,
        json_total_input_tokens: 10 * n,
        json_total_output_tokens: out * n,
        json_duration: (n * 10 * st) / (p * 1000),
        json_mean_itl_ms: st,
        npy_num_running_mean: b,
        steps_in_window: '',
        step_interval_mean_ms: '',
        sched_time_mean_ms: 0,
        max_num_batched_tokens: 2048,
      });
    }
  }
  for (const inp of [100, 200, 400]) {
    base.push({
      run_dir: `x/${m}/input/_100__${inp}_1`,
      srv_model: m,
      json_completed: 4096,
      json_total_input_tokens: 2000 * 400,
      json_total_output_tokens: 4096,
      json_duration: 22,
      json_mean_itl_ms: 0,
      npy_num_running_mean: 0.5,
      steps_in_window: 400,
      step_interval_mean_ms: baseMs(0, 0, 2000),
      sched_time_mean_ms: 0,
      max_num_batched_tokens: 2048,
    });
  }
  writeFileSync(join(dir, 'lat_model_base_latency_runs.csv'), csv(base));

  const overhead = [];
  for (const l of [1, 32, 64, 128]) {
    const b = 200;
    const stepMs = baseMs(b, 10 + 50, 2) + loraMs(b, 2, l, 300, 8);
    const n = 4096;
    overhead.push({
      run_dir: `x/${m}/overhead_small/output/_220_300_8__1_100_${l}`,
      srv_model: m,
      srv_enable_lora: 'True',
      srv_max_loras: 300,
      srv_max_lora_rank: 8,
      json_completed: n,
      json_total_input_tokens: 10 * n,
      json_total_output_tokens: 100 * n,
      json_duration: (n * 10 * stepMs) / (2 * 1000),
      npy_num_running_mean: b,
      unique_adapters_mean: l,
      step_interval_mean_ms: stepMs,
      sched_time_mean_ms: 0,
      srv_max_num_seqs: 220,
      npy_num_running_max: 220,
    });
  }
  overhead.push({
    run_dir: `x/${m}/find_max_batch_small/_300_8__200_200`,
    srv_model: m,
    srv_enable_lora: 'True',
    srv_max_loras: 300,
    srv_max_lora_rank: 8,
    json_completed: '',
    json_total_input_tokens: '',
    json_total_output_tokens: '',
    json_duration: '',
    npy_num_running_mean: 250,
    unique_adapters_mean: '',
    step_interval_mean_ms: '',
    sched_time_mean_ms: '',
    srv_max_num_seqs: '',
    npy_num_running_max: 256,
  });
  writeFileSync(join(dir, 'lat_model_lora_overhead_runs.csv'), csv(overhead));

  const loading = [8, 16, 32].map((maxRank) => ({
    run_dir: `x/${m}/adapter_rank_8/_${maxRank}_`,
    srv_model: m,
    srv_max_lora_rank: maxRank,
    srv_dummy_lora_ranks: 8,
    json_completed: 50,
    json_total_input_tokens: 5500,
    json_total_output_tokens: 2500,
    step_interval_median_ms: baseMs(1, 110 + 25, 0) + loraMs(1, 0, 1, 1, maxRank),
    sched_time_mean_ms: 0,
    mem_loading_time_per_load_ms: 6 + maxRank / 16,
  }));
  writeFileSync(join(dir, 'lat_load_loading_runs.csv'), csv(loading));
  writeFileSync(
    join(dir, 'lat_load_per_load_times.csv'),
    csv(loading.map((r) => ({ run_dir: r.run_dir, this_load_time_ms: r.mem_loading_time_per_load_ms }))),
  );

  const mixed = [];
  let row = 0;
  for (const slots of [8, 32, 128]) {
    for (const adapters of [64, 256]) {
      for (const b of [20, 150, 400]) {
        row++;
        const steps = 10_000;
        const completed = 5000 + 97 * row;
        const p = (completed * 200) / steps;
        const l = Math.min(slots, adapters, b) * 0.9;
        const waiting = 100 + 37 * row;
        const slotBound = slots < adapters && l >= 0.9 * slots;
        const schedTotal =
          (steps * (t.sched.running * b + t.sched.waiting * waiting + t.sched.skipped * (slotBound ? waiting : 0))) /
          1000;
        const memLoads = 40 * row;
        const loadTotal = (t.load.firstLoadMs * adapters + t.load.activationMs * memLoads) / 1000;
        const forward = baseMs(b, 200 + 100, p) + loraMs(b, p, l, slots, 8);
        mixed.push({
          gpu_loras: slots,
          cpu_loras: adapters,
          rank: 8,
          avg_batch_size: b,
          avg_waiting_queue: waiting,
          mean_loras_by_batch: l,
          completed_requests: completed,
          processed_tokens: 200 * completed,
          total_scheduling_time: schedTotal,
          max_lora_loading_time: loadTotal,
          max_lora_loads_from_disk: adapters,
          max_lora_loads_from_memory_corrected: memLoads,
          duration: (forward * steps) / 1000 + schedTotal + loadTotal,
          steps,
        });
      }
    }
  }
  writeFileSync(join(dir, 'scheduler-overhead/metrics_data_adapter_rates.csv'), csv(mixed));
}

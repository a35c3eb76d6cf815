import { num, readCsv } from '../shared/csv.js';
import { kvCapacityTokens, memoryErrorReason, type ProfileStore } from '../profiles/index.js';

/** One measured KV capacity against the profile's. */
export interface KvComparison {
  model: string;
  slots: number;
  rank: number;
  /** null: vLLM refused to start */
  real: number | null;
  predicted: number;
  /** the profile's memory-error rule refuses this (slots, rank) */
  predictedError: boolean;
  /** (predicted - real) / real, percent; null when vLLM refused to start */
  errorPct: number | null;
}

/**
 * Compares the profiles' KV capacity with vLLM's logged "GPU KV cache size" in a table in the format of
 * mem_max_table.csv (model, A_max_max_loras, max_lora_rank, kv_cache_tokens, status).
 */
export function compareKvTable(file: string, profiles: ProfileStore, gpu: string): KvComparison[] {
  return readCsv(file).map((r) => {
    const model = r.model ?? '';
    const slots = num(r, 'A_max_max_loras') ?? 1;
    const rank = num(r, 'max_lora_rank') ?? 8;
    const profile = profiles.get(model, gpu);
    const predicted = kvCapacityTokens(profile, slots, rank);
    const real = r.status === 'ok' ? num(r, 'kv_cache_tokens') : null;
    return {
      model,
      slots,
      rank,
      real,
      predicted,
      predictedError: memoryErrorReason(profile, predicted, slots, rank) !== null,
      errorPct: real === null ? null : (100 * (predicted - real)) / real,
    };
  });
}

/** Per model: points, worst and RMS relative error, points beyond `limitPct`, start-up outcomes that agree. */
export function formatKvComparison(rows: KvComparison[], limitPct: number): string {
  const lines = ['KV capacity vs vLLM logs (profile interpolation at every measured (slots, rank))'];
  for (const model of [...new Set(rows.map((r) => r.model))].sort()) {
    const mine = rows.filter((r) => r.model === model);
    const ok = mine.filter((r) => r.errorPct !== null);
    const errs = ok.map((r) => r.errorPct as number);
    const worst = ok.reduce(
      (w, r) => (Math.abs(r.errorPct as number) > Math.abs(w.errorPct as number) ? r : w),
      ok[0]!,
    );
    const rms = Math.sqrt(errs.reduce((s, e) => s + e * e, 0) / Math.max(1, errs.length));
    const over = ok.filter((r) => Math.abs(r.errorPct as number) > limitPct);
    const agree = mine.filter((r) => r.predictedError === (r.real === null)).length;
    lines.push(
      `  ${model}: ${ok.length} points, rms ${rms.toFixed(2)} %, worst ${(worst?.errorPct ?? 0).toFixed(2)} % ` +
        `(${worst?.slots} slots, rank ${worst?.rank}), ${over.length} beyond ${limitPct} %; start-up outcome ` +
        `${agree}/${mine.length} agree`,
    );
    for (const r of over)
      lines.push(
        `    ${r.slots} slots rank ${r.rank}: real ${r.real}, profile ${r.predicted} (${r.errorPct!.toFixed(2)} %)`,
      );
  }
  return lines.join('\n');
}

import { num, readCsv } from '../shared/csv.js';
import { runKey } from './real-runs.js';

/** The research twin's outputs for the same runs (reference-twin-outputs/dt_validation_dt_outputs_mean_version.csv). */
export interface ReferenceTwinOutput {
  throughput: number;
  /** research TTFT: unfinished requests count as the whole window */
  ttftPenaltyMs: number;
  itlMs: number;
  wallS: number;
}

export function readReferenceTwin(file: string): Map<string, ReferenceTwinOutput> {
  const out = new Map<string, ReferenceTwinOutput>();
  for (const r of readCsv(file)) {
    const throughput = num(r, 'dt_total_throughput');
    if (throughput === null) continue;
    out.set(runKey(r.run_dir ?? '', 'simulation_results_mean/'), {
      throughput,
      ttftPenaltyMs: num(r, 'dt_ttft') ?? NaN,
      itlMs: num(r, 'dt_itl') ?? NaN,
      wallS: num(r, 'dt_wallclock_s') ?? NaN,
    });
  }
  return out;
}

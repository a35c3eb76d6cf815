import { requireNum } from '../../shared/csv.js';
import { nonNegativeLeastSquares, rms } from '../../shared/least-squares.js';
import type { SchedulerModel } from '../schema.js';
import type { MeasurementTables } from './tables.js';

/**
 * Scheduler CPU time per step from the scheduler-overhead runs (model-agnostic CPU work):
 *   ms = c0 + cRunning*running + cWaiting*waiting + cSkipped*skipped,
 * where `skipped` (waiting requests the FCFS scan passes over because their adapter would exceed
 * --max-loras) is taken as the whole queue when the runs kept every slot busy with fewer slots than adapters.
 */
export function fitScheduler(tables: MeasurementTables): SchedulerModel {
  const names = (['mixedLoad', 'aggregatedLoad'] as const).filter((n) => tables.has(n));
  const x: number[][] = [];
  const y: number[] = [];
  for (const name of names) {
    tables.rows(name).forEach((r, i) => {
      const where = `${tables.file(name)} row ${i + 2}`;
      const slots = requireNum(r, 'gpu_loras', where);
      const adapters = requireNum(r, 'cpu_loras', where);
      const inBatch = requireNum(r, 'mean_loras_by_batch', where);
      const waiting = requireNum(r, 'avg_waiting_queue', where);
      const slotBound = slots < adapters && inBatch >= 0.9 * slots;
      x.push([1, requireNum(r, 'avg_batch_size', where), waiting, slotBound ? waiting : 0]);
      y.push((1000 * requireNum(r, 'total_scheduling_time', where)) / requireNum(r, 'steps', where));
    });
  }
  const fit = nonNegativeLeastSquares(x, y);
  const [c0, running, waiting, skipped] = fit.coefficients as [number, number, number, number];
  return {
    constantMs: c0,
    perRunningMs: running,
    perWaitingMs: waiting,
    perSkippedMs: skipped,
    fit: {
      source: names.map((n) => tables.file(n)),
      rows: y.length,
      rmsError: rms(fit.residuals),
      rmsRelativeError: rms(fit.residuals.map((e, i) => e / Math.max(1e-6, y[i]!))),
      unit: 'ms per step',
    },
  };
}

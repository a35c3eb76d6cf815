import { num, requireNum } from '../../shared/csv.js';
import { leastSquares, rms } from '../../shared/least-squares.js';
import type { AdapterLoadModel } from '../schema.js';
import type { MeasurementTables } from './tables.js';

/**
 * CPU->GPU activation time per (--max-lora-rank, adapter rank) from the loading probes (--max-loras 1,
 * 50 requests to 50 adapters: every request activates its adapter), and disk->CPU time from the
 * mixed-load runs, where an adapter's first use loads it from disk and later misses only activate it.
 */
export function fitAdapterLoad(tables: MeasurementTables, model: string, mixedRank: number): AdapterLoadModel {
  const runs = tables.rows('loading').filter((r) => r.srv_model === model);
  const gpuFromCpu = runs.map((r) => {
    const where = `${tables.file('loading')} ${r.run_dir}`;
    return {
      maxRank: requireNum(r, 'srv_max_lora_rank', where),
      rank: requireNum(r, 'srv_dummy_lora_ranks', where),
      ms: requireNum(r, 'mem_loading_time_per_load_ms', where),
    };
  });
  // spread of single activations around their run's mean
  const perRunMean = new Map(runs.map((r) => [r.run_dir, num(r, 'mem_loading_time_per_load_ms') ?? 0]));
  const deviations = tables.has('loadTimes')
    ? tables
        .rows('loadTimes')
        .filter((r) => perRunMean.has(r.run_dir))
        .map((r) => (num(r, 'this_load_time_ms') ?? 0) - perRunMean.get(r.run_dir)!)
    : [];
  const disk = fitDisk(tables, mixedRank);
  return {
    gpuFromCpu,
    gpuFromCpuFit: {
      source: [tables.file('loading'), ...(deviations.length > 0 ? [tables.file('loadTimes')] : [])],
      rows: runs.length,
      rmsError: rms(deviations),
      unit: 'ms per activation',
      note:
        'table values are the measured means; rmsError is the spread of single activations around them. ' +
        'Unmeasured pairs use the nearest measured pair.',
    },
    diskToCpuMsPerRank: disk.perRank,
    diskFit: disk.fit,
  };
}

function fitDisk(tables: MeasurementTables, rank: number): { perRank: number; fit: AdapterLoadModel['diskFit'] } {
  const names = (['mixedLoad', 'aggregatedLoad'] as const).filter((n) => tables.has(n));
  const x: number[][] = [];
  const y: number[] = [];
  for (const name of names) {
    tables.rows(name).forEach((r, i) => {
      const where = `${tables.file(name)} row ${i + 2}`;
      x.push([
        requireNum(r, 'max_lora_loads_from_disk', where),
        requireNum(r, 'max_lora_loads_from_memory_corrected', where),
      ]);
      y.push(1000 * requireNum(r, 'max_lora_loading_time', where));
    });
  }
  if (x.length < 2) {
    return {
      perRank: 0,
      fit: { source: ['none'], rows: 0, rmsError: 0, unit: 'ms', note: 'no mixed-load runs: disk loads not charged' },
    };
  }
  const fit = leastSquares(x, y);
  const [firstLoad, activation] = fit.coefficients as [number, number];
  const diskMs = Math.max(0, firstLoad - activation);
  return {
    perRank: diskMs / rank,
    fit: {
      source: names.map((n) => tables.file(n)),
      rows: x.length,
      rmsError: rms(fit.residuals),
      unit: 'ms of loading per run',
      note:
        `loading time = ${firstLoad.toFixed(2)} ms per first (disk) load + ${activation.toFixed(2)} ms per later ` +
        `activation; disk part = the difference, at rank ${rank}, scaled by rank`,
    },
  };
}

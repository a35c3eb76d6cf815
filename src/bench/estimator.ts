import { performance } from 'node:perf_hooks';
import type { GpuEstimator } from '../ml/estimator.js';
import type { PredictorRegistry } from '../ml/registry.js';
import { TwinEstimator } from '../ml/twin-estimator.js';
import { criterionOf, twinVerdict } from '../placement/criterion.js';
import { gpuScenarioOf } from '../placement/gpu-scenario.js';
import { parseWorkload, place, type GpuSimulator, type ParsedWorkload, type Placement } from '../placement/index.js';
import { defaultWorkLimits } from '../shared/work-limits.js';
import { syntheticWorkload } from './place-workloads.js';
import { median } from './twin.js';

/** Seed offset of the fresh-seed check (as bench place --slo): a seed no estimating run used. */
const freshSeedOffset = 7919;

export interface EstimatorCase {
  name: string;
  workload: ParsedWorkload;
}

/**
 * Dirichlet(0.5) popularity over 40 and 200 adapters of llama on the H100 64 GB (ranks 8 and 16), at the
 * default SLO and at the research rule: what a first placement of a new profile looks like.
 */
export function estimatorCases(): EstimatorCase[] {
  return [40, 200].flatMap((adapters) =>
    (['slo', 'throughput'] as const).map((criterion) => ({
      name: `llama dirichlet N=${adapters} ${criterion === 'slo' ? 'default SLO' : 'research rule'}`,
      workload: parseWorkload({
        ...syntheticWorkload({
          model: 'llama-3.1-8b-instruct',
          gpu: 'h100-64gb',
          adapters,
          demand: 20 * adapters + 40_000,
          popularity: 'dirichlet',
          ranks: [8, 16],
          seed: 1,
        }),
        criterion,
      }),
    })),
  );
}

export interface EstimatorRow {
  name: string;
  adapters: number;
  /** what packed the GPUs, and whether the placement was verified (each GPU an hour in the Twin, repaired) */
  method: 'predictors' | 'twin' | 'twin, verified';
  gpus: number;
  lowerBound: number;
  repeats: number;
  medianS: number;
  noise: number;
  questions: number;
  twinRuns: number;
  simulatedRequests: number;
  /** GPUs missing the criterion when each is simulated for 3,600 s with a fresh seed */
  freshMissing: number;
  freshStarved: number;
  /** what the GPUs missing it missed (the Twin verdict's first failure of each) */
  freshFailures: string[];
}

/**
 * Places a case `repeats` times with the predictors, with a Twin estimator of the same profile (the
 * service's work limits), and with the Twin estimator and `verify` (its GPUs simulated for an hour and
 * repaired, `parallel` at a time), then simulates each answer's GPUs for an hour with a seed none used.
 */
export async function benchEstimatorCase(
  registry: PredictorRegistry,
  c: EstimatorCase,
  repeats: number,
  simulate: GpuSimulator,
  parallel: number,
): Promise<EstimatorRow[]> {
  const predictor = registry.get(c.workload.model, c.workload.gpu);
  const twin = (): GpuEstimator =>
    new TwinEstimator(predictor.profile, { seed: c.workload.options.verifySeed, limits: defaultWorkLimits });
  const methods: [EstimatorRow['method'], () => GpuEstimator, boolean][] = [
    ['predictors', () => predictor, false],
    ['twin', twin, false],
    ['twin, verified', twin, true],
  ];
  const rows: EstimatorRow[] = [];
  for (const [method, make, verify] of methods) {
    const times: number[] = [];
    let placement: Placement | null = null;
    const workload = { ...c.workload, verify };
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      placement = await place(workload, make(), { limits: defaultWorkLimits, simulate, parallel });
      times.push((performance.now() - started) / 1000);
    }
    const p = placement!;
    const med = median(times);
    const fresh = await freshSeedRuns(c.workload, p, simulate);
    rows.push({
      name: c.name,
      adapters: c.workload.adapters.length,
      method,
      gpus: p.gpuCount,
      lowerBound: p.lowerBound,
      repeats,
      medianS: med,
      noise: median(times.map((t) => Math.abs(t - med))) / med,
      questions: p.predictorEvaluations,
      twinRuns: p.twinEstimate?.runs ?? 0,
      simulatedRequests: p.twinEstimate?.simulatedRequests ?? 0,
      ...fresh,
    });
  }
  return rows;
}

async function freshSeedRuns(
  workload: ParsedWorkload,
  placement: Placement,
  simulate: GpuSimulator,
): Promise<{ freshMissing: number; freshStarved: number; freshFailures: string[] }> {
  const index = new Map(workload.adapters.map((a, i) => [a.id, i]));
  const scenarios = placement.gpus.map((g) => ({
    ...gpuScenarioOf(
      workload,
      g.engine,
      g.adapters.map((a) => ({ adapter: index.get(a.id)!, rate: a.rate })),
    ),
    report: { perAdapter: true },
    durationS: 3600,
    seed: workload.options.verifySeed + freshSeedOffset,
  }));
  const criterion = criterionOf(workload);
  const results = await simulate(scenarios);
  const verdicts = results.map((r) => twinVerdict(r, criterion));
  return {
    freshMissing: verdicts.filter((v) => !v.met).length,
    freshStarved: results.filter((r) => r.starved).length,
    freshFailures: verdicts.flatMap((v, gpu) => (v.met ? [] : [`GPU ${gpu}: ${v.failures[0]}`])),
  };
}

export function formatEstimatorBench(rows: EstimatorRow[]): string {
  const head =
    `${'workload'.padEnd(37)}${'method'.padEnd(16)}${'GPUs'.padStart(5)}${'bound'.padStart(6)}` +
    `${'place s'.padStart(9)}${'noise'.padStart(7)}${'questions'.padStart(10)}${'Twin runs'.padStart(10)}` +
    `${'sim. requests'.padStart(14)}${'fresh seed: missing'.padStart(21)}${'starved'.padStart(8)}`;
  const lines = rows.map(
    (r) =>
      `${r.name.padEnd(37)}${r.method.padEnd(16)}${String(r.gpus).padStart(5)}${String(r.lowerBound).padStart(6)}` +
      `${r.medianS.toFixed(2).padStart(9)}${`${(100 * r.noise).toFixed(1)}%`.padStart(7)}` +
      `${String(r.questions).padStart(10)}${String(r.twinRuns).padStart(10)}` +
      `${r.simulatedRequests.toLocaleString('en-US').padStart(14)}` +
      `${`${r.freshMissing} of ${r.gpus}`.padStart(21)}${String(r.freshStarved).padStart(8)}`,
  );
  const missed = rows.flatMap((r) => r.freshFailures.map((f) => `  ${r.name}, ${r.method}: ${f}`));
  return [
    'placement with the Twin estimator (a profile without predictors) vs the predictors, unverified and verified ' +
      `(each GPU 3,600 s in the Twin, repaired); median of ${rows[0]?.repeats ?? 0} runs, packing on one thread; ` +
      'fresh seed: every GPU of the answer simulated 3,600 s with a seed no run used, GPUs missing the criterion ' +
      '(the SLO strictly, or the research rule)',
    head,
    ...lines,
    ...(missed.length > 0 ? ['missed with the fresh seed:', ...missed] : []),
  ].join('\n');
}

import { computeFeatures } from '../ml/features.js';
import type { Predictor } from '../ml/predictor.js';
import { workloadShape } from '../ml/workload-shape.js';
import { parseScenario, resolveScenario, type SimulationResult } from '../twin/index.js';
import { loadRegimeOf } from '../twin/latency-bounds.js';
import type { BoundCase } from './bound-calibration.js';
import { operatorLoadTtftMs, scenarioOf, type RealRun } from './real-runs.js';

/**
 * The runs the bounds are fitted and scored on: started, with results, at operator load (real mean TTFT under
 * 10 s). Saturated runs are left out: their latencies measure the benchmark client's queue of up to 28,000
 * requests, not a server an SLO could accept, and a GPU estimated near them fails any SLO on its mean TTFT
 * and served fraction already.
 */
export function boundRuns(runs: readonly RealRun[]): RealRun[] {
  return runs.filter((r) => !r.memoryError && r.real !== null && r.real.ttftMs < operatorLoadTtftMs);
}

/** A run's workload (rates and ranks): the folder above its grid point, e.g. rate_0.4-0.05-0.025_size_8-8-32. */
export function workloadOf(run: RealRun): string {
  const parts = run.key.split('/').filter((p) => p !== '');
  return parts.at(-2) ?? run.key;
}

const realFigures = (run: RealRun): BoundCase['real'] => ({
  ttftP99: run.real!.ttftP99Ms,
  itlP99: run.real!.itlP99Ms,
  ttftMean: run.real!.ttftMs,
});

/** A run replayed by the Twin (scenarioOf: the research checker's metrics scrapes included). */
export function twinBoundCase(run: RealRun, sim: SimulationResult): BoundCase {
  return {
    model: run.model,
    workload: workloadOf(run),
    regime: loadRegimeOf(sim.ttftMs?.mean ?? Infinity, sim.starved),
    estimate: { ttftP99: sim.ttftMs?.p99 ?? null, itlP99: sim.itlMs?.p99 ?? null, ttftMean: sim.ttftMs?.mean ?? null },
    real: realFigures(run),
  };
}

/** A run as the students see it: the features of its replayed configuration. */
export function studentBoundCase(run: RealRun, predictor: Predictor): BoundCase {
  const profile = predictor.profile;
  const resolved = resolveScenario(parseScenario(scenarioOf(run, profile.gpu, 0)), profile);
  const p = predictor.predictFeatures(computeFeatures(profile, workloadShape(resolved)));
  return {
    model: run.model,
    workload: workloadOf(run),
    regime: loadRegimeOf(p.ttftMs, p.starved),
    estimate: { ttftP99: p.ttftP99Ms, itlP99: p.itlP99Ms, ttftMean: p.ttftMs },
    real: realFigures(run),
  };
}

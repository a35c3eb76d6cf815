import type { Profile } from '../profiles/index.js';
import { parseScenario, resolveScenario, simulateParsed, type SimulationResult } from '../twin/index.js';
import type { DatasetRow } from './dataset.js';
import { computeFeatures } from './features.js';
import { workloadShape } from './workload-shape.js';
import { sampleWorkload } from './workload-sampler.js';

/** Features of workload `index` of a sweep (no simulation): how stale rows get the current feature list. */
export function sweepFeatures(profile: Profile, seed: number, index: number): number[] | null {
  const raw = sampleWorkload(profile, seed, index);
  if (!raw) return null;
  return Array.from(computeFeatures(profile, workloadShape(resolveScenario(parseScenario(raw), profile))), round9);
}

/** Samples workload `index` of a sweep, simulates it and returns its dataset row (null when infeasible). */
export function sweepRow(profile: Profile, seed: number, index: number): DatasetRow | null {
  const raw = sampleWorkload(profile, seed, index);
  if (!raw) return null;
  const scenario = parseScenario({ ...raw, report: { perAdapter: true } });
  const result = simulateParsed(scenario, profile);
  if (result.memoryError) return null;
  const features = computeFeatures(profile, workloadShape(resolveScenario(scenario, profile)));
  return {
    index,
    features: Array.from(features, round9),
    throughput: round9(result.throughput.total),
    idealThroughput: round9(result.idealThroughput),
    itlMs: result.itlMs ? round9(result.itlMs.mean) : null,
    ttftMs: result.ttftMs ? round9(result.ttftMs.mean) : null,
    ttftP99Ms: result.ttftMs ? round9(result.ttftMs.p99) : null,
    itlP99Ms: result.itlMs ? round9(result.itlMs.p99) : null,
    worstAdapterTtftMs: worstAdapterTtftMs(result),
    starved: result.starved,
    wallMs: Math.round(result.wallMs),
  };
}

/**
 * The largest mean TTFT of any adapter that had requests: cold adapters are the ones that wait. An adapter
 * whose requests all failed to complete counts the whole window (the research TTFT's convention).
 */
function worstAdapterTtftMs(result: SimulationResult): number | null {
  let worst: number | null = null;
  for (const a of result.adapters ?? []) {
    if (a.arrivedRequests === 0) continue;
    const ms = a.ttftMs ? a.ttftMs.mean : result.durationS * 1000;
    worst = worst === null ? ms : Math.max(worst, ms);
  }
  return worst === null ? null : round9(worst);
}

/** Nine significant digits: rows print the same on every machine and stay compact. */
const round9 = (x: number): number => (Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(9)) : x);

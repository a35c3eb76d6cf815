import type { Profile } from '../profiles/index.js';
import { parseScenario, resolveScenario, simulateParsed } from '../twin/index.js';
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
  const scenario = parseScenario(raw);
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
    starved: result.starved,
    wallMs: Math.round(result.wallMs),
  };
}

/** Nine significant digits: rows print the same on every machine and stay compact. */
const round9 = (x: number): number => (Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(9)) : x);

import { performance } from 'node:perf_hooks';
import { memoryErrorReason, type Profile, type ProfileStore } from '../profiles/index.js';
import { TwinEngine, type EngineAdapter, type EngineOptions, type EngineOutcome } from './engine.js';
import { resolveLength } from './lengths.js';
import { parseScenario, resolveScenario, type ParsedScenario, type ResolvedScenario } from './scenario.js';
import type { SimulationResult } from './result.js';

/** Starvation rule of the research system: completed tokens below 90 % of the arrived tokens. */
export const starvationRatio = 0.9;

/** Simulates a scenario (untrusted input: validated here) with the profile it names. */
export function simulate(input: unknown, profiles: ProfileStore): SimulationResult {
  const scenario = parseScenario(input);
  return simulateParsed(scenario, profiles.get(scenario.model, scenario.gpu, scenario.tensorParallelSize));
}

export function simulateParsed(
  scenario: ParsedScenario,
  profile: Profile,
  options: EngineOptions = {},
): SimulationResult {
  const started = performance.now();
  const resolved = resolveScenario(scenario, profile);
  const { engine } = resolved;
  const memoryError = memoryErrorReason(profile, engine.kvCacheTokens, engine.maxLoras, engine.maxLoraRank);
  if (memoryError) return memoryErrorResult(resolved, memoryError, performance.now() - started);
  const adapters: EngineAdapter[] = scenario.adapters.map((a) => {
    const input = a.inputTokens ?? scenario.inputTokens ?? {};
    const output = a.outputTokens ?? scenario.outputTokens ?? {};
    return {
      id: a.id,
      rank: a.rank,
      rate: a.rate,
      input: resolveLength(input, 'input').sampler,
      output: resolveLength(output, 'output').sampler,
    };
  });
  const outcome = new TwinEngine(resolved, adapters, options).run();
  return toResult(resolved, adapters, outcome, performance.now() - started);
}

function toResult(
  resolved: ResolvedScenario,
  adapters: EngineAdapter[],
  o: EngineOutcome,
  wallMs: number,
): SimulationResult {
  const m = o.metrics;
  const d = resolved.durationS;
  const total = (m.completedInput + m.completedOutput) / d;
  const ideal = m.arrivedTokens / d;
  const starvedAdapters = adapters
    .filter((_, i) => m.completedTokensByAdapter[i]! < starvationRatio * m.arrivedTokensByAdapter[i]!)
    .map((a) => a.id);
  return {
    throughput: { input: m.completedInput / d, output: m.completedOutput / d, total, requests: m.completed / d },
    idealThroughput: ideal,
    starved: total < starvationRatio * ideal,
    starvedAdapters,
    memoryError: null,
    ttftMs: m.ttftSummary(),
    itlMs: m.itlSummary(),
    tpotMs: m.tpotSummary(),
    completedRequests: m.completed,
    arrivedRequests: m.arrived,
    rejectedRequests: m.rejected,
    runningAtEnd: o.runningAtEnd,
    waitingAtEnd: o.waitingAtEnd,
    preemptions: m.preemptions,
    adapterLoads: o.gpuLoads,
    diskLoads: o.diskLoads,
    steps: m.steps,
    meanRunning: m.busyMs > 0 ? m.runningMsIntegral / m.busyMs : 0,
    meanAdaptersInBatch: m.busyMs > 0 ? m.adaptersMsIntegral / m.busyMs : 0,
    busyFraction: m.busyMs / (d * 1000),
    engine: { ...resolved.engine },
    durationS: d,
    ...(m.byAdapter ? { adapters: perAdapterReport(adapters, m) } : {}),
    wallMs,
  };
}

function perAdapterReport(
  adapters: EngineAdapter[],
  m: EngineOutcome['metrics'],
): NonNullable<SimulationResult['adapters']> {
  return m
    .byAdapter!.reports(m.arrivedTokensByAdapter, m.completedTokensByAdapter)
    .map((r, i) => ({ id: adapters[i]!.id, ...r }));
}

function memoryErrorResult(resolved: ResolvedScenario, reason: string, wallMs: number): SimulationResult {
  return {
    throughput: { input: 0, output: 0, total: 0, requests: 0 },
    idealThroughput: 0,
    starved: false,
    starvedAdapters: [],
    memoryError: reason,
    ttftMs: null,
    itlMs: null,
    tpotMs: null,
    completedRequests: 0,
    arrivedRequests: 0,
    rejectedRequests: 0,
    runningAtEnd: 0,
    waitingAtEnd: 0,
    preemptions: 0,
    adapterLoads: 0,
    diskLoads: 0,
    steps: 0,
    meanRunning: 0,
    meanAdaptersInBatch: 0,
    busyFraction: 0,
    engine: { ...resolved.engine },
    durationS: resolved.durationS,
    wallMs,
  };
}

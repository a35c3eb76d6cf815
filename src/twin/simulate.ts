import { performance } from 'node:perf_hooks';
import { memoryErrorReason, memoryErrorWithoutLora, type Profile, type ProfileStore } from '../profiles/index.js';
import { TwinEngine, type EngineOptions, type EngineOutcome, type EngineTraffic } from './engine.js';
import type { AdapterReport } from './adapter-metrics.js';
import { resolveLength } from './lengths.js';
import {
  parseScenario,
  resolveScenario,
  type LengthSpec,
  type ParsedScenario,
  type ResolvedEngine,
  type ResolvedScenario,
} from './scenario.js';
import type { SimulationResult } from './result.js';
import { withUpperBounds } from './latency-bounds.js';

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
  const memoryError = engineMemoryError(profile, resolved.engine);
  if (memoryError)
    return withUpperBounds(memoryErrorResult(resolved, memoryError, performance.now() - started), scenario.model);
  const traffic = trafficOf(scenario);
  const outcome = new TwinEngine(resolved, traffic, options).run();
  return withUpperBounds(toResult(resolved, traffic, outcome, performance.now() - started), scenario.model);
}

/** Why vLLM would not start with these engine settings, or null. */
function engineMemoryError(profile: Profile, engine: ResolvedEngine): string | null {
  return engine.enableLora !== false
    ? memoryErrorReason(profile, engine.kvCacheTokens, engine.maxLoras, engine.maxLoraRank)
    : memoryErrorWithoutLora(profile, engine.kvCacheTokens);
}

/** The scenario's request streams, each with its length samplers (the scenario's defaults where it has none). */
function trafficOf(scenario: ParsedScenario): EngineTraffic {
  const stream = (source: { rate: number; inputTokens?: LengthSpec; outputTokens?: LengthSpec }) => ({
    rate: source.rate,
    input: resolveLength(source.inputTokens ?? scenario.inputTokens ?? {}, 'input').sampler,
    output: resolveLength(source.outputTokens ?? scenario.outputTokens ?? {}, 'output').sampler,
  });
  return {
    adapters: scenario.adapters.map((a) => ({ id: a.id, rank: a.rank, ...stream(a) })),
    base: scenario.baseModel ? stream(scenario.baseModel) : null,
  };
}

function toResult(
  resolved: ResolvedScenario,
  traffic: EngineTraffic,
  o: EngineOutcome,
  wallMs: number,
): SimulationResult {
  const m = o.metrics;
  const d = resolved.durationS;
  const total = (m.completedInput + m.completedOutput) / d;
  const ideal = m.arrivedTokens / d;
  const { adapters } = traffic;
  // per stream (adapters, then the base model), only with report.perAdapter
  const reports = m.byAdapter?.reports(m.arrivedTokensByAdapter, m.completedTokensByAdapter);
  const starvedAdapters = adapters
    .filter((_, i) => isStarved(m.completedTokensByAdapter[i]!, m.arrivedTokensByAdapter[i]!))
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
    ...(reports ? { adapters: adapters.map((a, i) => ({ id: a.id, ...reports[i]! })) } : {}),
    ...(traffic.base ? { baseModel: baseModelReport(adapters.length, m, reports?.[adapters.length]) } : {}),
    wallMs,
  };
}

/** The research rule, per adapter (or for the base model): completed tokens below 90 % of the arrived. */
function isStarved(completedTokens: number, arrivedTokens: number): boolean {
  return completedTokens < starvationRatio * arrivedTokens;
}

/** The base model's requests (index `at`, after the adapters): counts and starvation; latencies with perAdapter. */
function baseModelReport(
  at: number,
  m: EngineOutcome['metrics'],
  latencies: AdapterReport | undefined,
): NonNullable<SimulationResult['baseModel']> {
  const arrived = m.arrivedTokensByAdapter[at]!;
  const completed = m.completedTokensByAdapter[at]!;
  return {
    arrivedRequests: m.baseArrived,
    completedRequests: m.baseCompleted,
    servedFraction: arrived > 0 ? completed / arrived : 1,
    starved: isStarved(completed, arrived),
    ...(latencies ? { ttftMs: latencies.ttftMs, itlMs: latencies.itlMs } : {}),
  };
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

export { simulate, simulateParsed, starvationRatio } from './simulate.js';
export {
  Scenario,
  LengthSpec,
  LengthInput,
  AdapterSpec,
  AdapterId,
  BaseModelTraffic,
  ProfileName,
  TensorParallelSize,
  VllmVersion,
  EngineSpec,
  ArrivalSpec,
  parseScenario,
  resolveScenario,
  allowedMaxLoraRanks,
  checkUniqueAdapterIds,
} from './scenario.js';
export { checkSimulationWork, expectedEvents, tooMuchWork, defaultDurationS } from './work.js';
export type { ParsedScenario, ResolvedScenario, ResolvedEngine } from './scenario.js';
export { SimulationResult, LatencySummary } from './result.js';
export { forwardMs, baseForwardMs, loraForwardMs, rankTile, schedulerMs, gpuLoadMs, diskLoadMs } from './step-time.js';
export type { StepShape } from './step-time.js';
export { resolveLength } from './lengths.js';
export { sharegptTables } from './sharegpt-shape.js';
export type { EngineObserver, EngineOptions, StepRecord, RequestRecord } from './engine.js';
export { TokenTimeline } from './token-timeline.js';
export type { TimedRequest } from './token-timeline.js';
export { Warning, Warnings, WarningList, warningCodes, warningConditions } from './warning.js';
export type { WarningCode } from './warning.js';
export {
  scenarioWarnings,
  withScenarioWarnings,
  checkProfile,
  checkAdapters,
  checkLengths,
  checkServer,
  checkBudget,
} from './extrapolation-warnings.js';
export type { EnvelopeCheck, ServerSettings, LengthSources } from './extrapolation-warnings.js';
export {
  boundedFigures,
  loadRegimes,
  loadRegimeOf,
  queuedTtftMs,
  saturatedTtftMs,
  regimeFactorsOf,
  upperBoundsOf,
  withUpperBounds,
  worstAdapterTtftMs,
} from './latency-bounds.js';
export type {
  BoundedFigure,
  BoundEstimator,
  LatencyBoundFactors,
  LoadRegime,
  RegimeFactors,
  UpperBounds,
} from './latency-bounds.js';

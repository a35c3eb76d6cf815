/**
 * The fields of the API's answers that the web view reads, declared here because the browser script cannot
 * import the zod schemas' types: their files bring Node's modules and types into a DOM program. These are
 * subsets of the answers (docs/design.md); src/api/ui.ts checks at compile time that each answer's inferred
 * type is assignable to its shape here, so a field the page reads that the API drops or retypes fails `tsc`.
 * Types only: no code, nothing of the DOM or of Node.
 */

/** GET /v1/pools: one row per pool (the Autoscale schema). */
export interface PoolRow {
  pool: string;
  desiredReplicas: number;
  lowerBoundReplicas: number;
  gpusPerReplica?: number;
  computedAt: string;
  stale: boolean;
  modelVersion: string;
}

export interface PoolsAnswer {
  pools: PoolRow[];
}

/** GET /v1/pools/{pool} (the Pool schema). */
export interface PoolAnswer {
  pool: string;
  updatedAt: string;
  computedAt: string;
  stale: boolean;
  placement: Placement;
}

export interface Slo {
  ttftMs?: number;
  itlMs?: number;
  ttftP99Ms?: number;
  itlP99Ms?: number;
}

export interface TrafficTotals {
  requestsPerSecond: number;
  promptTokensPerSecond: number;
  outputTokensPerSecond: number;
}

export interface Warning {
  code: string;
  message: string;
  field: string;
}

export interface Latency {
  mean: number;
  p99: number;
}

export interface Engine {
  maxLoras: number;
  maxCpuLoras: number;
  maxLoraRank: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  kvCacheTokens: number;
}

export interface GpuPlan {
  index: number;
  gpu: string;
  tensorParallelSize?: number;
  engine: Engine;
  adapters: { id: string; rank: number; rate: number }[];
  predicted: {
    throughput: number;
    idealThroughput: number;
    starvationProbability: number;
    itlMs: number;
    ttftMs: number;
    ttftP99Ms: number;
    itlP99Ms: number;
    headroom: number;
  };
  meets: { criterion: string; met: boolean; basis: 'twin' | 'predictors'; failures: string[] };
  /** the Twin's run of this GPU (verify: true) */
  verified?: {
    throughput: { total: number };
    idealThroughput: number;
    starved: boolean;
    memoryError: string | null;
    ttftMs: Latency | null;
    itlMs: Latency | null;
  };
  totals?: TrafficTotals;
  binding?: { constraint: string; headroom: number; summary: string };
}

export interface Placement {
  model: string;
  gpu: string;
  objective: string;
  criterion: string;
  slo: Slo | null;
  gpuCount: number;
  lowerBound: number;
  serverCount?: number;
  gpusPerServer?: number;
  totalGpus?: number;
  gpus: GpuPlan[];
  routing: unknown[];
  unplaced: { id: string; rate: number; reason: string }[];
  totals?: TrafficTotals;
  oneFewer?: { summary: string };
  verification?: {
    rounds: number;
    simulatedGpus: number;
    starvedAdapters: number;
    gpusMissingCriterion: number;
    budgetExhausted: boolean;
  };
  modelVersion: string;
  warnings?: Warning[];
}

/** POST /v1/predict: the figures the chart draws (the Prediction schema). */
export interface Prediction {
  throughput: number | null;
  memoryError: boolean;
  ttftP99Ms: number | null;
  itlP99Ms: number | null;
}

/** POST /v1/predict's body: the scenario of one GPU of the plan. */
export interface Scenario {
  model: string;
  gpu: string;
  engine: Omit<Engine, 'maxCpuLoras' | 'kvCacheTokens'>;
  adapters: { id: string; rank: number; rate: number }[];
  tensorParallelSize?: number;
}

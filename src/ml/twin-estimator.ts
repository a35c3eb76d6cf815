import { createHash } from 'node:crypto';
import { keyOf, memoryErrorReason, type Profile } from '../profiles/index.js';
import type { WorkLimits } from '../shared/work-limits.js';
import { resolveScenario, scenarioWarnings, tooMuchWork, type ParsedScenario } from '../twin/index.js';
import type { GpuEstimator, PredictedFigures, TwinEstimateCost } from './estimator.js';
import { computeFeatures, featureColumn, type WorkloadShape } from './features.js';
import { noFigures, predictedUpperBounds, type Prediction } from './prediction.js';
import { measureWithTwin, type TwinMeasurement } from './twin-measurement.js';
import { workloadShape } from './workload-shape.js';

/** Requests one estimating run aims at: enough for a p99 and a served fraction within about 1 %. */
export const twinRunRequests = 4000;
/** Simulated seconds of one run: at least two minutes (a steady state after the warm-up), at most 15. */
export const twinRunMinS = 120;
export const twinRunMaxS = 900;
/** Runs remembered by one estimator (by GPU shape); beyond this the memory starts afresh. */
const memoLimit = 20_000;

/** Bump when the estimating runs change: the version, and so a pool's plan, then changes with it. */
const methodVersion = 1;

const versions = new WeakMap<Profile, string>();

/** The Twin estimator's version for a profile: its method and a hash of the profile. */
export function twinEstimatorVersion(profile: Profile): string {
  let v = versions.get(profile);
  if (v === undefined) {
    const hash = createHash('sha256').update(JSON.stringify(profile)).digest('hex').slice(0, 16);
    v = `twin-v${methodVersion}-${hash}`;
    versions.set(profile, v);
  }
  return v;
}

/** Simulated seconds of a run of `rate` requests/s: about twinRunRequests, within the bounds and the limit. */
export function twinRunDurationS(rate: number, maxRunRequests: number): number {
  const wanted = rate > 0 ? twinRunRequests / rate : twinRunMinS;
  const capped = Math.min(twinRunMaxS, Math.max(twinRunMinS, wanted));
  // a GPU so busy that two minutes exceed MAX_SIMULATED_REQUESTS runs shorter (at least 10 s)
  return rate > 0 ? Math.max(10, Math.min(capped, maxRunRequests / rate)) : capped;
}

export interface TwinEstimatorOptions {
  /** the seed of every run (the answers are deterministic for it) */
  seed: number;
  /** maxSimulatedRequests bounds one run; maxVerifiedRequests all the runs of this estimator */
  limits: WorkLimits;
}

/**
 * Answers placement's and /v1/predict's questions for a profile that has no predictors, with the Twin
 * itself: each GPU shape is simulated once for a short window (about 4,000 requests, 2 to 15 simulated
 * minutes), read as the one-hour protocol would read it (twin-measurement.ts), and remembered. Slower than
 * the trees by four to five orders of magnitude per question, so the answers say what it cost (`cost()`).
 * Runs are sequential: placement asks one question at a time.
 */
export class TwinEstimator implements GpuEstimator {
  readonly kind = 'twin' as const;
  readonly version: string;
  private readonly memo = new Map<string, TwinMeasurement>();
  private runs = 0;
  private reused = 0;
  private simulatedRequests = 0;
  private expectedRequests = 0;
  private simulatedS = 0;
  private wallMs = 0;

  constructor(
    readonly profile: Profile,
    private readonly options: TwinEstimatorOptions,
  ) {
    this.version = twinEstimatorVersion(profile);
  }

  predict(scenario: ParsedScenario): Prediction {
    const resolved = resolveScenario(scenario, this.profile);
    const e = resolved.engine;
    const x = computeFeatures(this.profile, workloadShape(resolved));
    const ideal = x[featureColumn.demand_tokens_per_s]!;
    const common = {
      idealThroughput: ideal,
      engine: { ...e },
      modelVersion: this.version,
      estimator: this.kind,
      warnings: scenarioWarnings(scenario, this.profile, e),
    };
    const reason = memoryErrorReason(this.profile, e.kvCacheTokens, e.maxLoras, e.maxLoraRank);
    if (reason) {
      return {
        ...noFigures,
        memoryError: true,
        memoryErrorReason: reason,
        ...common,
        twinEstimate: this.cost(),
      };
    }
    const rate = scenario.adapters.reduce((s, a) => s + a.rate, 0);
    const run: ParsedScenario = {
      ...scenario,
      engine: e,
      durationS: twinRunDurationS(rate, this.options.limits.maxSimulatedRequests),
      seed: this.options.seed,
    };
    const figures = this.figures(this.measure(run, rate), ideal);
    return {
      ...figures,
      ...predictedUpperBounds(this, figures),
      memoryError: false,
      memoryErrorReason: null,
      ...common,
      twinEstimate: this.cost(),
    };
  }

  estimate(shape: WorkloadShape, x: ArrayLike<number>): PredictedFigures {
    const ideal = x[featureColumn.demand_tokens_per_s]!;
    const key = shapeKey(shape);
    const known = this.memo.get(key);
    if (known) {
      this.reused++;
      return this.figures(known, ideal);
    }
    const { scenario, rate } = this.scenarioOf(shape);
    const m = this.measure(scenario, rate);
    if (this.memo.size >= memoLimit) this.memo.clear();
    this.memo.set(key, m);
    return this.figures(m, ideal);
  }

  /** What the runs cost so far. */
  cost(): TwinEstimateCost {
    return {
      runs: this.runs,
      reused: this.reused,
      simulatedRequests: this.simulatedRequests,
      simulatedS: this.simulatedS,
      wallMs: Math.round(this.wallMs * 10) / 10,
      note:
        `no predictors for ${keyOf(this.profile)}: answered by ${this.runs} short Twin ` +
        `runs (${Math.round(this.wallMs)} ms) instead of the distilled trees; train them (lora-placer train) ` +
        'for answers in microseconds',
    };
  }

  private figures(m: TwinMeasurement, ideal: number): PredictedFigures {
    return {
      throughput: m.servedFraction * ideal,
      starvationProbability: m.starvationProbability,
      starved: m.starvationProbability >= 0.5,
      itlMs: m.itlMs,
      ttftMs: m.ttftMs,
      ttftP99Ms: m.ttftP99Ms,
      itlP99Ms: m.itlP99Ms,
      worstAdapterTtftMs: m.worstAdapterTtftMs,
    };
  }

  private measure(scenario: ParsedScenario, rate: number): TwinMeasurement {
    const { limits } = this.options;
    const expected = rate * scenario.durationS!;
    if (this.expectedRequests + expected > limits.maxVerifiedRequests) {
      throw tooMuchWork(
        'model',
        `answering with the Twin alone (no predictors for ${keyOf(this.profile)}) needed more ` +
          `than the ${limits.maxVerifiedRequests.toLocaleString('en-US')} simulated requests allowed after ` +
          `${this.runs} runs; place fewer adapters, or train predictors for this profile`,
        'maxVerifiedRequests',
        limits,
        this.expectedRequests + expected,
      );
    }
    this.expectedRequests += expected;
    // bursty arrivals may exceed the expectation; twice it (as simulate allows) bounds the run
    const m = measureWithTwin(scenario, this.profile, 2 * expected + 10_000);
    this.runs++;
    this.simulatedRequests += m.arrivedRequests;
    this.simulatedS += scenario.durationS!;
    this.wallMs += m.wallMs;
    return m;
  }

  /**
   * The scenario of a GPU shape, as the predictors see it: adapters by decreasing rate (rates to six
   * significant digits, so that equal shapes share a run), the rate-weighted mean lengths over ShareGPT's
   * shape, Poisson arrivals, the shape's knobs.
   */
  private scenarioOf(shape: WorkloadShape): { scenario: ParsedScenario; rate: number } {
    const adapters = sortedAdapters(shape);
    const rate = adapters.reduce((s, a) => s + a.rate, 0);
    return {
      rate,
      scenario: {
        model: this.profile.model,
        gpu: this.profile.gpu,
        engine: {
          maxLoras: shape.slots,
          maxCpuLoras: Math.max(shape.servedAdapters, shape.slots),
          maxLoraRank: shape.maxLoraRank,
          maxNumBatchedTokens: shape.maxNumBatchedTokens,
          maxNumSeqs: shape.maxNumSeqs,
          kvCacheTokens: shape.kvCacheTokens,
        },
        adapters: adapters.map((a, i) => ({ id: `a${i}`, rank: a.rank, rate: a.rate })),
        inputTokens: { mean: round6(shape.inputMean) },
        outputTokens: { mean: round6(shape.outputMean) },
        arrivals: { process: 'poisson' },
        durationS: twinRunDurationS(rate, this.options.limits.maxSimulatedRequests),
        seed: this.options.seed,
      },
    };
  }
}

const round6 = (x: number): number => (x === 0 ? 0 : Number(x.toPrecision(6)));

function sortedAdapters(shape: WorkloadShape): { rate: number; rank: number }[] {
  const out: { rate: number; rank: number }[] = [];
  for (let i = 0; i < shape.rates.length; i++) out.push({ rate: round6(shape.rates[i]!), rank: shape.ranks[i]! });
  return out.sort((a, b) => b.rate - a.rate || a.rank - b.rank);
}

/** Everything of a shape the run depends on (the seed and limits are the estimator's own). */
function shapeKey(shape: WorkloadShape): string {
  const adapters = sortedAdapters(shape)
    .map((a) => `${a.rate}:${a.rank}`)
    .join(',');
  return [
    shape.slots,
    shape.servedAdapters,
    shape.maxLoraRank,
    shape.kvCacheTokens,
    shape.maxNumBatchedTokens,
    shape.maxNumSeqs,
    round6(shape.inputMean),
    round6(shape.outputMean),
    adapters,
  ].join('|');
}

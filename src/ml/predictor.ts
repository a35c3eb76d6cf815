import { memoryErrorReason, type Profile } from '../profiles/index.js';
import { invalidInput, type ErrorIssue } from '../shared/errors.js';
import { resolveScenario, scenarioWarnings, type ParsedScenario } from '../twin/index.js';
import type { PredictorBundle } from './bundle.js';
import type { GpuEstimator, PredictedFigures } from './estimator.js';
import { computeFeatures, featureColumn, type WorkloadShape } from './features.js';
import { noFigures, predictedUpperBounds, type Prediction } from './prediction.js';
import { flatten, walk } from './tree.js';
import { targetNames, targets, type TargetName } from './targets.js';
import { workloadShape } from './workload-shape.js';

export type TreeEvaluator = (x: ArrayLike<number>) => number;

/**
 * The parts of a Scenario the predictors never saw: they were distilled from Twin runs of LoRA-enabled servers
 * whose every request names an adapter, and their features have no term for base-model requests or for a server
 * without LoRA. Such scenarios are refused (400 naming the field) rather than answered by extrapolation; the Twin
 * answers them (`simulate`, POST /v1/simulate).
 */
export function outsideTraining(scenario: ParsedScenario): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  const simulateInstead = 'simulate it instead (lora-placer simulate, POST /v1/simulate)';
  if (scenario.engine.enableLora === false)
    issues.push({
      path: 'engine.enableLora',
      message: `the predictors were trained on LoRA-enabled servers only; ${simulateInstead}`,
    });
  if (scenario.baseModel)
    issues.push({
      path: 'baseModel',
      message: `the predictors were trained on requests naming adapters only; ${simulateInstead}`,
    });
  return issues;
}

export type { PredictedFigures } from './estimator.js';

/**
 * The distilled trees of one model@gpu, each evaluated by a walk over flat typed arrays. The branch-only
 * functions `compile()` generates are as fast once warm, but only after about a million calls (a
 * 1,024-leaf tree becomes hundreds of small functions V8 optimises one by one); the walk is fast from the
 * first call (`bench predict` shows both). Memory feasibility is not learned: it comes from the profile's
 * KV rule, exactly as the Twin decides it.
 */
export class Predictor implements GpuEstimator {
  readonly kind = 'predictors' as const;
  readonly evaluators: Record<TargetName, TreeEvaluator>;
  readonly version: string;

  constructor(
    readonly profile: Profile,
    readonly bundle: PredictorBundle,
  ) {
    this.evaluators = Object.fromEntries(
      targetNames.map((t) => {
        const flat = flatten(bundle.trees[t].root);
        return [t, (x: ArrayLike<number>) => walk(flat, x)];
      }),
    ) as Record<TargetName, TreeEvaluator>;
    this.version = bundle.metadata.version;
  }

  predict(scenario: ParsedScenario): Prediction {
    const refused = outsideTraining(scenario);
    if (refused.length > 0) throw invalidInput('scenario', refused);
    const resolved = resolveScenario(scenario, this.profile);
    const e = resolved.engine;
    const x = computeFeatures(this.profile, workloadShape(resolved));
    const ideal = x[featureColumn.demand_tokens_per_s]!;
    const reason = memoryErrorReason(this.profile, e.kvCacheTokens, e.maxLoras, e.maxLoraRank);
    const warnings = scenarioWarnings(scenario, this.profile, e);
    if (reason) {
      return {
        ...noFigures,
        idealThroughput: ideal,
        memoryError: true,
        memoryErrorReason: reason,
        engine: { ...e },
        modelVersion: this.version,
        estimator: this.kind,
        warnings,
      };
    }
    const figures = this.predictFeatures(x);
    return {
      ...figures,
      ...predictedUpperBounds(this, figures),
      idealThroughput: ideal,
      memoryError: false,
      memoryErrorReason: null,
      engine: { ...e },
      modelVersion: this.version,
      estimator: this.kind,
      warnings,
    };
  }

  /** Placement's question: the trees read the feature vector only. */
  estimate(_shape: WorkloadShape, x: ArrayLike<number>): PredictedFigures {
    return this.predictFeatures(x);
  }

  /** Every answer for a feature vector (the hot path of placement: one object, no other allocation). */
  predictFeatures(x: ArrayLike<number>): PredictedFigures {
    const p = targets.starved.decode(this.evaluators.starved(x));
    return {
      throughput: targets.throughput.decode(this.evaluators.throughput(x), x),
      starvationProbability: p,
      starved: p >= 0.5,
      itlMs: targets.itl.decode(this.evaluators.itl(x)),
      ttftMs: targets.ttft.decode(this.evaluators.ttft(x)),
      ttftP99Ms: targets.ttftP99.decode(this.evaluators.ttftP99(x)),
      itlP99Ms: targets.itlP99.decode(this.evaluators.itlP99(x)),
      worstAdapterTtftMs: targets.worstAdapterTtft.decode(this.evaluators.worstAdapterTtft(x)),
    };
  }
}

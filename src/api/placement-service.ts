import type { PredictorRef } from '../jobs/predictor-refs.js';
import type { WorkQueue } from '../jobs/work-queue.js';
import type { Metrics } from '../obs/metrics.js';
import type { ParsedWorkload, Placement } from '../placement/index.js';
import type { WorkLimits } from '../shared/work-limits.js';

export interface PlacementServiceOptions {
  queue: WorkQueue;
  metrics: Metrics;
  limits: WorkLimits;
  /** the predictors served now (a refresh or MODELS_DIR swaps them between two placements) */
  predictorRefs: () => PredictorRef[];
  /** the service's profile directories (ProfileStore.dirs), which the workers read */
  profileDirs: readonly string[];
}

/** A placement's answer: the workload as validated (defaults applied) and its placement. */
export interface PlacedWorkload {
  workload: ParsedWorkload;
  placement: Placement;
}

/**
 * The placements the service computes, for POST /v1/placements, pools, observed pools and re-plans
 * after a model swap: off the HTTP thread on the work queue (admission control, timeout), with the
 * served predictors (the Twin estimator for a profile without them), timed and counted in the metrics.
 */
export class PlacementService {
  constructor(private readonly options: PlacementServiceOptions) {}

  /**
   * Places a workload (the request body as text, validated in the worker, or a workload already parsed).
   * Given a pool's `current` placement, re-plans from it with few moves where a re-plan applies (the
   * answer then has `moves`).
   */
  async place(workload: string | ParsedWorkload, signal?: AbortSignal, current?: Placement): Promise<PlacedWorkload> {
    const end = this.options.metrics.placementDuration.startTimer();
    const task = {
      kind: 'place' as const,
      body: workload,
      limits: this.options.limits,
      predictors: this.options.predictorRefs(),
      profileDirs: this.options.profileDirs,
      ...(current ? { current } : {}),
    };
    const answer = await this.options.queue.run(task, signal);
    const { verify, objective } = answer.workload;
    end({ verified: String(verify) });
    this.options.metrics.placements.inc({ objective, verified: String(verify) });
    return answer;
  }
}

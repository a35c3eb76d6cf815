import { criterionOf, effectiveSlo } from './criterion.js';
import type { Placement } from './placement.js';
import { plannedRates } from './planned-rates.js';
import type { ParsedWorkload } from './workload.js';

/**
 * Whether a re-plan may answer the current placement unchanged: the same adapters (ids and ranks), every
 * rate within ±`hysteresis` of the rate it was planned for, the same criterion, and every current GPU
 * meeting it with nothing unplaced. Small drifts then cost no moves and no vLLM restarts; the drift is
 * measured against the last real plan, so it cannot creep past the band one small step at a time.
 */
export function withinHysteresis(workload: ParsedWorkload, current: Placement, hysteresis: number): boolean {
  if (hysteresis <= 0) return false;
  if (current.unplaced.length > 0 || !current.gpus.every((gpu) => gpu.meets.met)) return false;
  if (!sameCriterion(workload, current)) return false;
  const planned = plannedRates(current);
  if (planned.size !== workload.adapters.length) return false;
  const ranks = new Map(current.gpus.flatMap((gpu) => gpu.adapters.map((a) => [a.id, a.rank] as const)));
  return workload.adapters.every((adapter) => {
    const before = planned.get(adapter.id);
    return (
      before !== undefined &&
      ranks.get(adapter.id) === adapter.rank &&
      Math.abs(adapter.rate - before) <= hysteresis * before + 1e-12
    );
  });
}

function sameCriterion(workload: ParsedWorkload, current: Placement): boolean {
  const criterion = criterionOf(workload);
  const slo = effectiveSlo(criterion);
  const targets = ['ttftMs', 'itlMs', 'ttftP99Ms', 'itlP99Ms'] as const;
  const sameSlo = (slo === null) === (current.slo === null) && targets.every((t) => slo?.[t] === current.slo?.[t]);
  // a plan of before judgeSloOn judged the estimates
  const sameJudgement = (current.judgedOn ?? 'estimate') === criterion.judgeOn;
  return criterion.kind === current.criterion && sameSlo && sameJudgement && workload.objective === current.objective;
}

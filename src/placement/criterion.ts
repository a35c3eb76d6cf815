import { worstAdapterTtftMs, type SimulationResult, type UpperBounds } from '../twin/index.js';
import type { ParsedWorkload } from './workload.js';

/**
 * The latency SLO a workload without `slo` is placed for: p99 time to first token 2 s and p99
 * inter-token latency 200 ms. Why: the research rule (complete 90 % of the hour's tokens) accepts
 * queues of minutes (README, "place"); 2 s to first token is what interactive chat is commonly sold
 * against, and on the real validation runs every configuration an operator would keep (real mean TTFT
 * under 10 s, no slot starvation) stays under 2 s at p99 until its GPU nears saturation; a token every
 * 200 ms (5 tokens/s) is about reading speed, the slowest stream that still reads as fluent.
 */
export const defaultSlo = Object.freeze({ ttftP99Ms: 2000, itlP99Ms: 200 });

/** What a GPU of a placement must meet. */
export interface GpuCriterion {
  /** `slo`: the latency targets below; `throughput`: the research rule (complete 90 % of the traffic) */
  kind: 'slo' | 'throughput';
  /** means (slo.ttftMs / slo.itlMs), as before the p99 targets existed */
  ttftMs?: number;
  itlMs?: number;
  /** the GPU's p99 TTFT and p99 ITL */
  ttftP99Ms?: number;
  itlP99Ms?: number;
  /** every adapter's mean TTFT (cold adapters are the ones that wait): the TTFT target */
  adapterTtftMs?: number;
  /** what the latency targets are compared with: the estimates, or their calibrated upper bounds */
  judgeOn: SloJudgement;
}

/** What placement compares the latency targets with (options.judgeSloOn; docs/bounds.md). */
export type SloJudgement = 'estimate' | 'bound';

/** The figures a GPU's latency targets are compared with. */
export interface JudgedFigures {
  ttftMs: number;
  ttftP99Ms: number;
  itlP99Ms: number;
  worstAdapterTtftMs: number;
}

/** The estimates themselves, or (with bounds) their upper bounds; a bound that is null leaves the estimate. */
export function judgedFigures(estimate: JudgedFigures, bounds: UpperBounds | undefined): JudgedFigures {
  if (!bounds) return estimate;
  return {
    ttftMs: bounds.ttftMeanUpperMs ?? estimate.ttftMs,
    ttftP99Ms: bounds.ttftP99UpperMs ?? estimate.ttftP99Ms,
    itlP99Ms: bounds.itlP99UpperMs ?? estimate.itlP99Ms,
    worstAdapterTtftMs: bounds.worstAdapterTtftUpperMs ?? estimate.worstAdapterTtftMs,
  };
}

/** The criterion of a workload: its `slo` (or the default one), or the research rule with its mean targets. */
export function criterionOf(workload: ParsedWorkload): GpuCriterion {
  const slo = workload.slo;
  const means = {
    ...(slo?.ttftMs !== undefined ? { ttftMs: slo.ttftMs } : {}),
    ...(slo?.itlMs !== undefined ? { itlMs: slo.itlMs } : {}),
  };
  if (workload.criterion === 'throughput')
    return { kind: 'throughput', judgeOn: workload.options.judgeSloOn, ...means };
  const targets = slo ?? defaultSlo;
  const judgeOn = workload.options.judgeSloOn;
  const adapterTtftMs = targets.ttftP99Ms ?? slo?.ttftMs;
  return {
    kind: 'slo',
    judgeOn,
    ...means,
    ...(targets.ttftP99Ms !== undefined ? { ttftP99Ms: targets.ttftP99Ms } : {}),
    ...(targets.itlP99Ms !== undefined ? { itlP99Ms: targets.itlP99Ms } : {}),
    ...(adapterTtftMs !== undefined ? { adapterTtftMs } : {}),
  };
}

/** The effective SLO of a workload as the answer reports it (null under the research rule without targets). */
export function effectiveSlo(
  c: GpuCriterion,
): { ttftMs?: number; itlMs?: number; ttftP99Ms?: number; itlP99Ms?: number } | null {
  const { kind: _kind, adapterTtftMs: _adapter, judgeOn: _judgeOn, ...targets } = c;
  return Object.keys(targets).length > 0 ? targets : null;
}

/**
 * Requests of an adapter left unfinished before it counts as starved under an SLO. The window's end
 * cuts one or two requests of any adapter (a cold adapter with 3 requests in the hour and its last
 * still running is at 67 %): that is the window, not starvation. A cold adapter left waiting for a slot
 * fails the mean-TTFT target too.
 */
export const minUnfinished = 3;

/**
 * Adapters under 90 % of their traffic with at least `minUnfinished` requests unfinished (all of `starvedAdapters`
 * without per-adapter results).
 */
export function starvedUnderSlo(r: SimulationResult): string[] {
  if (!r.adapters) return r.starvedAdapters;
  const unfinished = new Map(r.adapters.map((a) => [a.id, a.arrivedRequests - a.completedRequests]));
  return r.starvedAdapters.filter((id) => (unfinished.get(id) ?? minUnfinished) >= minUnfinished);
}

/**
 * The Twin's verdict on one GPU: vLLM starts and completes 90 % of the traffic (both criteria); under
 * an SLO also no adapter starved (`starvedUnderSlo`), the p99 and mean targets, and every adapter's
 * mean TTFT within the TTFT target. `failures` says what was missed, for the answer and for repairs.
 */
export function twinVerdict(r: SimulationResult, c: GpuCriterion): { met: boolean; failures: string[] } {
  const failures: string[] = [];
  if (r.memoryError !== null) failures.push(`memory error: ${r.memoryError}`);
  else if (r.starved) failures.push('starved: completes under 90 % of its traffic');
  const over = (what: string, value: number | undefined, target: number | undefined): void => {
    if (target !== undefined && (value === undefined || value > target))
      failures.push(`${what} ${value === undefined ? 'unmeasured' : `${Math.round(value)} ms`} > ${target} ms`);
  };
  const bound = c.judgeOn === 'bound';
  // with bounds, each figure's calibrated upper bound (a result without one, e.g. stored, falls back to the figure)
  const judged = (value: number | undefined, upper: number | null | undefined): number | undefined =>
    bound && value !== undefined ? (upper ?? value) : value;
  const name = (what: string): string => (bound ? `${what} bound` : what);
  if (r.memoryError === null) {
    over(name('mean TTFT'), judged(r.ttftMs?.mean, r.ttftMeanUpperMs), c.ttftMs);
    over('mean ITL', r.itlMs?.mean, c.itlMs);
    if (c.kind === 'slo') {
      const starved = starvedUnderSlo(r);
      if (starved.length > 0)
        failures.push(
          `${starved.length} adapter(s) below 90 % of their traffic with ${minUnfinished}+ requests unfinished`,
        );
      over(name('p99 TTFT'), judged(r.ttftMs?.p99, r.ttftP99UpperMs), c.ttftP99Ms);
      over(name('p99 ITL'), judged(r.itlMs?.p99, r.itlP99UpperMs), c.itlP99Ms);
      if (c.adapterTtftMs !== undefined) {
        const worst = judged(worstAdapterTtftMs(r) ?? 0, r.worstAdapterTtftUpperMs)!;
        if (worst > c.adapterTtftMs)
          failures.push(`an adapter's ${name('mean TTFT')} ${Math.round(worst)} ms > ${c.adapterTtftMs} ms`);
      }
    }
  }
  return { met: failures.length === 0, failures };
}

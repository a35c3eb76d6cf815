import type { WorkLimits } from '../shared/work-limits.js';
import { expectedEvents, tooMuchWork, type ParsedScenario } from '../twin/index.js';
import type { ParsedWorkload } from './workload.js';

/**
 * Refuses (413 LP_ERR_TOO_MUCH_WORK) a workload asking for more than the limits: more GPUs than
 * MAX_GPUS, or a verification whose first pass alone would simulate more than MAX_VERIFIED_REQUESTS
 * (every GPU at its traffic for verifyDurationS) or run longer than MAX_SIMULATED_SECONDS.
 */
export function checkPlacementWork(workload: ParsedWorkload, limits: WorkLimits): void {
  for (const field of ['maxGpus', 'gpuCount'] as const) {
    const gpus = workload[field];
    if (gpus !== undefined && gpus > limits.maxGpus)
      throw tooMuchWork(field, `${gpus} GPUs is more than the ${limits.maxGpus} allowed`, 'maxGpus', limits, gpus);
  }
  if (!workload.verify) return;
  const seconds = workload.options.verifyDurationS;
  if (seconds > limits.maxSimulatedSeconds) {
    throw tooMuchWork(
      'options.verifyDurationS',
      `${seconds} s is more than the ${limits.maxSimulatedSeconds} s allowed`,
      'maxSimulatedSeconds',
      limits,
      seconds,
    );
  }
  const requests = workload.adapters.reduce((sum, a) => sum + a.rate, 0) * seconds;
  if (requests > limits.maxVerifiedRequests) {
    const message =
      `verifying this workload simulates about ${Math.round(requests).toLocaleString('en-US')} requests ` +
      '(rates x options.verifyDurationS), more than ' +
      `the ${limits.maxVerifiedRequests.toLocaleString('en-US')} allowed; ` +
      'lower verifyDurationS or place without verify';
    throw tooMuchWork('options.verifyDurationS', message, 'maxVerifiedRequests', limits, requests);
  }
}

/**
 * The simulated requests a verified placement may still spend (MAX_VERIFIED_REQUESTS). Repairs and the
 * descent ask before each batch of Twin runs and stop, keeping what they have, when it runs out: the
 * answer stays deterministic and the work bounded.
 */
export class SimulationBudget {
  exhausted = false;

  constructor(private remaining: number) {}

  /** Spends the expected requests of `scenarios` if they fit; false (and nothing spent) otherwise. */
  spend(scenarios: readonly ParsedScenario[]): boolean {
    let cost = 0;
    for (const s of scenarios) cost += expectedEvents(s);
    if (cost > this.remaining) {
      this.exhausted = true;
      return false;
    }
    this.remaining -= cost;
    return true;
  }
}

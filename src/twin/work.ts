import { AppError } from '../shared/errors.js';
import { workLimitSettings, type WorkLimits } from '../shared/work-limits.js';
import type { ParsedScenario } from './scenario.js';

/** Simulated seconds when a scenario sets no durationS. */
export const defaultDurationS = 3600;

/** Regime length when a regime-switching scenario sets no periodS. */
export const defaultRegimePeriodS = 300;

/**
 * What a simulation costs, in events: the requests it is expected to generate (sum of rates x the
 * window, base-model traffic included, or the trace's events) plus one regime switch per stream and period.
 * Time and memory of the Twin grow with it (about 150 bytes per request held).
 */
export function expectedEvents(
  scenario: ParsedScenario,
  durationS: number = scenario.durationS ?? defaultDurationS,
): number {
  const arrivals = scenario.arrivals;
  if (arrivals?.process === 'trace') return arrivals.events?.length ?? 0;
  let rates = 0;
  let active = 0;
  for (const a of scenario.baseModel ? [...scenario.adapters, scenario.baseModel] : scenario.adapters) {
    rates += a.rate;
    if (a.rate > 0) active++;
  }
  const switches =
    arrivals?.process === 'regime' ? active * Math.ceil(durationS / (arrivals.periodS ?? defaultRegimePeriodS)) : 0;
  return rates * durationS + switches;
}

/**
 * Refuses (413 LP_ERR_TOO_MUCH_WORK) a scenario whose simulation would exceed the limits: too many
 * simulated seconds, or too many expected events. `what` prefixes the field names (e.g. `[3].`).
 */
export function checkSimulationWork(scenario: ParsedScenario, limits: WorkLimits, what = ''): void {
  const durationS = scenario.durationS ?? defaultDurationS;
  if (durationS > limits.maxSimulatedSeconds) {
    throw tooMuchWork(
      `${what}durationS`,
      `${durationS} s is more than the ${limits.maxSimulatedSeconds} s allowed`,
      'maxSimulatedSeconds',
      limits,
      durationS,
    );
  }
  const events = expectedEvents(scenario, durationS);
  if (events > limits.maxSimulatedRequests) {
    const message =
      `the scenario is expected to generate ${formatCount(events)} requests (rates x ` +
      `durationS${scenario.arrivals?.process === 'regime' ? ' + regime switches' : ''}), more than ` +
      `the ${formatCount(limits.maxSimulatedRequests)} allowed; shorten durationS or split the scenario`;
    const path = scenario.adapters.length > 0 ? 'adapters' : 'baseModel.rate';
    throw tooMuchWork(`${what}${path}`, message, 'maxSimulatedRequests', limits, events);
  }
}

/** The 413 of an exceeded limit: names the field, the limit, its setting and the value asked for. */
export function tooMuchWork(
  path: string,
  message: string,
  limit: keyof WorkLimits,
  limits: WorkLimits,
  value: number,
): AppError {
  return new AppError('tooMuchWork', `${path}: ${message} (limit ${workLimitSettings[limit]})`, {
    path,
    limit: workLimitSettings[limit],
    allowed: limits[limit],
    requested: value,
  });
}

function formatCount(n: number): string {
  return n >= 1e15 ? n.toExponential(2) : Math.round(n).toLocaleString('en-US');
}

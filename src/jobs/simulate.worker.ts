import { simulateParsed, type ParsedScenario, type SimulationResult } from '../twin/index.js';
import { workerProfiles } from './worker-profiles.js';

/** Worker-thread entry: simulates one already-validated scenario with its pool's profiles. */
export default function simulateTask(scenario: ParsedScenario): SimulationResult {
  return simulateParsed(scenario, workerProfiles().get(scenario.model, scenario.gpu));
}

import { embeddedProfiles } from '../profiles/index.js';
import { simulateParsed, type ParsedScenario, type SimulationResult } from '../twin/index.js';

/** Worker-thread entry: simulates one already-validated scenario with the embedded profiles. */
export default function simulateTask(scenario: ParsedScenario): SimulationResult {
  return simulateParsed(scenario, embeddedProfiles().get(scenario.model, scenario.gpu, scenario.tensorParallelSize));
}

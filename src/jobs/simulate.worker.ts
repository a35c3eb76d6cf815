import { embeddedProfiles, type Profile } from '../profiles/index.js';
import { simulateParsed, type ParsedScenario, type SimulationResult } from '../twin/index.js';

/** A scenario with the profile to simulate it with (profiles that are not embedded: validate --profiles). */
export interface ProfiledScenario {
  scenario: ParsedScenario;
  profile: Profile;
}

/** Worker-thread entry: simulates one already-validated scenario with its profile, else the embedded one. */
export default function simulateTask(task: ParsedScenario | ProfiledScenario): SimulationResult {
  if ('profile' in task && 'scenario' in task) return simulateParsed(task.scenario, task.profile);
  const scenario = task as ParsedScenario;
  return simulateParsed(scenario, embeddedProfiles().get(scenario.model, scenario.gpu, scenario.tensorParallelSize));
}

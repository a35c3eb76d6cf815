import type { Profile } from '../profiles/index.js';
import { simulateParsed, type ParsedScenario, type SimulationResult } from '../twin/index.js';

/** A scenario with the profile to simulate it with (the caller's store may be built in memory). */
export interface ProfiledScenario {
  scenario: ParsedScenario;
  profile: Profile;
}

/** Worker-thread entry: simulates one already-validated scenario with the profile sent along. */
export default function simulateTask(task: ProfiledScenario): SimulationResult {
  return simulateParsed(task.scenario, task.profile);
}

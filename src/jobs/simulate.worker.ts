import type { Profile } from '../profiles/index.js';
import { simulateParsed, type ParsedScenario, type SimulationResult } from '../twin/index.js';

/**
 * A scenario with the profile to simulate it with. Unlike the sweep and the service's work threads (profile
 * directories, worker-profiles.ts), the profile travels with each task: the caller has already parsed the
 * scenario and looked its profile up, its store may be built in memory (no directory a thread could read), and a
 * thread need not read a profile directory before its first run (a CLI `place` or `simulate` starts its threads
 * for one command). A profile is ~50 KB to copy; a simulation costs far more.
 */
export interface ProfiledScenario {
  scenario: ParsedScenario;
  profile: Profile;
}

/** Worker-thread entry: simulates one already-validated scenario with the profile sent along. */
export default function simulateTask(task: ProfiledScenario): SimulationResult {
  return simulateParsed(task.scenario, task.profile);
}

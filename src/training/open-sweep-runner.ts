import type { ProfileStore } from '../profiles/index.js';
import { localSweepRunner } from './local-sweep-runner.js';
import type { QueueSweepRunnerOptions } from './queue-sweep-runner.js';
import type { SweepRunner } from './sweep-runner.js';

/** Where a sweep runs: worker threads of this process, or the sweep queue on Redis. */
export type SweepRunnerChoice = { kind: 'local'; threads: number } | ({ kind: 'queue' } & QueueSweepRunnerOptions);

/** The runner of a choice; the queue library is loaded only for a queue (local runs never load it). */
export async function openSweepRunner(choice: SweepRunnerChoice, profiles: ProfileStore): Promise<SweepRunner> {
  if (choice.kind === 'local') return localSweepRunner(choice.threads, profiles);
  const { QueueSweepRunner } = await import('./queue-sweep-runner.js');
  return new QueueSweepRunner(profiles, choice);
}

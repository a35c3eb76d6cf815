import { TwinPool } from '../jobs/simulate-pool.js';
import type { ProfileStore } from '../profiles/index.js';
import type { ParsedScenario, SimulationResult } from '../twin/index.js';
import { parseWorkers } from './args.js';
import { Progress } from './progress.js';

/**
 * Replays scenarios on worker threads, one pool task per scenario so that progress counts them as they
 * finish (a slow one holds back no count); results in the scenarios' order.
 */
export async function replayScenarios(
  scenarios: ParsedScenario[],
  label: string,
  profiles: ProfileStore,
  values: { workers?: string | undefined; quiet: boolean },
): Promise<SimulationResult[]> {
  const progress = new Progress(label, scenarios.length, { quiet: values.quiet });
  const pool = new TwinPool(Math.min(parseWorkers(values.workers), scenarios.length), { threadsOnly: true, profiles });
  try {
    return await Promise.all(
      scenarios.map(async (s) => {
        const [result] = await pool.run([s]);
        progress.tick();
        return result!;
      }),
    );
  } finally {
    progress.finish();
    await pool.destroy();
  }
}

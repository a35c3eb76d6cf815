import { embeddedProfiles } from '../profiles/index.js';
import { checkSimulationWork, parseScenario, simulateParsed } from '../twin/index.js';
import { loadWorkLimits } from '../config.js';
import { readInputDocuments, withItemPath, writeJson } from './io.js';
import { simulateInPool } from '../jobs/simulate-pool.js';
import { parseCommandArgs, parseWorkers } from './args.js';

export async function runSimulate(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'simulate',
    argv,
    { workers: { type: 'string' }, pretty: { type: 'boolean', default: false } },
    1,
  );
  const workers = parseWorkers(values.workers);
  const input = readInputDocuments(positionals[0]);
  const profiles = embeddedProfiles();
  const limits = loadWorkLimits();
  // validate everything before simulating anything: bad input fails fast, naming the item
  const scenarios = input.items.map((item, i) => {
    try {
      const s = parseScenario(item);
      profiles.get(s.model, s.gpu, s.tensorParallelSize);
      checkSimulationWork(s, limits);
      return s;
    } catch (err) {
      throw withItemPath(err, i, input.single);
    }
  });
  if (input.single) {
    const s = scenarios[0]!;
    writeJson(simulateParsed(s, profiles.get(s.model, s.gpu, s.tensorParallelSize)), values.pretty);
    return 0;
  }
  await simulateInPool(scenarios, workers, (result) => writeJson(result, values.pretty));
  return 0;
}

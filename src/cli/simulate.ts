import { join } from 'node:path';
import {
  checkSimulationWork,
  parseScenario,
  simulateParsed,
  withScenarioWarnings,
  type SimulationResult,
} from '../twin/index.js';
import { loadWorkLimits } from '../config.js';
import { readInputDocuments, withItemPath, writeJson } from './io.js';
import { simulateInPool } from '../jobs/simulate-pool.js';
import { parseCommandArgs, parseWorkers } from './args.js';
import { commandProfiles, profilesOption } from './profiles-option.js';
import { printWarnings } from './warnings.js';

export async function runSimulate(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'simulate',
    argv,
    {
      workers: { type: 'string' },
      pretty: { type: 'boolean', default: false },
      'bench-out': { type: 'string' },
      ...profilesOption,
    },
    1,
  );
  const workers = parseWorkers(values.workers);
  const input = readInputDocuments(positionals[0]);
  const profiles = commandProfiles(values);
  const limits = loadWorkLimits();
  // validate everything before simulating anything: bad input fails fast, naming the item
  const scenarios = input.items.map((item, i) => {
    try {
      const parsed = parseScenario(item);
      const profile = profiles.get(parsed.model, parsed.gpu, parsed.tensorParallelSize);
      // the answer names the profile (the scenario may have named the model by its Hugging Face id)
      const s = { ...parsed, model: profile.model, gpu: profile.gpu };
      checkSimulationWork(s, limits);
      return s;
    } catch (err) {
      throw withItemPath(err, i, input.single);
    }
  });
  if (values['bench-out'] !== undefined) {
    // what stock vLLM would write for this traffic (docs/calibrate.md): loaded only when asked
    const { twinBenchFiles, writeBenchFiles } = await import('../refit/write-bench.js');
    const out = values['bench-out'];
    scenarios.forEach((s, i) => {
      const dir = input.single ? out : join(out, String(i));
      const files = twinBenchFiles(s, profiles.get(s.model, s.gpu, s.tensorParallelSize));
      for (const f of writeBenchFiles(dir, files)) process.stdout.write(`wrote ${f}\n`);
    });
    return 0;
  }
  const answer = (result: SimulationResult, i: number): void => {
    const s = scenarios[i]!;
    const warned = withScenarioWarnings(result, s, profiles.get(s.model, s.gpu, s.tensorParallelSize));
    printWarnings(warned.warnings, i, input.single);
    writeJson(warned, values.pretty);
  };
  if (input.single) {
    const s = scenarios[0]!;
    answer(simulateParsed(s, profiles.get(s.model, s.gpu, s.tensorParallelSize)), 0);
    return 0;
  }
  await simulateInPool(scenarios, workers, answer, profiles);
  return 0;
}

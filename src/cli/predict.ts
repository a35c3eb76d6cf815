import { PredictorRegistry } from '../ml/registry.js';
import { parseScenario } from '../twin/index.js';
import { readInputDocuments, withItemPath, writeJson } from './io.js';
import { loadWorkLimits } from '../config.js';
import { parseCommandArgs } from './args.js';
import { commandProfiles, profilesOption } from './profiles-option.js';
import { printWarnings } from './warnings.js';

export async function runPredict(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    'predict',
    argv,
    { pretty: { type: 'boolean', default: false }, ...profilesOption },
    1,
  );
  const input = readInputDocuments(positionals[0]);
  const registry = PredictorRegistry.fromDirectory(commandProfiles(values));
  const limits = loadWorkLimits();
  const answers = input.items.map((item, i) => {
    try {
      const scenario = parseScenario(item);
      // a profile without predictors answers from short Twin runs, seeded by the scenario's seed
      const twin = { seed: scenario.seed ?? 0, limits };
      return registry.estimator(scenario.model, scenario.gpu, twin, scenario.tensorParallelSize).predict(scenario);
    } catch (err) {
      throw withItemPath(err, i, input.single);
    }
  });
  for (const [i, a] of answers.entries()) printWarnings(a.warnings, i, input.single);
  if (input.single) writeJson(answers[0], values.pretty);
  else for (const a of answers) writeJson(a, values.pretty);
  return 0;
}

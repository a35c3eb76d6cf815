import { embeddedProfiles } from '../profiles/index.js';
import { PredictorRegistry } from '../ml/registry.js';
import { parseScenario } from '../twin/index.js';
import { readInputDocuments, withItemPath, writeJson } from './io.js';
import { parseCommandArgs } from './args.js';

export async function runPredict(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs('predict', argv, { pretty: { type: 'boolean', default: false } }, 1);
  const input = readInputDocuments(positionals[0]);
  const registry = PredictorRegistry.fromDirectory(embeddedProfiles());
  const answers = input.items.map((item, i) => {
    try {
      const scenario = parseScenario(item);
      return registry.get(scenario.model, scenario.gpu, scenario.tensorParallelSize).predict(scenario);
    } catch (err) {
      throw withItemPath(err, i, input.single);
    }
  });
  if (input.single) writeJson(answers[0], values.pretty);
  else for (const a of answers) writeJson(a, values.pretty);
  return 0;
}

import { predictorSummary, profileSummary } from '../api/catalog.js';
import { PredictorRegistry } from '../ml/registry.js';
import { embeddedProfiles, profileKey } from '../profiles/index.js';
import { parseCommandArgs } from './args.js';
import { writeJson } from './io.js';

export async function runProfiles(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('profiles', argv, { json: { type: 'boolean', default: false } });
  const store = embeddedProfiles();
  const profiles = store.list().map(profileSummary);
  const predictors = PredictorRegistry.fromDirectory(store).list().map(predictorSummary);
  if (values.json) {
    writeJson({ profiles, predictors }, true);
    return 0;
  }
  const lines = ['profiles (model@gpu, vLLM, max model length):'];
  for (const p of profiles) {
    const key = profileKey(p.model, p.gpu, p.tensorParallelSize);
    lines.push(`  ${key}  vLLM ${p.vllmVersion}  ${p.maxModelLen} tokens  ${p.description}`);
  }
  lines.push('predictors (model@gpu, version, trained, Twin hold-out):');
  for (const p of predictors) {
    const h = p.metrics.twinHoldout;
    const smape = h.throughput.smapeResearch.toFixed(2);
    const holdout = `throughput SMAPE ${smape} %, starvation macro-F1 ${h.starved.macroF1.toFixed(3)}`;
    const key = profileKey(p.model, p.gpu, p.tensorParallelSize);
    lines.push(`  ${key}  ${p.version}  ${p.created}  ${p.trainingRows} rows  ${holdout}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

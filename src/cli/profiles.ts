import { predictorSummary, profileSummary } from '../api/catalog.js';
import { PredictorRegistry } from '../ml/registry.js';
import { profileKey } from '../profiles/index.js';
import { parseCommandArgs } from './args.js';
import { commandProfiles, profilesOption } from './profiles-option.js';
import { writeJson } from './io.js';

export async function runProfiles(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('profiles', argv, {
    json: { type: 'boolean', default: false },
    ...profilesOption,
  });
  const store = commandProfiles(values);
  const registry = PredictorRegistry.fromDirectory(store);
  const profiles = store.list().map((p) => profileSummary(p, store, registry));
  const predictors = registry.list().map(predictorSummary);
  if (values.json) {
    writeJson({ profiles, predictors }, true);
    return 0;
  }
  const lines = ['profiles (model@gpu, Hugging Face id, source, vLLM, TP, max model length, predictors, file):'];
  for (const p of profiles) {
    const source = `${p.source.kind} (${p.source.measuredOn})`;
    const answers = p.hasPredictors ? 'predictors' : 'no predictors: the Twin answers (slower)';
    lines.push(
      `  ${profileKey(p.model, p.gpu, p.tensorParallelSize)}  ${p.hfModelId ?? '-'}  ${source}  ` +
        `vLLM ${p.vllmVersion}  TP ${p.tensorParallelSize}  ${p.maxModelLen} tokens  ${answers}  ` +
        (p.file ?? '(in memory)'),
    );
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

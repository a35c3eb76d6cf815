import { join } from 'node:path';
import type { PredictorBundle } from '../../src/ml/bundle.js';
import { readBundle } from '../../src/ml/bundle-store.js';
import { Predictor } from '../../src/ml/predictor.js';
import { defaultPredictorsDir, PredictorRegistry } from '../../src/ml/registry.js';
import {
  defaultProfilesDir,
  embeddedProfiles,
  loadProfileFile,
  Profile,
  ProfileStore,
} from '../../src/profiles/index.js';
import { llamaBundleName } from './bundle-variant.js';

/** The fixture's model name: no shipped profile has it, so nothing but the fixture answers for it. */
export const tpModel = 'test-llama-tp';
export const tpGpu = 'h100-64gb';
/** what the fixture says vLLM loads (no such model: the manifests must take it from the profile) */
export const tpHfModelId = 'test-org/Test-Llama-TP';

/**
 * A TEST FIXTURE, not a model of any hardware: the calibrated Llama profile renamed and declared to span `size`
 * GPUs per server. Its physics are the one-GPU profile's, so the embedded Llama predictors answer for it exactly
 * as they do for Llama at TP 1, which lets a test compare a TP-N placement with the TP-1 one server for server.
 */
export function tpProfile(size = 4, model = tpModel): Profile {
  const base = loadProfileFile(join(defaultProfilesDir, `${llamaBundleName}.json`));
  return Profile.parse({
    ...base,
    model,
    description: `test fixture: ${base.model}@${base.gpu} declared to span ${size} GPUs per server`,
    tensorParallelSize: size,
    hfModelId: tpHfModelId,
  });
}

/** The embedded Llama bundle, named for the fixture profile (what `train` would write for it, trees aside). */
export function tpBundle(size = 4, model = tpModel): PredictorBundle {
  const base = readBundle(join(defaultPredictorsDir, llamaBundleName));
  return { ...base, metadata: { ...base.metadata, model, tensorParallelSize: size } };
}

/** The embedded profiles and predictors plus the TP-`size` fixture's, through the ProfileStore and the registry. */
export function tpStores(size = 4, model = tpModel): { profiles: ProfileStore; predictors: PredictorRegistry } {
  const fixture = tpProfile(size, model);
  const profiles = new ProfileStore([...embeddedProfiles().list(), fixture]);
  const embedded = PredictorRegistry.fromDirectory(profiles).list();
  const predictors = new PredictorRegistry([...embedded, new Predictor(fixture, tpBundle(size, model))], profiles);
  return { profiles, predictors };
}

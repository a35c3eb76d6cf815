import { catalogModel } from '../../src/profiles/build/model-catalog.js';
import { shippedProfiles } from '../../src/profiles/build/shipped-profiles.js';
import { profileKey } from '../../src/profiles/index.js';

/** The two profiles calibrated on real runs (H100 64 GB, vLLM 0.8.5 fork). */
export const calibratedKeys = ['llama-3.1-8b-instruct@h100-64gb', 'qwen-2.5-7b-instruct@h100-64gb'];

/** The built profiles that ship with predictors (models/predictors, trained by `train` on the built profile). */
export const builtWithPredictors = [
  'llama-3.1-8b-instruct@a100-80gb',
  'llama-3.1-8b-instruct@h100-80gb',
  'qwen-2.5-7b-instruct@a100-80gb',
  'qwen-2.5-7b-instruct@h100-80gb',
];

/** Every profile with predictors, sorted. */
export const predictorKeys = [...calibratedKeys, ...builtWithPredictors].sort();

/** The built profiles shipped beside them (src/profiles/build/shipped-profiles.ts), by key. */
export const shippedKeys = shippedProfiles.map((s) => profileKey(catalogModel(s.model).name, s.gpu, s.tp));

/** Every embedded profile's key in the order the store loads them (their files' names, sorted). */
export const embeddedKeys = [...calibratedKeys, ...shippedKeys].sort((a, b) => (`${a}.json` < `${b}.json` ? -1 : 1));

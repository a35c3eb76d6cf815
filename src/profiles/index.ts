export { Profile, FitReport, ProfileSource, profileKey, keyOf, sourceOf, tensorParallelSizeOf } from './schema.js';
export type { ForwardModel, AdapterLoadModel, SchedulerModel, KvRankCurve } from './schema.js';
export {
  kvCapacityTokens,
  kvCapacityWithoutLora,
  maxFeasibleSlots,
  memoryErrorReason,
  memoryErrorWithoutLora,
} from './kv-capacity.js';
export {
  ProfileStore,
  embeddedProfiles,
  loadProfileFile,
  defaultProfilesDir,
  unknownTensorParallelSize,
  profilesFrom,
  profilesWith,
} from './store.js';
export { hubModelIds, hfModelIdOf } from './hub-model-ids.js';
export { MeasuredEnvelope, calibrationTablesEnvelope, measuredEnvelopeOf } from './measured-envelope.js';

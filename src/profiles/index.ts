export { Profile, FitReport, ProfileSource, profileKey, sourceOf, tensorParallelSizeOf } from './schema.js';
export type { ForwardModel, AdapterLoadModel, SchedulerModel, KvRankCurve } from './schema.js';
export { kvCapacityTokens, maxFeasibleSlots, memoryErrorReason } from './kv-capacity.js';
export {
  ProfileStore,
  embeddedProfiles,
  loadProfileFile,
  defaultProfilesDir,
  profilesFrom,
  profilesWith,
} from './store.js';
export { hubModelIds, hfModelIdOf } from './hub-model-ids.js';

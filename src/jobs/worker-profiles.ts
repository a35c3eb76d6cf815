import { workerData } from 'node:worker_threads';
import { embeddedProfiles, profilesFrom, type ProfileStore } from '../profiles/index.js';

/** What a pool hands its worker threads so that they simulate with the caller's profiles. */
export interface ProfilesWorkerData {
  /** the caller's ProfileStore.dirs: the threads read the same directories (once each) */
  profileDirs: readonly string[];
}

/** workerData of a thread pool that simulates with `profiles` (piscina's `workerData` option). */
export function profilesWorkerData(profiles: ProfileStore): ProfilesWorkerData {
  return { profileDirs: profiles.dirs };
}

/** In a worker thread: the profiles its pool was made with (the embedded ones when it was given none). */
export function workerProfiles(): ProfileStore {
  const dirs = (workerData as Partial<ProfilesWorkerData> | null | undefined)?.profileDirs;
  return dirs ? profilesFrom(dirs) : embeddedProfiles();
}

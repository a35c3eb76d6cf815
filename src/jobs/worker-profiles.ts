import { workerData } from 'node:worker_threads';
import { embeddedProfiles, profilesFrom, type ProfileStore } from '../profiles/index.js';

/**
 * What a pool hands its worker threads so that they simulate with the caller's profiles: the directories, read
 * once per thread, rather than a profile with each task (as the Twin pool does, simulate.worker.ts). A sweep's
 * task is one row and names its profile (SweepJob, shared by every SweepRunner): a sweep's thousands of rows then
 * carry no profile (9 to 55 KB) each; the queue runner, whose batches of rows go to other processes, packs the
 * profile into each batch instead (sweep-batch.ts). A store built in memory has no directories: it is for runs
 * in the calling thread (InlineSweepRunner).
 */
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

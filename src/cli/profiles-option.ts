import { loadProfileDirs } from '../config.js';
import { profilesWith, type ProfileStore } from '../profiles/index.js';

/** --profiles DIR, repeatable: more profile directories (read after PROFILES_DIR's, so they win). */
export const profilesOption = { profiles: { type: 'string', multiple: true } } as const;

/**
 * The profiles a command works with: the embedded models/profiles, then PROFILES_DIR's directories, then
 * --profiles' ones; a later directory's profile replaces an earlier one of the same model@gpu.
 */
export function commandProfiles(values: { profiles?: string[] | undefined }): ProfileStore {
  return profilesWith([...loadProfileDirs(), ...(values.profiles ?? [])]);
}

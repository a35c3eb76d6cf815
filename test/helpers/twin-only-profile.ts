import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultProfilesDir } from '../../src/profiles/index.js';

/** A model name no predictor bundle has: the calibrated llama profile copied under it. */
export const twinOnly = { model: 'llama-twin-only', gpu: 'h100-64gb' } as const;

/**
 * A temporary profile directory holding the calibrated llama profile under another name (so it has no
 * predictors), as a user passes one with --profiles or PROFILES_DIR. `remove` deletes it.
 */
export function twinOnlyProfileDir(): { dir: string; file: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-profiles-'));
  const profile = JSON.parse(readFileSync(join(defaultProfilesDir, 'llama-3.1-8b-instruct@h100-64gb.json'), 'utf8'));
  const file = join(dir, `${twinOnly.model}@${twinOnly.gpu}.json`);
  writeFileSync(file, JSON.stringify({ ...profile, model: twinOnly.model, description: 'test copy, no predictors' }));
  return { dir, file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A small workload of the twin-only profile: 8 adapters, about 3,000 tokens/s. */
export const twinOnlyWorkload = (over: Record<string, unknown> = {}) => ({
  ...twinOnly,
  adapters: Array.from({ length: 8 }, (_, i) => ({ id: `t-${i}`, rank: i % 2 === 0 ? 8 : 16, rate: 0.5 + i * 0.25 })),
  ...over,
});

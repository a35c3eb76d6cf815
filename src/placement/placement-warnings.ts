import type { Profile } from '../profiles/index.js';
import {
  checkAdapters,
  checkBudget,
  checkLengths,
  checkProfile,
  checkServer,
  WarningList,
  type Warning,
} from '../twin/index.js';
import type { Placement } from './placement.js';
import type { ParsedWorkload } from './workload.js';

/**
 * The warnings of a Placement: where the workload (ranks, lengths, rates, engine settings, vLLM release) or a
 * server the placement chose (adapters, --max-loras, --max-cpu-loras; fields under `gpus`) leaves what `profile`
 * was measured on.
 */
export function placementWarnings(workload: ParsedWorkload, placement: Placement, profile: Profile): Warning[] {
  const list = new WarningList();
  const c = checkProfile(list, profile, workload.vllmVersion);
  if (!c) return list.list();
  checkAdapters(c, workload.adapters);
  checkLengths(c, workload);
  checkBudget(c, {
    maxNumBatchedTokens: workload.engine?.maxNumBatchedTokens ?? profile.engineDefaults.maxNumBatchedTokens,
    maxNumSeqs: workload.engine?.maxNumSeqs ?? profile.engineDefaults.maxNumSeqs,
  });
  for (const g of placement.gpus)
    checkServer(c, g.engine, g.adapters.length, { prefix: `gpus.${g.index}.`, group: 'gpus.*.' });
  return list.list();
}

/** `placement` with its warnings (the answer of POST /v1/placements, pools and `place`). */
export function withPlacementWarnings(placement: Placement, workload: ParsedWorkload, profile: Profile): Placement {
  return { ...placement, warnings: placementWarnings(workload, placement, profile) };
}

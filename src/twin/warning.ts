import { z } from 'zod';

/**
 * The warning codes an answer may carry, each with the condition that raises it (docs/design.md, Warnings, lists
 * the same). Stable like the error codes (LP_ERR_*): clients may act on them.
 */
export const warningConditions = {
  LP_WARN_PROFILE_NOT_CALIBRATED:
    'the profile was built from kernel tables or a roofline (source.kind kernels / roofline), not calibrated on ' +
    'real runs of this model and GPU',
  LP_WARN_ENVELOPE_UNKNOWN:
    'the profile was refitted (source.kind refitted) and carries no measuredEnvelope: nothing says what its ' +
    'constants were measured on, so no range below is checked',
  LP_WARN_VLLM_VERSION_NOT_MEASURED: "vllmVersion's major.minor release differs from the profile's vllmVersion",
  LP_WARN_RANK_NOT_MEASURED: 'an adapter rank, or an explicit engine.maxLoraRank, is not one of the measured ranks',
  LP_WARN_PROMPT_LENGTH_NOT_MEASURED: 'a mean prompt length lies outside the measured mean prompt lengths',
  LP_WARN_OUTPUT_LENGTH_NOT_MEASURED: 'a mean output length lies outside the measured mean output lengths',
  LP_WARN_ADAPTERS_PER_SERVER_NOT_MEASURED: 'one server receives traffic for more adapters than any measured server',
  LP_WARN_MAX_LORAS_NOT_MEASURED: 'a server has more adapter slots (--max-loras) than any measured server',
  LP_WARN_MAX_CPU_LORAS_NOT_MEASURED:
    "a server's --max-cpu-loras is above the measured ones and above its number of adapters (otherwise " +
    'LP_WARN_ADAPTERS_PER_SERVER_NOT_MEASURED says it)',
  LP_WARN_MAX_NUM_BATCHED_TOKENS_NOT_MEASURED: 'max-num-batched-tokens is none of the measured values',
  LP_WARN_MAX_NUM_SEQS_NOT_MEASURED: 'max-num-seqs lies outside the measured range',
  LP_WARN_ARRIVALS_NOT_MEASURED: 'arrivals.process is not one of the measured arrival processes (Poisson)',
  LP_WARN_ADAPTER_RATES_NOT_MEASURED:
    'the median adapter rate is above the busiest adapter of the measured runs: rates typed per minute ' +
    'instead of per second look like this',
} as const;
export type WarningCode = keyof typeof warningConditions;
export const warningCodes = Object.keys(warningConditions) as [WarningCode, ...WarningCode[]];

export const Warning = z
  .object({
    code: z.enum(warningCodes).describe('stable code (docs/design.md lists each and its condition)'),
    message: z.string().describe('what leaves the envelope, the measured range, and how many inputs alike'),
    field: z
      .string()
      .describe(
        'path of the first input outside the envelope, as in error issues (adapters.3.rank); in a Placement, ' +
          "paths under gpus name the answer's servers",
      ),
  })
  // one component in the OpenAPI document, referenced by the three answers that carry it
  .meta({ id: 'Warning' });
export type Warning = z.infer<typeof Warning>;

export const Warnings = z
  .array(Warning)
  .describe(
    'where the answer extrapolates beyond what the profile was measured on: one entry per condition and kind ' +
      'of field (the first offending field named, the others counted); empty: inside the envelope',
  );

/**
 * Collects warnings, one per code and kind of field (`group`, e.g. `adapters.*.rank`): a workload of 1,000
 * rank-64 adapters answers with one warning naming the first and counting the rest, not 1,000.
 */
export class WarningList {
  private readonly found = new Map<string, { warning: Warning; count: number; noun: string }>();

  /** Records a finding; `noun` names what the others of its group are (e.g. "adapters", "servers"). */
  add(code: WarningCode, group: string, field: string, message: string, noun = 'inputs'): void {
    const key = `${code} ${group}`;
    const seen = this.found.get(key);
    if (seen) seen.count++;
    else this.found.set(key, { warning: { code, message, field }, count: 1, noun });
  }

  list(): Warning[] {
    return [...this.found.values()].map(({ warning, count, noun }) =>
      count === 1 ? warning : { ...warning, message: `${warning.message} (${others(count - 1, noun)} alike)` },
    );
  }
}

/** "1 more adapter", "41 more adapters". */
function others(n: number, noun: string): string {
  return `${n} more ${n === 1 ? noun.replace(/s$/, '') : noun}`;
}

import { keyOf, measuredEnvelopeOf, type MeasuredEnvelope, type Profile } from '../profiles/index.js';
import { versionParts } from '../profiles/build/vllm-version.js';
import { resolveLength } from './lengths.js';
import type { SimulationResult } from './result.js';
import type { LengthSpec, ParsedScenario } from './scenario.js';
import { WarningList, type Warning } from './warning.js';

/** The envelope an input is checked against, and the profile's name for the messages. */
export interface EnvelopeCheck {
  list: WarningList;
  envelope: MeasuredEnvelope;
  profile: string;
}

/** Engine settings of one server, defaults applied (as in a SimulationResult, Prediction or Placement). */
export interface ServerSettings {
  maxLoras: number;
  maxCpuLoras: number;
  maxLoraRank: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
}

/** Where lengths are given: the document's defaults and each adapter's (and the base model's) own. */
export interface LengthSources {
  inputTokens?: LengthSpec | undefined;
  outputTokens?: LengthSpec | undefined;
  adapters: readonly { inputTokens?: LengthSpec | undefined; outputTokens?: LengthSpec | undefined }[];
  baseModel?: { inputTokens?: LengthSpec | undefined; outputTokens?: LengthSpec | undefined } | undefined;
}

const fmt = (v: number): string => v.toLocaleString('en-US', { maximumFractionDigits: 3 });

/**
 * What holds for any input of this profile: built rather than calibrated, an envelope nobody wrote down, another
 * vLLM release. Answers the envelope to check the input against (null: none is known).
 */
export function checkProfile(list: WarningList, profile: Profile, vllmVersion?: string): EnvelopeCheck | null {
  const key = keyOf(profile);
  const kind = profile.source?.kind ?? 'calibrated';
  if (kind === 'kernels' || kind === 'roofline') {
    const how = kind === 'kernels' ? 'kernel tables' : 'a roofline of peak numbers';
    list.add(
      'LP_WARN_PROFILE_NOT_CALIBRATED',
      'gpu',
      'gpu',
      `${key} was built from ${how} (${profile.source?.measuredOn}), not calibrated on real runs of this model ` +
        'and GPU: every figure is extrapolated (GET /v1/profiles lists the calibrated profiles, source.kind ' +
        'calibrated)',
    );
  }
  if (vllmVersion !== undefined) {
    const [major, minor] = versionParts(vllmVersion);
    const [pMajor, pMinor, pPatch] = versionParts(profile.vllmVersion);
    if (major !== pMajor || minor !== pMinor)
      list.add(
        'LP_WARN_VLLM_VERSION_NOT_MEASURED',
        'vllmVersion',
        'vllmVersion',
        `vLLM ${vllmVersion}: ${key} describes vLLM ${profile.vllmVersion} (release ${pMajor}.${pMinor}.${pPatch}); ` +
          "another release's scheduler, memory budget and defaults may differ",
      );
  }
  const envelope = measuredEnvelopeOf(profile);
  if (!envelope && kind === 'refitted')
    list.add(
      'LP_WARN_ENVELOPE_UNKNOWN',
      'gpu',
      'gpu',
      `${key} was refitted and does not say what it was measured on (no measuredEnvelope): ranks, lengths, ` +
        'slots and rates are not checked',
    );
  return envelope ? { list, envelope, profile: key } : null;
}

/** Adapter ranks outside the measured ones, and rates whose median is above any measured adapter's. */
export function checkAdapters(c: EnvelopeCheck, adapters: readonly { rank: number; rate: number }[]): void {
  const ranks = c.envelope.ranks;
  adapters.forEach((a, i) => {
    if (!ranks.includes(a.rank))
      c.list.add(
        'LP_WARN_RANK_NOT_MEASURED',
        'adapters.*.rank',
        `adapters.${i}.rank`,
        `rank ${a.rank}: ${c.profile} was measured with adapters of rank ${ranks.join(', ')} only`,
        'adapters',
      );
  });
  checkRates(c, adapters);
}

/**
 * The rate sanity rule: most adapters of a multi-LoRA workload are cold, and the busiest adapter of any measured
 * run asked envelope.adapterRate req/s (3.2 for the calibration tables). A workload whose median adapter asks more
 * is far outside what was measured, and is what rates typed per minute instead of per second look like.
 */
function checkRates(c: EnvelopeCheck, adapters: readonly { rate: number }[]): void {
  if (adapters.length === 0) return;
  const rates = adapters.map((a) => a.rate).sort((a, b) => a - b);
  const mid = rates.length >> 1;
  const median = rates.length % 2 === 1 ? rates[mid]! : (rates[mid - 1]! + rates[mid]!) / 2;
  const max = c.envelope.adapterRate;
  if (!(median > max)) return;
  const first = adapters.findIndex((a) => a.rate > max);
  const total = rates.reduce((s, r) => s + r, 0);
  c.list.add(
    'LP_WARN_ADAPTER_RATES_NOT_MEASURED',
    'adapters.*.rate',
    `adapters.${first}.rate`,
    `the median adapter asks ${fmt(median)} req/s (${fmt(total)} req/s in all); the busiest adapter of the runs ` +
      `${c.profile} was measured on asked ${fmt(max)} req/s. Rates are requests per second: if these are per ` +
      `minute, divide them by 60 (${fmt(total / 60)} req/s in all)`,
  );
}

/** Mean prompt and output lengths outside the measured means, wherever they are given. */
export function checkLengths(c: EnvelopeCheck, doc: LengthSources): void {
  checkLength(c, doc.inputTokens, 'inputTokens', 'input');
  checkLength(c, doc.outputTokens, 'outputTokens', 'output');
  doc.adapters.forEach((a, i) => {
    checkLength(c, a.inputTokens, `adapters.${i}.inputTokens`, 'input', 'adapters.*.inputTokens');
    checkLength(c, a.outputTokens, `adapters.${i}.outputTokens`, 'output', 'adapters.*.outputTokens');
  });
  checkLength(c, doc.baseModel?.inputTokens, 'baseModel.inputTokens', 'input');
  checkLength(c, doc.baseModel?.outputTokens, 'baseModel.outputTokens', 'output');
}

function checkLength(
  c: EnvelopeCheck,
  spec: LengthSpec | undefined,
  at: string,
  kind: 'input' | 'output',
  group = at,
): void {
  // absent: the ShareGPT shape at its own means, which is what the calibration runs served
  if (!spec) return;
  const mean = resolveLength(spec, kind).mean;
  const range = kind === 'input' ? c.envelope.inputTokensMean : c.envelope.outputTokensMean;
  if (mean >= range.min && mean <= range.max) return;
  const field = spec.mean !== undefined ? 'mean' : spec.values ? 'values' : 'distribution';
  const what = kind === 'input' ? 'prompt' : 'output';
  c.list.add(
    kind === 'input' ? 'LP_WARN_PROMPT_LENGTH_NOT_MEASURED' : 'LP_WARN_OUTPUT_LENGTH_NOT_MEASURED',
    group,
    `${at}.${field}`,
    `a mean ${what} of ${fmt(mean)} tokens: ${c.profile} was measured on mean ${what}s of ` +
      `${fmt(range.min)}-${fmt(range.max)} tokens (prefill, KV use per request and preemptions scale with it)`,
    'adapters',
  );
}

/**
 * One server's slots and adapters against the measured servers. `at` prefixes the fields (`gpus.3.` in a
 * Placement); `explicitRank`: the document set --max-lora-rank itself (otherwise the adapters' ranks, already
 * checked, decided it).
 */
export function checkServer(
  c: EnvelopeCheck,
  engine: Pick<ServerSettings, 'maxLoras' | 'maxCpuLoras' | 'maxLoraRank'>,
  adapters: number,
  at: { prefix: string; group: string; explicitRank?: boolean },
): void {
  const e = c.envelope;
  const noun = 'servers';
  if (adapters > e.adaptersPerServer)
    c.list.add(
      'LP_WARN_ADAPTERS_PER_SERVER_NOT_MEASURED',
      `${at.group}adapters`,
      `${at.prefix}adapters`,
      `${adapters} adapters on one server: ${c.profile} was measured with at most ${e.adaptersPerServer}`,
      noun,
    );
  if (engine.maxLoras > e.maxLoras)
    c.list.add(
      'LP_WARN_MAX_LORAS_NOT_MEASURED',
      `${at.group}engine.maxLoras`,
      `${at.prefix}engine.maxLoras`,
      `--max-loras ${engine.maxLoras}: ${c.profile} was measured with at most ${e.maxLoras} adapter slots`,
      noun,
    );
  if (engine.maxCpuLoras > e.maxCpuLoras && engine.maxCpuLoras > adapters)
    c.list.add(
      'LP_WARN_MAX_CPU_LORAS_NOT_MEASURED',
      `${at.group}engine.maxCpuLoras`,
      `${at.prefix}engine.maxCpuLoras`,
      `--max-cpu-loras ${engine.maxCpuLoras}: ${c.profile} was measured with at most ${e.maxCpuLoras}`,
      noun,
    );
  if (at.explicitRank && !e.ranks.includes(engine.maxLoraRank))
    c.list.add(
      'LP_WARN_RANK_NOT_MEASURED',
      `${at.group}engine.maxLoraRank`,
      `${at.prefix}engine.maxLoraRank`,
      `--max-lora-rank ${engine.maxLoraRank}: ${c.profile} was measured at ${e.ranks.join(', ')} only`,
      noun,
    );
}

/** The token budget and the sequence cap against the measured ones (`at`: where the document sets them). */
export function checkBudget(
  c: EnvelopeCheck,
  engine: Pick<ServerSettings, 'maxNumBatchedTokens' | 'maxNumSeqs'>,
  at = 'engine.',
): void {
  const e = c.envelope;
  if (!e.maxNumBatchedTokens.includes(engine.maxNumBatchedTokens))
    c.list.add(
      'LP_WARN_MAX_NUM_BATCHED_TOKENS_NOT_MEASURED',
      `${at}maxNumBatchedTokens`,
      `${at}maxNumBatchedTokens`,
      `max-num-batched-tokens ${engine.maxNumBatchedTokens}: ${c.profile} was measured at ` +
        `${e.maxNumBatchedTokens.join(', ')} only (chunked prefill and step times scale with the budget)`,
    );
  if (engine.maxNumSeqs < e.maxNumSeqs.min || engine.maxNumSeqs > e.maxNumSeqs.max)
    c.list.add(
      'LP_WARN_MAX_NUM_SEQS_NOT_MEASURED',
      `${at}maxNumSeqs`,
      `${at}maxNumSeqs`,
      `max-num-seqs ${engine.maxNumSeqs}: ${c.profile} was measured at ${e.maxNumSeqs.min}-${e.maxNumSeqs.max}`,
    );
}

/** The Scenario's vLLM release, when it names one (an additive field of Scenario and Workload). */
type Versioned = { vllmVersion?: string | undefined };

/**
 * The warnings of a SimulationResult or Prediction: where `scenario`, run on `engine` (its settings with every
 * default applied, as the answer reports them), leaves what `profile` was measured on.
 */
export function scenarioWarnings(
  scenario: ParsedScenario & Versioned,
  profile: Profile,
  engine: ServerSettings & { enableLora?: boolean },
): Warning[] {
  const list = new WarningList();
  const c = checkProfile(list, profile, scenario.vllmVersion);
  if (!c) return list.list();
  checkAdapters(c, scenario.adapters);
  // a trace carries its own lengths, request by request
  if (scenario.arrivals?.process !== 'trace') checkLengths(c, scenario);
  if (engine.enableLora !== false) {
    const explicitRank = scenario.engine.maxLoraRank !== undefined;
    checkServer(c, engine, scenario.adapters.length, { prefix: '', group: '', explicitRank });
  }
  checkBudget(c, engine);
  const process = scenario.arrivals?.process ?? 'poisson';
  if (!c.envelope.arrivalProcesses.includes(process))
    list.add(
      'LP_WARN_ARRIVALS_NOT_MEASURED',
      'arrivals.process',
      'arrivals.process',
      `${process} arrivals: ${c.profile} was measured under ${c.envelope.arrivalProcesses.join(', ')} arrivals ` +
        'only (queues and tails under burstier traffic are extrapolated)',
    );
  return list.list();
}

/** `result` of `scenario` with its warnings (the answer of POST /v1/simulate and `simulate`). */
export function withScenarioWarnings(
  result: SimulationResult,
  scenario: ParsedScenario & Versioned,
  profile: Profile,
): SimulationResult {
  return { ...result, warnings: scenarioWarnings(scenario, profile, result.engine) };
}

import { z } from 'zod';
import { invalidInput, quoted, type ErrorIssue } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import {
  keyOf,
  kvCapacityTokens,
  kvCapacityWithoutLora,
  tensorParallelSizeOf,
  type Profile,
} from '../profiles/index.js';
import { resolveLength } from './lengths.js';

/** --max-lora-rank values vLLM accepts. */
export const allowedMaxLoraRanks = [8, 16, 32, 64, 128, 256, 320, 512] as const;

const positiveFinite = z.number().finite().positive();

/** Shortest /metrics scrape interval a scenario may ask for (the Inference Extension's picker: 50 ms). */
const minScrapeIntervalS = 0.05;

export const LengthSpec = z
  .object({
    distribution: z
      .enum(['sharegpt', 'sharegpt-unfiltered', 'normal', 'lognormal', 'fixed', 'empirical'])
      .optional()
      .describe(
        'default: empirical when `values` is given, normal when ' +
          '`std` is given, otherwise the ShareGPT shape scaled to `mean`',
      ),
    mean: positiveFinite.max(1_000_000).optional().describe('tokens'),
    std: z.number().finite().nonnegative().max(1_000_000).optional().describe('tokens'),
    values: z
      .array(z.number().int().positive().max(1_000_000))
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('empirical token counts, drawn uniformly'),
  })
  .strict()
  .superRefine((v, ctx) => {
    const dist = v.distribution ?? (v.values ? 'empirical' : v.std !== undefined ? 'normal' : 'sharegpt');
    if (dist === 'empirical' && !v.values)
      ctx.addIssue({ code: 'custom', path: ['values'], message: 'required for the empirical distribution' });
    if (dist !== 'empirical' && v.mean === undefined && !dist.startsWith('sharegpt'))
      ctx.addIssue({ code: 'custom', path: ['mean'], message: `required for the ${dist} distribution` });
    if ((dist === 'normal' || dist === 'lognormal') && v.std === undefined)
      ctx.addIssue({ code: 'custom', path: ['std'], message: `required for the ${dist} distribution` });
  });
export type LengthSpec = z.infer<typeof LengthSpec>;

/**
 * Lengths as a client may write them: a LengthSpec, or a bare number read as its mean (`512` is
 * `{"mean": 512}`: the ShareGPT shape scaled to that mean), which is how most people first write a length.
 */
export const LengthInput = z
  .union(
    [positiveFinite.max(1_000_000).describe('the mean (tokens), with the default shape: {"mean": N}'), LengthSpec],
    {
      error:
        'a number (the mean, tokens) or a length object, e.g. 512, {"mean": 512} or ' +
        '{"distribution": "normal", "mean": 512, "std": 128}',
    },
  )
  .transform((v): LengthSpec => (typeof v === 'number' ? { mean: v } : v));

/** Characters of an adapter id besides "/", and those a path segment may start with after a "/" (not "."). */
const idChars = 'A-Za-z0-9._:@+-';
const notDot = 'A-Za-z0-9_:@+-';
/** A path segment after a "/": never empty, "." or ".." (so "...", ".x" and "a..b" are fine). */
const laterSegment = `(?:[${notDot}][${idChars}]*|\\.[${notDot}][${idChars}]*|\\.\\.[${idChars}]+)`;

/**
 * Adapter names as vLLM serves them and as they go, unquoted, into `--lora-modules name=path` argv
 * tokens: no "=", blanks, quotes or shell characters, and no leading "-" (it would read as a flag). An
 * adapter without a `path` is loaded from `<loraModulesRoot>/<id>`: its "/"-separated segments are never
 * "." or ".." (`x/../../etc/passwd` would leave the root) nor empty (`a//b` and `a/` name another's path).
 * The pattern says all of it, so the OpenAPI document (and whatever validates against it) does too.
 */
export const AdapterId = z
  .string()
  .max(256)
  .regex(
    new RegExp(`^[A-Za-z0-9][${idChars}]*(?:/${laterSegment})*$`),
    'letters, digits and . _ : / @ + -, starting with a letter or digit; no "." or ".." path segment and no empty ' +
      'one (between "/")',
  )
  .describe('adapter name (vLLM LoRA name)');

/**
 * GPUs one vLLM server spans (vLLM --tensor-parallel-size): selects among the profiles of a model on a GPU.
 * Absent: the smallest size with a profile (1 where a one-GPU profile exists).
 */
export const TensorParallelSize = z
  .number()
  .int()
  .min(1)
  .max(64)
  .describe(
    'GPUs one vLLM server spans (--tensor-parallel-size), choosing among the profiles of this model and GPU; ' +
      'default: the smallest with a profile (1 where there is one); a size without a profile is 404',
  );

/** Base model and GPU names (profile keys): short identifiers, never free text. */
export const ProfileName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/, 'letters, digits and . _ : / @ + -, at most 128 characters');

/** The vLLM release the servers run: answers warn when it is not the profile's (docs/design.md, Warnings). */
export const VllmVersion = z
  .string()
  .max(64)
  .regex(/^\d+\.\d+(?:\.\d+)?(?:[.+-][0-9A-Za-z.+-]*)?$/, 'a vLLM version such as 0.8.5 or 0.11.0')
  .describe("the vLLM release the servers run; an answer warns when its major.minor is not the profile's");

export const AdapterSpec = z
  .object({
    id: AdapterId,
    rank: z.number().int().min(1).max(512).describe('LoRA rank'),
    rate: z.number().finite().nonnegative().max(1e6).describe('requests per second'),
    inputTokens: LengthInput.optional(),
    outputTokens: LengthInput.optional(),
  })
  .strict();
export type AdapterSpec = z.infer<typeof AdapterSpec>;

/** Engine fields that only mean something with --enable-lora. */
const loraFlags = ['maxLoras', 'maxCpuLoras', 'maxLoraRank'] as const;

export const EngineSpec = z
  .object({
    enableLora: z
      .boolean()
      .optional()
      .describe(
        '--enable-lora (default true); false: a server started without it, which serves the base model only ' +
          '(no adapters, no LoRA flags, no LoRA cost in a step)',
      ),
    maxLoras: z
      .number()
      .int()
      .min(1)
      .max(4096)
      .optional()
      .describe('--max-loras: adapter slots; required unless enableLora is false'),
    maxCpuLoras: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .describe('--max-cpu-loras; default: number of adapters'),
    maxLoraRank: z
      .number()
      .int()
      .min(1)
      .max(512)
      .optional()
      .describe('--max-lora-rank; default: smallest allowed value >= the largest adapter rank'),
    maxNumBatchedTokens: z.number().int().min(1).max(1_000_000).optional(),
    maxNumSeqs: z.number().int().min(1).max(100_000).optional(),
    kvCacheTokens: z
      .number()
      .int()
      .min(0)
      .max(1e9)
      .optional()
      .describe(
        'KV capacity; default: the profile value for (maxLoras, maxLoraRank), or without LoRA its value for ' +
          'a server started without --enable-lora',
      ),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.enableLora === false) {
      // vLLM ignores the LoRA flags without --enable-lora: a scenario giving them means something else
      for (const flag of loraFlags)
        if (e[flag] !== undefined)
          ctx.addIssue({ code: 'custom', path: [flag], message: 'a LoRA flag: only allowed when enableLora is true' });
    } else if (e.maxLoras === undefined) {
      ctx.addIssue({ code: 'custom', path: ['maxLoras'], message: 'required unless enableLora is false' });
    }
  });
export type EngineSpec = z.infer<typeof EngineSpec>;

export const TraceEvent = z
  .object({
    t: z.number().finite().nonnegative().describe('seconds from the start'),
    adapter: z
      .string()
      .min(1)
      .max(256)
      .optional()
      .describe('an adapter id of the scenario; absent: a request to the base model (needs `baseModel`)'),
    inputTokens: z.number().int().positive().max(1_000_000),
    outputTokens: z.number().int().positive().max(1_000_000),
  })
  .strict();

/**
 * Requests that name no adapter (they ask for the base model, as `vllm bench serve` does by default): they take
 * no adapter slot and load nothing, and count in the GPU's throughput, latencies and starvation.
 */
export const BaseModelTraffic = z
  .object({
    rate: z.number().finite().nonnegative().max(1e6).describe('requests per second (ignored with a trace)'),
    inputTokens: LengthInput.optional(),
    outputTokens: LengthInput.optional(),
  })
  .strict();
export type BaseModelTraffic = z.infer<typeof BaseModelTraffic>;

export const ArrivalSpec = z
  .object({
    process: z.enum(['poisson', 'gamma', 'regime', 'trace']).default('poisson'),
    cv: positiveFinite.max(100).optional().describe('gamma: coefficient of variation of inter-arrival times'),
    periodS: z
      .number()
      .finite()
      .min(1)
      .max(7 * 24 * 3600)
      .optional()
      .describe(
        'regime: seconds between regime changes (default 300); every adapter ' +
          'switches once per period, which counts towards MAX_SIMULATED_REQUESTS',
      ),
    factor: z.number().finite().gt(1).max(100).optional().describe('regime: rate multiplier step (default 1.5)'),
    maxFactor: z.number().finite().min(1).max(1000).optional().describe('regime: multiplier bound (default 7.5)'),
    events: z.array(TraceEvent).max(10_000_000).optional().describe('trace: requests to replay'),
    maxInFlight: z
      .number()
      .int()
      .positive()
      .max(1e9)
      .optional()
      .describe('client concurrency limit: an arrival finding this many requests in the server is rejected'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.process === 'gamma' && v.cv === undefined)
      ctx.addIssue({ code: 'custom', path: ['cv'], message: 'required for the gamma process' });
    if (v.process === 'trace' && !v.events)
      ctx.addIssue({ code: 'custom', path: ['events'], message: 'required for the trace process' });
    if (v.process !== 'trace' && v.events)
      ctx.addIssue({ code: 'custom', path: ['events'], message: 'only allowed with process "trace"' });
  });
export type ArrivalSpec = z.infer<typeof ArrivalSpec>;

/** Why a request naming an adapter is refused by a server without LoRA (vLLM answers 404: no such model). */
const withoutLora =
  'engine.enableLora is false: a server without --enable-lora answers 404 to a request naming an adapter';

export const Scenario = z
  .object({
    model: ProfileName,
    gpu: ProfileName,
    tensorParallelSize: TensorParallelSize.optional(),
    vllmVersion: VllmVersion.optional(),
    engine: EngineSpec,
    adapters: z
      .array(AdapterSpec)
      .min(1)
      .max(10_000)
      .default([])
      .describe('the adapters one GPU serves; required unless baseModel is given, refused when enableLora is false'),
    baseModel: BaseModelTraffic.optional().describe(
      'requests to the base model (naming no adapter), beside or instead of the adapters',
    ),
    inputTokens: LengthInput.optional().describe('default prompt lengths for adapters without their own'),
    outputTokens: LengthInput.optional(),
    arrivals: ArrivalSpec.optional(),
    metricsScrapeIntervalS: z
      .union([z.literal(0), z.number().finite().min(minScrapeIntervalS).max(3600)])
      .optional()
      .describe(
        "seconds between the end of one scrape of the server's /metrics and the next (0 or absent: none). " +
          'Rendering /metrics holds the API server, longer the more adapter mixes it has run ' +
          '(docs/twin-tails.md): the research benchmark polled every 2 s; Prometheus often every 15-60 s',
      ),
    report: z
      .object({
        perAdapter: z
          .boolean()
          .default(false)
          .describe(
            'add `adapters` to the SimulationResult: arrivals, ' +
              'completions, served fraction, TTFT and ITL of each adapter (and of the base model, in `baseModel`)',
          ),
      })
      .strict()
      .optional()
      .describe('what the SimulationResult carries besides the GPU-wide figures (predictions ignore it)'),
    durationS: positiveFinite
      .max(7 * 24 * 3600)
      .optional()
      .describe(
        'simulated seconds (default 3600); the service accepts at most MAX_SIMULATED_SECONDS ' +
          '(default 86,400), and rates x durationS at most MAX_SIMULATED_REQUESTS (default 2,000,000)',
      ),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const loraOff = s.engine.enableLora === false;
    // absent adapters parse as [] (an explicit [] is refused by the schema, as before base-model traffic)
    if (s.adapters.length === 0 && !s.baseModel)
      ctx.addIssue({ code: 'custom', path: ['adapters'], message: 'required unless baseModel is given' });
    if (s.adapters.length > 0 && loraOff) ctx.addIssue({ code: 'custom', path: ['adapters'], message: withoutLora });
    const seen = checkUniqueAdapterIds(s.adapters, ctx);
    s.arrivals?.events?.forEach((e, i) => {
      const path = ['arrivals', 'events', i, 'adapter'];
      if (e.adapter === undefined) {
        if (!s.baseModel) ctx.addIssue({ code: 'custom', path, message: 'required unless baseModel is given' });
      } else if (loraOff) ctx.addIssue({ code: 'custom', path, message: withoutLora });
      else if (!seen.has(e.adapter))
        ctx.addIssue({ code: 'custom', path, message: `unknown adapter ${quoted(e.adapter)}` });
    });
  });
export type Scenario = z.input<typeof Scenario>;

/** Adds an issue for every adapter id seen before (scenarios and workloads); returns id -> first index. */
export function checkUniqueAdapterIds(adapters: readonly { id: string }[], ctx: z.RefinementCtx): Map<string, number> {
  const seen = new Map<string, number>();
  adapters.forEach((a, i) => {
    const prev = seen.get(a.id);
    if (prev !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['adapters', i, 'id'],
        message: `duplicate adapter id ${quoted(a.id)} (also adapters.${prev}.id)`,
      });
    else seen.set(a.id, i);
  });
  return seen;
}
export type ParsedScenario = z.output<typeof Scenario>;

/** Engine settings with every default applied. */
export interface ResolvedEngine {
  /** only for a server without --enable-lora (absent: LoRA on, so that such answers stay as they were) */
  enableLora?: false;
  /** 0 without LoRA, as maxCpuLoras and maxLoraRank */
  maxLoras: number;
  maxCpuLoras: number;
  maxLoraRank: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  kvCacheTokens: number;
}

export interface ResolvedScenario {
  scenario: ParsedScenario;
  profile: Profile;
  engine: ResolvedEngine;
  durationS: number;
  seed: number;
}

export function parseScenario(input: unknown): ParsedScenario {
  return parseOrThrow(Scenario, input, 'scenario');
}

/**
 * Adapters (and base-model traffic) whose typical request (mean prompt + mean output) does not fit the model's
 * context: vLLM refuses every such request, so the scenario cannot be what was meant.
 */
function lengthsBeyondModel(scenario: ParsedScenario, profile: Profile): ErrorIssue[] {
  const issues: ErrorIssue[] = [];
  // a trace carries each request's own lengths (the Twin refuses those beyond max_model_len one by one)
  if (scenario.arrivals?.process === 'trace') return issues;
  const meanOf = (spec: LengthSpec | undefined, kind: 'input' | 'output'): number =>
    resolveLength(spec ?? {}, kind).mean;
  const globalTokens = meanOf(scenario.inputTokens, 'input') + meanOf(scenario.outputTokens, 'output');
  const sources: [{ inputTokens?: LengthSpec; outputTokens?: LengthSpec }, string][] = scenario.adapters.map((a, i) => [
    a,
    `adapters.${i}`,
  ]);
  if (scenario.baseModel) sources.push([scenario.baseModel, 'baseModel']);
  for (const [a, at] of sources) {
    const tokens =
      a.inputTokens || a.outputTokens
        ? meanOf(a.inputTokens ?? scenario.inputTokens, 'input') +
          meanOf(a.outputTokens ?? scenario.outputTokens, 'output')
        : globalTokens;
    if (tokens <= profile.maxModelLen) continue;
    const path = a.outputTokens ? `${at}.outputTokens` : a.inputTokens ? `${at}.inputTokens` : 'outputTokens';
    issues.push({
      path,
      message:
        `mean prompt + output of ${Math.round(tokens)} tokens exceeds ` +
        `max_model_len ${profile.maxModelLen} of ${profile.model}: vLLM refuses such requests`,
    });
  }
  return issues;
}

/** The LoRA flags of a LoRA-enabled server, defaults applied; what vLLM refuses goes to `issues`. */
function resolveLora(
  scenario: ParsedScenario,
  issues: ErrorIssue[],
): { maxLoras: number; maxCpuLoras: number; maxLoraRank: number } {
  const e = scenario.engine;
  const adapters = scenario.adapters;
  // the schema requires maxLoras when LoRA is on
  const maxLoras = e.maxLoras!;
  const maxAdapterRank = Math.max(0, ...adapters.map((a) => a.rank));
  const maxLoraRank = e.maxLoraRank ?? allowedMaxLoraRanks.find((r) => r >= maxAdapterRank) ?? 512;
  if (e.maxLoraRank !== undefined && !(allowedMaxLoraRanks as readonly number[]).includes(e.maxLoraRank)) {
    issues.push({ path: 'engine.maxLoraRank', message: `vLLM accepts only ${allowedMaxLoraRanks.join(', ')}` });
  }
  adapters.forEach((a, i) => {
    if (a.rank > maxLoraRank)
      issues.push({ path: `adapters.${i}.rank`, message: `rank ${a.rank} exceeds --max-lora-rank ${maxLoraRank}` });
  });
  const maxCpuLoras = e.maxCpuLoras ?? Math.max(adapters.length, maxLoras);
  if (maxCpuLoras < maxLoras)
    issues.push({
      path: 'engine.maxCpuLoras',
      message: `must be >= engine.maxLoras (${maxLoras}), as vLLM requires`,
    });
  return { maxLoras, maxCpuLoras, maxLoraRank };
}

/**
 * Applies defaults from the profile and checks what vLLM itself would reject at start-up
 * (--max-cpu-loras < --max-loras, an adapter rank above --max-lora-rank, max_num_seqs > max_num_batched_tokens).
 */
export function resolveScenario(scenario: ParsedScenario, profile: Profile): ResolvedScenario {
  const issues: ErrorIssue[] = [];
  // the caller looked the profile up by the scenario's names: a mismatch would answer for other hardware
  const tp = tensorParallelSizeOf(profile);
  if (scenario.tensorParallelSize !== undefined && scenario.tensorParallelSize !== tp)
    issues.push({ path: 'tensorParallelSize', message: `the profile ${keyOf(profile)} spans ${tp} GPU(s)` });
  const e = scenario.engine;
  const lora = e.enableLora === false ? null : resolveLora(scenario, issues);
  const maxNumBatchedTokens = e.maxNumBatchedTokens ?? profile.engineDefaults.maxNumBatchedTokens;
  const maxNumSeqs = e.maxNumSeqs ?? profile.engineDefaults.maxNumSeqs;
  if (maxNumSeqs > maxNumBatchedTokens) {
    issues.push({
      path: 'engine.maxNumSeqs',
      message: `must be <= maxNumBatchedTokens (${maxNumBatchedTokens}), as vLLM requires`,
    });
  }
  for (const issue of lengthsBeyondModel(scenario, profile)) issues.push(issue);
  if (issues.length > 0) throw invalidInput('scenario', issues);
  return {
    scenario,
    profile,
    engine: {
      ...(lora ? {} : { enableLora: false as const }),
      maxLoras: lora?.maxLoras ?? 0,
      maxCpuLoras: lora?.maxCpuLoras ?? 0,
      maxLoraRank: lora?.maxLoraRank ?? 0,
      maxNumBatchedTokens,
      maxNumSeqs,
      kvCacheTokens:
        e.kvCacheTokens ??
        (lora ? kvCapacityTokens(profile, lora.maxLoras, lora.maxLoraRank) : kvCapacityWithoutLora(profile)),
    },
    durationS: scenario.durationS ?? 3600,
    seed: scenario.seed ?? 0,
  };
}

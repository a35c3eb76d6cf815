import { num } from '../../shared/csv.js';
import { AppError } from '../../shared/errors.js';
import { rms } from '../../shared/least-squares.js';
import { parseOrThrow } from '../../shared/validate.js';
import { kvCapacityTokens } from '../kv-capacity.js';
import { Profile } from '../schema.js';
import { fitBase, fitLora, type RequestShape } from './fit-forward.js';
import { fitKvCapacity } from './fit-kv.js';
import { fitFirstRequest } from './fit-first-request.js';
import { fitAdapterLoad } from './fit-loading.js';
import { fitScheduler } from './fit-scheduler.js';
import { MeasurementTables } from './tables.js';

/** max_model_len of known base models (from their Hugging Face config.json). */
export const knownMaxModelLen: Record<string, number> = {
  'llama-3.1-8b-instruct': 131072,
  'qwen-2.5-7b-instruct': 32768,
};

export interface CalibrateOptions {
  dataDir: string;
  gpu: string;
  /** models to calibrate; default: every model with KV measurements */
  models?: string[];
  maxModelLen?: Record<string, number>;
  /** base model the mixed-load (scheduler-overhead) runs used; their table does not say */
  mixedRunsModel?: string;
  /** request-length shape of the mixed-load runs (rescaled per run to its measured output length) */
  mixedShape: RequestShape;
}

export interface CalibrationOutcome {
  profiles: Profile[];
  warnings: string[];
}

export function calibrate(opts: CalibrateOptions): CalibrationOutcome {
  const tables = new MeasurementTables(opts.dataDir);
  const available = tables.models();
  const models = opts.models ?? available;
  for (const m of models) {
    if (!available.includes(m))
      throw new AppError(
        'invalidInput',
        `--model: no KV measurements for "${m}" in ${tables.file('kvTable')} (found: ${available.join(', ')})`,
      );
  }
  const mixedRunsModel = opts.mixedRunsModel ?? available[0]!;
  const bases = new Map<string, ReturnType<typeof fitBase>>();
  for (const m of new Set([...models, mixedRunsModel])) bases.set(m, fitBase(tables, m));
  const scheduler = fitScheduler(tables);
  const warnings: string[] = [];
  const profiles = models.map((model) => {
    const maxModelLen = opts.maxModelLen?.[model] ?? knownMaxModelLen[model];
    if (!maxModelLen)
      throw new AppError(
        'invalidInput',
        `--max-model-len: unknown for model "${model}"; pass --max-model-len ${model}=N`,
      );
    const base = bases.get(model)!;
    const lora = fitLora(tables, model, {
      bases: new Map([...bases].map(([k, v]) => [k, v])),
      mixedRunsModel,
      mixedShape: opts.mixedShape,
    });
    const mixedRank = num(tables.rows('mixedLoad')[0] ?? {}, 'rank') ?? 8;
    const draft = {
      schemaVersion: 1 as const,
      model,
      gpu: opts.gpu,
      description: `${model} on ${opts.gpu}, calibrated from ${tables.dir}`,
      vllmVersion:
        mostCommon(
          tables
            .rows('kvTable')
            .filter((r) => r.model === model)
            .map((r) => r.vllm_version ?? ''),
        ) || 'unknown',
      maxModelLen,
      blockSize: 16,
      engineDefaults: engineDefaults(tables, model),
      kvCapacity: fitKvCapacity(tables, model),
      forward: { base, lora },
      adapterLoad: fitAdapterLoad(tables, model, mixedRank),
      scheduler,
      frontend: { ...fitFrontend(tables, model), firstRequestOfAdapter: fitFirstRequest(tables, model) },
      calibration: {
        tool: 'lora-placer calibrate',
        notes: [
          `mixed-load runs taken as ${mixedRunsModel}, requests shaped like benchmark-filtered ShareGPT (prompt ` +
            `${opts.mixedShape.promptMean.toFixed(1)}, output ${opts.mixedShape.outputMean.toFixed(1)} tokens) ` +
            'rescaled per run to its measured output tokens per request',
        ],
      },
    };
    const profile = parseOrThrow(Profile, draft, `calibrated profile ${model}`);
    warnings.push(...checkMemoryRule(profile));
    return profile;
  });
  return { profiles, warnings };
}

/**
 * vLLM defaults seen in the runs: the token budget they all used, and the running cap of runs that left max_num_seqs
 * unset.
 */
function engineDefaults(tables: MeasurementTables, model: string): Profile['engineDefaults'] {
  const budget =
    Number(
      mostCommon(
        tables
          .rows('baseLatency')
          .map((r) => r.max_num_batched_tokens ?? '')
          .filter((v) => v !== ''),
      ),
    ) || 2048;
  const uncapped = tables
    .rows('loraOverhead')
    .filter((r) => r.srv_model === model && (r.srv_max_num_seqs ?? '') === '')
    .map((r) => num(r, 'npy_num_running_max'))
    .filter((v): v is number => v !== null);
  return { maxNumBatchedTokens: budget, maxNumSeqs: uncapped.length > 0 ? Math.max(...uncapped) : 256 };
}

/** TTFT of a lone request on an idle server minus one step: the API server and client path. */
function fitFrontend(tables: MeasurementTables, model: string): Profile['frontend'] {
  const gaps = tables
    .rows('kvRuns')
    .filter((r) => r.srv_model === model)
    .map((r) => [num(r, 'json_mean_ttft_ms'), num(r, 'json_mean_itl_ms')] as const)
    .filter((p): p is readonly [number, number] => p[0] !== null && p[1] !== null)
    .map(([ttft, itl]) => ttft - itl);
  const mean = gaps.reduce((s, v) => s + v, 0) / Math.max(1, gaps.length);
  return {
    ttftOverheadMs: Math.max(0, mean),
    fit: {
      source: [tables.file('kvRuns')],
      rows: gaps.length,
      rmsError: rms(gaps.map((g) => g - mean)),
      unit: 'ms',
      note: 'one request on an idle server: TTFT minus its ITL (a 13-token prefill step costs about one decode step)',
    },
  };
}

/** Every measured start must agree with "memory error iff KV < maxModelLen". */
function checkMemoryRule(profile: Profile): string[] {
  const out: string[] = [];
  for (const curve of profile.kvCapacity.ranks) {
    for (const p of curve.points) {
      if (p.tokens < profile.maxModelLen)
        out.push(
          `${profile.model}: started at slots ${p.slots} rank ${curve.rank} with ${p.tokens} KV tokens < maxModelLen`,
        );
    }
    for (const f of curve.failures) {
      const kv = kvCapacityTokens(profile, f.slots, curve.rank);
      if (kv >= profile.maxModelLen)
        out.push(
          `${profile.model}: failed (${f.status}) at slots ${f.slots} rank ${curve.rank} but the rule predicts ` +
            `${kv} KV tokens >= maxModelLen`,
        );
    }
  }
  return out;
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) if (v !== '') counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? '';
}

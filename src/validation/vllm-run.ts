import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Profile } from '../profiles/index.js';
import { num, parseCsv, type CsvRow } from '../shared/csv.js';
import { AppError } from '../shared/errors.js';
import { readRegularFile } from '../shared/files.js';
import { quantileSorted } from '../shared/stats.js';
import { parseScenario, simulateParsed, type RequestRecord, type Scenario } from '../twin/index.js';

/** Largest requests / meta file read (a run of a million requests is about 150 MB of CSV). */
const maxRunFileBytes = 256 * 1024 * 1024;

/** One request of a plain vLLM run: when it arrived, its lengths, and the engine's timestamps (s). */
export interface VllmRequest {
  /** seconds since the run's first arrival */
  arrivalS: number;
  inputTokens: number;
  outputTokens: number;
  queuedS: number;
  firstTokenS: number;
  lastTokenS: number;
}

/** A plain vLLM serving run (no adapters) in the files LLMServingSim's `bench` writes: requests and meta.json. */
export interface VllmRun {
  dir: string;
  model: string;
  device: string;
  vllmVersion: string;
  /** scheduler settings the run states; absent ones come from the profile */
  engine: { maxNumSeqs?: number; maxNumBatchedTokens?: number };
  /** the KV capacity vLLM logged at start-up (what a profile's capacity is scored against, not an input) */
  kvCacheTokens: number | undefined;
  prefixCaching: boolean;
  /** the run's max_model_len and gpu_memory_utilization: they decide the KV capacity a profile is built with */
  maxModelLen: number | undefined;
  gpuMemoryUtilization: number | undefined;
  requests: VllmRequest[];
}

/**
 * Reads DIR/meta.json and DIR/requests.csv (or requests.jsonl): per request `input_toks`, `output_toks`,
 * `arrival_time` (any clock), `queued_ts`, `first_token_ts`, `last_token_ts` (the engine's clock, vLLM's
 * RequestStateStats). A run whose meta.json shows a LoRA config is refused: its requests name no adapter.
 */
export function readVllmRun(dir: string): VllmRun {
  const metaFile = join(dir, 'meta.json');
  const meta = parseJson(readRegularFile(metaFile, maxRunFileBytes, 'vLLM run meta.json'), metaFile);
  const lora = pick(meta, ['resolved_config', 'lora_config']) ?? pick(meta, ['engine_kwargs', 'enable_lora']);
  if (lora !== undefined && lora !== null && lora !== false)
    throw new AppError('dataFile', `${metaFile}: the run has a LoRA config; only runs without LoRA can be replayed`);
  const requests = readRequests(dir);
  const first = requests.reduce((m, r) => Math.min(m, r.arrival), Infinity);
  return {
    dir,
    model: String(pick(meta, ['model']) ?? 'unknown model'),
    device: String(pick(meta, ['hardware', 'device_name']) ?? 'unknown GPU'),
    vllmVersion: String(pick(meta, ['vllm_version']) ?? 'unknown'),
    engine: {
      ...positiveInt(meta, ['engine_kwargs', 'max_num_seqs'], 'maxNumSeqs'),
      ...positiveInt(meta, ['engine_kwargs', 'max_num_batched_tokens'], 'maxNumBatchedTokens'),
    },
    kvCacheTokens: positiveInt(meta, ['kv_cache', 'num_kv_tokens'], 'v').v,
    prefixCaching: pick(meta, ['kv_cache', 'enable_prefix_caching']) === true,
    maxModelLen:
      positiveInt(meta, ['engine_kwargs', 'max_model_len'], 'v').v ??
      positiveInt(meta, ['resolved_config', 'model_config', 'max_model_len'], 'v').v,
    gpuMemoryUtilization: fraction(
      pick(meta, ['engine_kwargs', 'gpu_memory_utilization']) ??
        pick(meta, ['kv_cache', 'gpu_memory_utilization']) ??
        pick(meta, ['resolved_config', 'cache_config', 'gpu_memory_utilization']),
    ),
    requests: requests
      .map(({ arrival, ...r }) => ({ ...r, arrivalS: arrival - first }))
      .sort((a, b) => a.arrivalS - b.arrivalS),
  };
}

/** Where the replay's KV capacity comes from: the profile's (what scores a profile), or the one the run logged. */
export type KvSource = 'profile' | 'run';

/**
 * The Scenario of a run: a server without LoRA, the run's scheduler settings, and its requests replayed as a
 * trace of base-model requests at their arrival offsets with their exact lengths (the client set
 * min_tokens = max_tokens). The KV capacity is the profile's without LoRA unless `kv` is 'run' (then the
 * logged one). The window is long enough for every request to finish.
 */
export function scenarioOfVllmRun(
  run: VllmRun,
  model: string,
  gpu: string,
  seed: number,
  kv: KvSource = 'profile',
): Scenario {
  const last = run.requests[run.requests.length - 1]!.arrivalS;
  const logged = kv === 'run' && run.kvCacheTokens !== undefined ? { kvCacheTokens: run.kvCacheTokens } : {};
  return {
    model,
    gpu,
    engine: { enableLora: false, ...run.engine, ...logged },
    baseModel: { rate: run.requests.length / Math.max(1, last) },
    arrivals: {
      process: 'trace',
      events: run.requests.map((r) => ({ t: r.arrivalS, inputTokens: r.inputTokens, outputTokens: r.outputTokens })),
    },
    durationS: Math.min(7 * 24 * 3600, last + 24 * 3600),
    seed,
  };
}

/** What a run is scored on, real or simulated: the same definitions on both sides. */
export interface RunFigures {
  requests: number;
  completed: number;
  /** first arrival to last token (s): the time to finish every request */
  makespanS: number;
  ttftP50Ms: number;
  ttftMeanMs: number;
  tpotP50Ms: number;
  tpotMeanMs: number;
  /** prompt + output tokens of the completed requests per second of the makespan */
  throughput: number;
}

/** The real run's figures: TTFT from the engine's queueing of a request, as LLMServingSim's `bench validate`. */
export function realFigures(run: VllmRun): RunFigures {
  const start = run.requests.reduce((m, r) => Math.min(m, r.queuedS), Infinity);
  return figures(
    run.requests.map((r) => ({
      ttftMs: (r.firstTokenS - r.queuedS) * 1000,
      decodeMs: (r.lastTokenS - r.firstTokenS) * 1000,
      endS: r.lastTokenS - start,
      tokens: r.inputTokens + r.outputTokens,
      output: r.outputTokens,
    })),
    run.requests.length,
  );
}

/** The Twin's replay of the run and its figures. */
export function replayVllmRun(
  run: VllmRun,
  profile: Profile,
  seed = 0,
  kv: KvSource = 'profile',
): { twin: RunFigures; rejected: number; memoryError: string | null; kvCacheTokens: number } {
  const records: RequestRecord[] = [];
  const scenario = parseScenario(scenarioOfVllmRun(run, profile.model, profile.gpu, seed, kv));
  const result = simulateParsed(scenario, profile, { observer: { onComplete: (r) => records.push(r) } });
  const twin = figures(
    records.map((r) => ({
      ttftMs: (r.firstTokenS - r.arrivalS) * 1000,
      decodeMs: (r.endS - r.firstTokenS) * 1000,
      endS: r.endS,
      tokens: r.prompt + r.output,
      output: r.output,
    })),
    run.requests.length,
  );
  return {
    twin,
    rejected: result.rejectedRequests,
    memoryError: result.memoryError,
    kvCacheTokens: result.engine.kvCacheTokens,
  };
}

interface Finished {
  ttftMs: number;
  decodeMs: number;
  /** seconds since the first arrival */
  endS: number;
  tokens: number;
  output: number;
}

function figures(done: Finished[], requests: number): RunFigures {
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const mean = (xs: number[]) => (xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : NaN);
  const ttft = sorted(done.map((d) => d.ttftMs));
  // TPOT per request with more than one output token, as vLLM's benchmark defines it
  const tpot = sorted(done.filter((d) => d.output > 1).map((d) => d.decodeMs / (d.output - 1)));
  const makespanS = done.length ? done.reduce((m, d) => Math.max(m, d.endS), -Infinity) : NaN;
  return {
    requests,
    completed: done.length,
    makespanS,
    ttftP50Ms: quantileSorted(ttft, 0.5),
    ttftMeanMs: mean(ttft),
    tpotP50Ms: quantileSorted(tpot, 0.5),
    tpotMeanMs: mean(tpot),
    throughput: done.reduce((s, d) => s + d.tokens, 0) / makespanS,
  };
}

interface RawRequest extends Omit<VllmRequest, 'arrivalS'> {
  arrival: number;
}

function readRequests(dir: string): RawRequest[] {
  const csv = join(dir, 'requests.csv');
  const jsonl = join(dir, 'requests.jsonl');
  let rows: CsvRow[];
  let file: string;
  if (existsSync(csv)) {
    file = csv;
    rows = parseCsv(readRegularFile(csv, maxRunFileBytes, 'vLLM run requests'));
  } else if (existsSync(jsonl)) {
    file = jsonl;
    rows = readRegularFile(jsonl, maxRunFileBytes, 'vLLM run requests')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, i) => stringRecord(parseJson(line, `${jsonl} line ${i + 1}`)));
  } else {
    throw new AppError('dataFile', `${dir}: neither requests.csv nor requests.jsonl`);
  }
  if (rows.length === 0) throw new AppError('dataFile', `${file}: no requests`);
  return rows.map((row, i) => requestOf(row, `${file} row ${i + 1}`));
}

function requestOf(row: CsvRow, where: string): RawRequest {
  const need = (column: string, min: number): number => {
    const v = num(row, column);
    if (v === null || v < min) throw new AppError('dataFile', `${where}: ${column} is missing or below ${min}`);
    return v;
  };
  const r = {
    arrival: need('arrival_time', -Infinity),
    inputTokens: need('input_toks', 1),
    outputTokens: need('output_toks', 1),
    queuedS: need('queued_ts', -Infinity),
    firstTokenS: need('first_token_ts', -Infinity),
    lastTokenS: need('last_token_ts', -Infinity),
  };
  if (!(r.queuedS <= r.firstTokenS && r.firstTokenS <= r.lastTokenS))
    throw new AppError('dataFile', `${where}: queued_ts <= first_token_ts <= last_token_ts does not hold`);
  if (!Number.isInteger(r.inputTokens) || !Number.isInteger(r.outputTokens))
    throw new AppError('dataFile', `${where}: input_toks and output_toks must be whole numbers`);
  return r;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new AppError('dataFile', `${where}: not JSON (${(err as Error).message})`);
  }
}

function stringRecord(value: unknown): CsvRow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

function pick(value: unknown, path: string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function fraction(v: unknown): number | undefined {
  return typeof v === 'number' && v > 0 && v <= 1 ? v : undefined;
}

function positiveInt(meta: unknown, path: string[], field: string): Record<string, number> {
  const v = pick(meta, path);
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? { [field]: v } : {};
}

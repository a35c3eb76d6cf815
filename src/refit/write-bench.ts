import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kvCapacityTokens, memoryErrorReason, type Profile } from '../profiles/index.js';
import { AppError } from '../shared/errors.js';
import { quantileSorted } from '../shared/stats.js';
import { ArrivalSource } from '../twin/arrivals.js';
import {
  parseScenario,
  resolveLength,
  resolveScenario,
  simulateParsed,
  TokenTimeline,
  type ParsedScenario,
  type TimedRequest,
} from '../twin/index.js';
import { baseKvRank, baseModelProfile } from './base-server.js';
import { requestCsvColumns } from './request-csv.js';

/** The files `vllm serve` and `vllm bench serve --save-result --save-detailed` would leave for one run. */
export interface BenchFiles {
  /** bench.json: vllm bench serve's result, with the per-request lists of --save-detailed */
  result: Record<string, unknown>;
  /** requests.csv: one row per completed request */
  requestsCsv: string;
  /** serve.log: the KV capacity line */
  serveLog: string;
  /** server.json: the server's flags, its log and the run (what calibrate --bench reads) */
  serverFile: Record<string, unknown>;
}

export const benchFileNames = {
  result: 'bench.json',
  requestsCsv: 'requests.csv',
  serveLog: 'serve.log',
  serverFile: 'server.json',
} as const;

/** Requests one bench run may hold (each keeps its token times in memory). */
export const maxBenchRequests = 200_000;

/**
 * What stock vLLM would write for a scenario's traffic, as the Twin serves it: the scenario's arrivals over its
 * `durationS` are sent as one `vllm bench serve` run that, like vllm bench serve, waits for every request to
 * finish. `baseModel`: the server runs without --enable-lora (the scenario's one adapter stands for the base
 * model; its LoRA costs are not charged). Deterministic: the same scenario and seed give the same files.
 */
export function twinBenchFiles(asked: ParsedScenario, profile: Profile, baseModel = false): BenchFiles {
  if (baseModel && asked.adapters.length !== 1)
    throw new AppError('invalidInput', 'a base-model bench run needs a scenario with exactly one adapter');
  // without LoRA no slot is reserved: the KV capacity at zero slots (as calibrate reads a base server)
  const scenario: ParsedScenario =
    baseModel && asked.engine.kvCacheTokens === undefined
      ? {
          ...asked,
          engine: { ...asked.engine, kvCacheTokens: kvCapacityTokens(profile, 0, baseKvRank(profile)) },
        }
      : asked;
  const resolved = resolveScenario(scenario, profile);
  const { engine } = resolved;
  const memoryError = memoryErrorReason(profile, engine.kvCacheTokens, engine.maxLoras, engine.maxLoraRank);
  if (memoryError) throw new AppError('invalidInput', `no benchmark of a server that would not start: ${memoryError}`);
  const events = drawArrivals(scenario, resolved.durationS, resolved.seed);
  const timeline = new TokenTimeline();
  const drained = parseScenario({
    ...scenario,
    arrivals: { process: 'trace', events },
    durationS: 7 * 24 * 3600,
  });
  simulateParsed(drained, baseModel ? baseModelProfile(profile) : profile, { observer: timeline });
  const completed = timeline.requests().sort((a, b) => a.id - b.id);
  // the Twin admits every request within max_model_len, in arrival order, and the run ends when all are done
  let next = 0;
  const sent = events.map((e) => ({
    ...e,
    done: e.inputTokens + e.outputTokens <= profile.maxModelLen ? completed[next++] : undefined,
  }));
  if (next !== completed.length) throw new Error('bench files: completed requests do not match the arrivals');
  return {
    result: resultJson(scenario, profile, sent),
    requestsCsv: requestsCsv(sent, baseModel),
    serveLog: serveLog(profile, engine.kvCacheTokens),
    serverFile: serverFile(scenario, profile, engine, baseModel),
  };
}

export function writeBenchFiles(dir: string, files: BenchFiles): string[] {
  mkdirSync(dir, { recursive: true });
  const written: [string, string][] = [
    [benchFileNames.result, `${JSON.stringify(files.result)}\n`],
    [benchFileNames.requestsCsv, files.requestsCsv],
    [benchFileNames.serveLog, files.serveLog],
    [benchFileNames.serverFile, `${JSON.stringify(files.serverFile, null, 2)}\n`],
  ];
  return written.map(([name, text]) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  });
}

interface Sent {
  t: number;
  adapter: string;
  inputTokens: number;
  outputTokens: number;
  done: TimedRequest | undefined;
}

/** The scenario's arrivals within its duration, as the Twin draws them (same seed, same requests). */
function drawArrivals(scenario: ParsedScenario, durationS: number, seed: number) {
  const specs = scenario.adapters.map((a) => ({
    rate: a.rate,
    input: resolveLength(a.inputTokens ?? scenario.inputTokens ?? {}, 'input').sampler,
    output: resolveLength(a.outputTokens ?? scenario.outputTokens ?? {}, 'output').sampler,
  }));
  const index = new Map(scenario.adapters.map((a, i) => [a.id, i]));
  const { maxInFlight: _clientLimit, ...spec } = scenario.arrivals ?? { process: 'poisson' as const };
  const source = new ArrivalSource(specs, spec, seed, index, durationS);
  const events: { t: number; adapter: string; inputTokens: number; outputTokens: number }[] = [];
  while (Number.isFinite(source.peekTime())) {
    if (events.length >= maxBenchRequests)
      throw new AppError(
        'tooMuchWork',
        `a bench run of more than ${maxBenchRequests} requests: shorten durationS or lower the rates`,
      );
    const a = source.pop();
    events.push({
      t: a.time,
      adapter: scenario.adapters[a.adapter]!.id,
      inputTokens: a.inputTokens,
      outputTokens: a.outputTokens,
    });
  }
  if (events.length === 0) throw new AppError('invalidInput', 'no request arrives within durationS: nothing to bench');
  return events;
}

function resultJson(scenario: ParsedScenario, profile: Profile, sent: Sent[]): Record<string, unknown> {
  const ok = sent.filter((s) => s.done);
  const ttfts = sent.map((s) => (s.done ? s.done.tokenTimes[0]! - s.t : 0));
  const itls = sent.map((s) => (s.done ? gapsOf(s.done.tokenTimes) : []));
  const latencies = sent.map((s) => (s.done ? s.done.tokenTimes[s.done.tokenTimes.length - 1]! - s.t : 0));
  let end = -Infinity;
  sent.forEach((s, i) => {
    if (s.done) end = Math.max(end, s.t + latencies[i]!);
  });
  const duration = end - sent[0]!.t;
  const totalInput = ok.reduce((n, s) => n + s.inputTokens, 0);
  const totalOutput = ok.reduce((n, s) => n + s.outputTokens, 0);
  const rate = scenario.adapters.reduce((r, a) => r + a.rate, 0);
  const arrivals = scenario.arrivals;
  const okIndex = sent.flatMap((s, i) => (s.done ? [i] : []));
  const tpots = okIndex
    .filter((i) => sent[i]!.outputTokens > 1)
    .map((i) => (latencies[i]! - ttfts[i]!) / (sent[i]!.outputTokens - 1));
  return {
    date: '19700101-000000',
    endpoint_type: 'openai',
    backend: 'openai',
    label: 'lora-placer simulate --bench-out',
    model_id: profile.hfModelId ?? profile.model,
    tokenizer_id: profile.hfModelId ?? profile.model,
    num_prompts: sent.length,
    request_rate: arrivals?.process === 'trace' || rate === 0 ? 'inf' : rate,
    burstiness: arrivals?.process === 'gamma' && arrivals.cv ? 1 / (arrivals.cv * arrivals.cv) : 1,
    max_concurrency: null,
    duration,
    completed: ok.length,
    failed: sent.length - ok.length,
    total_input_tokens: totalInput,
    total_output_tokens: totalOutput,
    request_throughput: ok.length / duration,
    request_goodput: null,
    output_throughput: totalOutput / duration,
    total_token_throughput: (totalInput + totalOutput) / duration,
    input_lens: sent.map((s) => s.inputTokens),
    output_lens: sent.map((s) => (s.done ? s.outputTokens : 0)),
    ttfts,
    itls,
    latencies,
    start_times: sent.map((s) => s.t),
    queue_times: sent.map(() => 0),
    generated_texts: sent.map(() => ''),
    errors: sent.map((s) =>
      s.done ? '' : `prompt + output of ${s.inputTokens + s.outputTokens} tokens exceeds max_model_len`,
    ),
    ...stats(
      'ttft',
      okIndex.map((i) => ttfts[i]!),
    ),
    ...stats('tpot', tpots),
    ...stats(
      'itl',
      okIndex.flatMap((i) => itls[i]!),
    ),
    ...stats(
      'e2el',
      okIndex.map((i) => latencies[i]!),
    ),
  };
}

/** mean / median / std / p99 in ms, as vllm bench serve names them. */
function stats(name: string, seconds: number[]): Record<string, number> {
  const ms = seconds.map((s) => s * 1000).sort((a, b) => a - b);
  const n = Math.max(1, ms.length);
  const mean = ms.reduce((s, v) => s + v, 0) / n;
  const std = Math.sqrt(ms.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  return {
    [`mean_${name}_ms`]: mean,
    [`median_${name}_ms`]: ms.length > 0 ? quantileSorted(ms, 0.5) : 0,
    [`std_${name}_ms`]: std,
    [`p99_${name}_ms`]: ms.length > 0 ? quantileSorted(ms, 0.99) : 0,
  };
}

function gapsOf(times: Float64Array): number[] {
  const gaps: number[] = [];
  for (let k = 1; k < times.length; k++) gaps.push(times[k]! - times[k - 1]!);
  return gaps;
}

function requestsCsv(sent: Sent[], baseModel: boolean): string {
  const rows = sent.flatMap((s) => {
    if (!s.done) return [];
    const t = s.done.tokenTimes;
    return [[s.t, t[0]!, t[t.length - 1]!, s.inputTokens, s.outputTokens, baseModel ? '' : s.adapter].join(',')];
  });
  return `${[requestCsvColumns.join(','), ...rows].join('\n')}\n`;
}

function serveLog(profile: Profile, kvTokens: number): string {
  const grouped = (n: number): string => n.toLocaleString('en-US');
  const concurrency = (kvTokens / profile.maxModelLen).toFixed(2);
  return [
    `lora-placer simulate --bench-out: the Twin's stand-in for a vllm serve log (${profile.model}@${profile.gpu})`,
    `INFO 01-01 00:00:00 [kv_cache_utils.py] GPU KV cache size: ${grouped(kvTokens)} tokens`,
    `INFO 01-01 00:00:00 [kv_cache_utils.py] Maximum concurrency for ${grouped(profile.maxModelLen)} tokens per ` +
      `request: ${concurrency}x`,
    '',
  ].join('\n');
}

function serverFile(
  scenario: ParsedScenario,
  profile: Profile,
  engine: ReturnType<typeof resolveScenario>['engine'],
  baseModel: boolean,
): Record<string, unknown> {
  const lora = baseModel
    ? {}
    : {
        maxLoras: engine.maxLoras,
        maxLoraRank: engine.maxLoraRank,
        maxCpuLoras: engine.maxCpuLoras,
        loraModules: scenario.adapters.map((a) => ({ name: a.id, rank: a.rank })),
      };
  return {
    vllmServe: {
      model: profile.hfModelId ?? profile.model,
      vllmVersion: profile.vllmVersion,
      ...lora,
      maxNumSeqs: engine.maxNumSeqs,
      maxNumBatchedTokens: engine.maxNumBatchedTokens,
      log: benchFileNames.serveLog,
    },
    runs: [{ result: benchFileNames.result, requests: benchFileNames.requestsCsv }],
  };
}

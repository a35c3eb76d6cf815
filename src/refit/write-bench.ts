import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Profile } from '../profiles/index.js';
import { AppError, invalidInput } from '../shared/errors.js';
import { quantileSorted } from '../shared/stats.js';
import { ArrivalSource, type AdapterStreamSpec } from '../twin/arrivals.js';
import { baseModelStreams } from '../twin/engine.js';
import {
  parseScenario,
  resolveLength,
  resolveScenario,
  simulateParsed,
  TokenTimeline,
  type LengthSpec,
  type ParsedScenario,
  type ResolvedEngine,
  type TimedRequest,
} from '../twin/index.js';
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
 * finish. A scenario with `engine.enableLora: false` and `baseModel` traffic is a server started without
 * --enable-lora serving the base model; requests to the base model of a LoRA-enabled server are refused (calibrate
 * --bench does not read them). Deterministic: the same scenario and seed give the same files.
 */
export function twinBenchFiles(scenario: ParsedScenario, profile: Profile): BenchFiles {
  if (scenario.baseModel && scenario.engine.enableLora !== false)
    throw invalidInput('scenario', [
      {
        path: 'baseModel',
        message:
          'requests to the base model of a server with --enable-lora: calibrate --bench does not read them ' +
          '(bench files are of a server with adapters, or of one with engine.enableLora false and baseModel)',
      },
    ]);
  const resolved = resolveScenario(scenario, profile);
  const events = drawArrivals(scenario, resolved.durationS, resolved.seed);
  const timeline = new TokenTimeline();
  // a parsed scenario without adapters holds []: absent in the input (an explicit [] is refused)
  const { adapters, ...rest } = scenario;
  const drained = parseScenario({
    ...rest,
    ...(adapters.length > 0 ? { adapters } : {}),
    arrivals: { process: 'trace', events },
    durationS: 7 * 24 * 3600,
  });
  const { memoryError, engine } = simulateParsed(drained, profile, { observer: timeline });
  if (memoryError) throw new AppError('invalidInput', `no benchmark of a server that would not start: ${memoryError}`);
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
    requestsCsv: requestsCsv(sent),
    serveLog: serveLog(profile, engine.kvCacheTokens),
    serverFile: serverFile(scenario, profile, resolved.engine),
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
  /** absent: a request to the base model */
  adapter?: string;
  inputTokens: number;
  outputTokens: number;
  done: TimedRequest | undefined;
}

/** The scenario's arrivals within its duration, as the Twin draws them (same seed, same requests). */
function drawArrivals(scenario: ParsedScenario, durationS: number, seed: number) {
  const stream = (source: { rate: number; inputTokens?: LengthSpec; outputTokens?: LengthSpec }) => ({
    rate: source.rate,
    input: resolveLength(source.inputTokens ?? scenario.inputTokens ?? {}, 'input').sampler,
    output: resolveLength(source.outputTokens ?? scenario.outputTokens ?? {}, 'output').sampler,
  });
  // the base model's requests come from streams of their own, after the adapters', as in the Twin's engine
  const specs: AdapterStreamSpec[] = scenario.adapters.map(stream);
  if (scenario.baseModel) specs.push({ ...stream(scenario.baseModel), rngStreams: baseModelStreams });
  const index = new Map(scenario.adapters.map((a, i) => [a.id, i]));
  const { maxInFlight: _clientLimit, ...spec } = scenario.arrivals ?? { process: 'poisson' as const };
  const source = new ArrivalSource(specs, spec, seed, index, durationS);
  const events: { t: number; adapter?: string; inputTokens: number; outputTokens: number }[] = [];
  while (Number.isFinite(source.peekTime())) {
    if (events.length >= maxBenchRequests)
      throw new AppError(
        'tooMuchWork',
        `a bench run of more than ${maxBenchRequests} requests: shorten durationS or lower the rates`,
      );
    const a = source.pop();
    const adapter = scenario.adapters[a.adapter]?.id;
    events.push({
      t: a.time,
      ...(adapter === undefined ? {} : { adapter }),
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
  const rate = scenario.adapters.reduce((r, a) => r + a.rate, scenario.baseModel?.rate ?? 0);
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

function requestsCsv(sent: Sent[]): string {
  const rows = sent.flatMap((s) => {
    if (!s.done) return [];
    const t = s.done.tokenTimes;
    return [[s.t, t[0]!, t[t.length - 1]!, s.inputTokens, s.outputTokens, s.adapter ?? ''].join(',')];
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

function serverFile(scenario: ParsedScenario, profile: Profile, engine: ResolvedEngine): Record<string, unknown> {
  // a server without LoRA: no LoRA flags, no --lora-modules
  const lora =
    engine.enableLora === false
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

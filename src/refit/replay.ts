import { kvCapacityTokens, kvCapacityWithoutLora, type Profile } from '../profiles/index.js';
import { Rng } from '../shared/rng.js';
import { type EngineSpec, parseScenario, simulateParsed, TokenTimeline } from '../twin/index.js';
import type { BenchRun, MeasuredRequest, ServerSettings } from './bench-run.js';

/** The longest a replay may run: the Twin stops earlier, when the last request is done. */
const replayHorizonS = 7 * 24 * 3600;

export interface Replay {
  /** completed requests, in the order they were sent */
  requests: MeasuredRequest[];
  /** why the profile says this server would not start, or null */
  memoryError: string | null;
}

/**
 * Replays a run in the Twin with `profile`: the same requests (arrival, prompt and output tokens, adapter) on a
 * server with the same flags, until every request is done (as `vllm bench serve` waits for all). Adapters the
 * run did not record (vllm bench serve's default random assignment) are drawn at random, seeded. A server
 * without --enable-lora is the Twin's server without LoRA, its requests the base model's.
 */
export function replayRun(run: BenchRun, asked: Profile, seed = 0): Replay {
  const server = run.server;
  // the server's own --max-model-len decides what starts and which requests it refuses
  const profile = server.maxModelLen === null ? asked : { ...asked, maxModelLen: server.maxModelLen };
  const adapters = server.lora?.adapters ?? [];
  const rng = new Rng(seed, 0x5e1a);
  const adapterOf = (r: MeasuredRequest): string | undefined =>
    adapters[r.adapter === null ? rng.int(adapters.length) : Math.max(0, r.adapter)]?.id;
  const events = run.requests.map((r) => ({
    t: r.arrivalS,
    ...(server.lora ? { adapter: adapterOf(r) } : {}),
    inputTokens: r.input,
    outputTokens: r.output,
  }));
  const scenario = parseScenario({
    model: profile.model,
    gpu: profile.gpu,
    engine: engineOf(server, profile),
    ...(server.lora
      ? { adapters: adapters.map((a) => ({ id: a.id, rank: a.rank, rate: 0 })) }
      : { baseModel: { rate: 0 } }),
    arrivals: { process: 'trace', events },
    durationS: replayHorizonS,
    seed,
  });
  const timeline = new TokenTimeline();
  const { memoryError } = simulateParsed(scenario, profile, { observer: timeline });
  if (memoryError) return { requests: [], memoryError };
  const requests = timeline
    .requests()
    .sort((a, b) => a.id - b.id)
    .map((r) => ({
      arrivalS: r.arrivalS,
      firstTokenS: r.tokenTimes[0]!,
      lastTokenS: r.tokenTimes[r.tokenTimes.length - 1]!,
      tokenTimes: r.tokenTimes,
      input: r.prompt,
      output: r.output,
      adapter: server.lora === null ? -1 : r.adapter,
    }));
  return { requests, memoryError: null };
}

/**
 * The Twin's engine for a server's flags (unset flags: the profile's defaults, as vLLM's own); a server started
 * without --enable-lora is one without LoRA, at the Twin's KV capacity without LoRA.
 */
export function engineOf(
  server: ServerSettings,
  profile: Profile,
): EngineSpec & { maxNumBatchedTokens: number; maxNumSeqs: number; kvCacheTokens: number } {
  const lora = server.lora;
  const common = {
    maxNumBatchedTokens: server.maxNumBatchedTokens ?? profile.engineDefaults.maxNumBatchedTokens,
    maxNumSeqs: server.maxNumSeqs ?? profile.engineDefaults.maxNumSeqs,
  };
  if (!lora) return { enableLora: false, ...common, kvCacheTokens: kvCapacityWithoutLora(profile) };
  return {
    maxLoras: lora.maxLoras,
    maxCpuLoras: lora.maxCpuLoras,
    maxLoraRank: lora.maxLoraRank,
    ...common,
    kvCacheTokens: kvCapacityTokens(profile, lora.maxLoras, lora.maxLoraRank),
  };
}

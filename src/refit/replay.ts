import { kvCapacityTokens, memoryErrorReason, type Profile } from '../profiles/index.js';
import { Rng } from '../shared/rng.js';
import { parseScenario, simulateParsed, TokenTimeline } from '../twin/index.js';
import { baseKvRank, baseModelAdapter, baseModelProfile } from './base-server.js';
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
 * run did not record (vllm bench serve's default random assignment) are drawn at random, seeded.
 */
export function replayRun(run: BenchRun, asked: Profile, seed = 0): Replay {
  const server = run.server;
  // the server's own --max-model-len decides what starts and which requests it refuses
  const profile = server.maxModelLen === null ? asked : { ...asked, maxModelLen: server.maxModelLen };
  const simulated = server.lora === null ? baseModelProfile(profile) : profile;
  const adapters = server.lora?.adapters ?? [baseModelAdapter];
  const engine = engineOf(server, profile);
  const memoryError = memoryErrorReason(profile, engine.kvCacheTokens, engine.maxLoras, engine.maxLoraRank);
  if (memoryError) return { requests: [], memoryError };
  const rng = new Rng(seed, 0x5e1a);
  const events = run.requests.map((r) => ({
    t: r.arrivalS,
    adapter: adapters[r.adapter === null ? rng.int(adapters.length) : Math.max(0, r.adapter)]!.id,
    inputTokens: r.input,
    outputTokens: r.output,
  }));
  const scenario = parseScenario({
    model: profile.model,
    gpu: profile.gpu,
    engine,
    adapters: adapters.map((a) => ({ id: a.id, rank: a.rank, rate: 0 })),
    arrivals: { process: 'trace', events },
    durationS: replayHorizonS,
    seed,
  });
  const timeline = new TokenTimeline();
  simulateParsed(scenario, simulated, { observer: timeline });
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

/** The Twin's engine settings for a server's flags (unset flags: the profile's defaults, as vLLM's own). */
export function engineOf(
  server: ServerSettings,
  profile: Profile,
): {
  maxLoras: number;
  maxCpuLoras: number;
  maxLoraRank: number;
  maxNumBatchedTokens: number;
  maxNumSeqs: number;
  kvCacheTokens: number;
} {
  const lora = server.lora;
  const maxLoras = lora?.maxLoras ?? 1;
  const maxLoraRank = lora?.maxLoraRank ?? baseModelAdapter.rank;
  return {
    maxLoras,
    maxCpuLoras: lora?.maxCpuLoras ?? 1,
    maxLoraRank,
    maxNumBatchedTokens: server.maxNumBatchedTokens ?? profile.engineDefaults.maxNumBatchedTokens,
    maxNumSeqs: server.maxNumSeqs ?? profile.engineDefaults.maxNumSeqs,
    kvCacheTokens: lora
      ? kvCapacityTokens(profile, maxLoras, maxLoraRank)
      : kvCapacityTokens(profile, 0, baseKvRank(profile)),
  };
}

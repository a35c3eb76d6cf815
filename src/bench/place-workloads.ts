import { readFileSync } from 'node:fs';
import { parseCsv } from '../shared/csv.js';
import { AppError } from '../shared/errors.js';
import { Rng } from '../shared/rng.js';
import type { Workload } from '../placement/index.js';

/** An arrival trace: request times (s from the start) and lengths. */
export interface ArrivalTrace {
  name: string;
  durationS: number;
  arrivals: number;
  inputMean: number;
  outputMean: number;
}

/** Reads a Splitwise/Azure trace CSV (`arrived_at, num_prefill_tokens, num_decode_tokens`). */
export function readTrace(file: string, name: string): ArrivalTrace {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('dataFile', `cannot read trace ${file}: ${(err as Error).message}`);
  }
  const rows = parseCsv(text);
  if (rows.length < 2) throw new AppError('dataFile', `trace ${file} has no requests`);
  const t = rows.map((r) => Number(r.arrived_at));
  const input = rows.map((r) => Number(r.num_prefill_tokens));
  const output = rows.map((r) => Number(r.num_decode_tokens));
  if ([...t, ...input, ...output].some((v) => !Number.isFinite(v)))
    throw new AppError('dataFile', `trace ${file}: non-numeric arrived_at / num_prefill_tokens / num_decode_tokens`);
  const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
  return {
    name,
    durationS: Math.max(...t) - Math.min(...t),
    arrivals: rows.length,
    inputMean: mean(input),
    outputMean: mean(output),
  };
}

export interface TraceWorkloadOptions {
  model: string;
  gpu: string;
  adapters: number;
  /** the trace's arrivals replicated this many times (the research evaluation used x1 to x50) */
  scale: number;
  /** ranks assigned cyclically over the adapters */
  ranks: number[];
  /** 'sharegpt': the research replay's request lengths; 'trace': the trace's own mean lengths */
  lengths: 'sharegpt' | 'trace';
  seed: number;
  engine?: Workload['engine'];
}

/**
 * The research evaluation's mapping of a trace onto adapters: the trace's requests (x scale) are
 * spread over N adapters by a multinomial with Dirichlet(0.5) popularity, every adapter getting at
 * least one request; each adapter's rate is its requests over the trace's duration.
 */
export function traceWorkload(trace: ArrivalTrace, o: TraceWorkloadOptions): Workload {
  const rng = new Rng(o.seed, 0x7ace);
  const weights = Array.from({ length: o.adapters }, () => rng.gamma(0.5) + 1e-12);
  const counts = multinomial(rng, Math.round(trace.arrivals * o.scale), weights).map((c) => Math.max(1, c));
  return {
    model: o.model,
    gpu: o.gpu,
    adapters: counts.map((c, i) => ({
      id: `${trace.name}-${i}`,
      rank: o.ranks[i % o.ranks.length]!,
      rate: round6(c / trace.durationS),
    })),
    ...(o.lengths === 'trace'
      ? { inputTokens: { mean: round3(trace.inputMean) }, outputTokens: { mean: round3(trace.outputMean) } }
      : {}),
    ...(o.engine ? { engine: o.engine } : {}),
  };
}

export interface SyntheticWorkloadOptions {
  model: string;
  gpu: string;
  adapters: number;
  /** total demand, tokens/s (ShareGPT lengths: about 419 tokens per request) */
  demand: number;
  popularity: 'zipf' | 'uniform' | 'dirichlet';
  ranks: number[];
  seed: number;
  engine?: Workload['engine'];
}

const sharegptTokensPerRequest = 419;

/** Synthetic popularity laws over a total demand. */
export function syntheticWorkload(o: SyntheticWorkloadOptions): Workload {
  const rng = new Rng(o.seed, 0x5e7);
  const weights = Array.from({ length: o.adapters }, (_, i) =>
    o.popularity === 'zipf' ? 1 / (i + 1) : o.popularity === 'uniform' ? 1 : rng.gamma(0.5) + 1e-12,
  );
  const sum = weights.reduce((s, w) => s + w, 0);
  const totalRate = o.demand / sharegptTokensPerRequest;
  return {
    model: o.model,
    gpu: o.gpu,
    adapters: weights.map((w, i) => ({
      id: `${o.popularity}-${i}`,
      rank: o.ranks[i % o.ranks.length]!,
      rate: round6((totalRate * w) / sum),
    })),
    ...(o.engine ? { engine: o.engine } : {}),
  };
}

/** Counts of `n` draws over categories with the given weights (cumulative table + bisection). */
function multinomial(rng: Rng, n: number, weights: number[]): number[] {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => {
    total += w;
    cumulative[i] = total;
  });
  const counts = new Array<number>(weights.length).fill(0);
  for (let k = 0; k < n; k++) {
    const u = rng.next() * total;
    let lo = 0;
    let hi = weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  return counts;
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const round6 = (x: number): number => Math.max(1e-6, Math.round(x * 1e6) / 1e6);

import { WorkloadAdapter, type ParsedWorkload } from '../placement/index.js';
import { AdapterId, LengthSpec } from '../twin/index.js';
import { AppError } from '../shared/errors.js';
import { QueryRefused, instantQuery, type PrometheusOptions } from './prometheus-query.js';
import type { VectorReading } from './vector-reader.js';
import {
  resolvedQueries,
  type DroppedSeries,
  type ObservedAdapter,
  type PoolSource,
  type TrafficSource,
} from './traffic-source.js';

/** What one read of the traffic found, per adapter (adapters with no requests in the window are absent). */
export interface TrafficReading {
  adapters: Map<string, { rate: number; inputTokens: number | null; outputTokens: number | null }>;
  /** series whose adapter label is missing, not a valid adapter name, or not listed (unless admitUnknown) */
  ignoredSeries: number;
  /** series of planned adapters whose value a Workload refuses, by query: dropped, the rest of the read plans */
  droppedSeries: DroppedSeries;
}

/**
 * Whether an observed value may be planned, by the Workload schema's own limits (a rate of 1e308 or a token mean of
 * 1e12 from one adapter would otherwise refuse the whole workload), on the value as planned (rounded to 1e-6, so
 * a token mean of 1e-7, rounded to 0, is refused too).
 */
const plannable = {
  rate: (v: number) => WorkloadAdapter.shape.rate.safeParse(round6(v)).success,
  tokens: (v: number) => LengthSpec.shape.mean.unwrap().safeParse(round6(v)).success,
};

/**
 * The most series one query keeps: a workload's adapters (Workload.adapters' max). Series of adapters not planned are
 * only counted, so a gateway that saw 100,000 unknown names costs a scan, not memory.
 */
const maxSeries = 100_000;

/** Runs the source's three queries (rate, then the token means of the adapters that had requests). */
export async function readTraffic(prometheus: PrometheusOptions, source: TrafficSource): Promise<TrafficReading> {
  const queries = resolvedQueries(source);
  const listed = new Set(source.adapters.map((a) => a.id));
  // listed ids are AdapterIds already; an unlisted name is checked only when it may be planned
  const planned = (id: string | undefined): boolean =>
    id !== undefined && (listed.has(id) || (source.admitUnknown && AdapterId.safeParse(id).success));
  const run = (name: keyof typeof queries) =>
    instantQuery(prometheus, queries[name], { label: source.adapterLabel, keep: planned, maxSeries }).catch(
      (err: unknown) => {
        if (!(err instanceof QueryRefused)) throw err;
        const field = source.queries[name] === undefined ? 'prometheus.selector' : `prometheus.queries.${name}`;
        throw new AppError('invalidInput', `${field}: Prometheus refused the ${name} query (${err.message})`, {
          path: field,
        });
      },
    );
  const [rates, inputs, outputs] = await Promise.all([run('rate'), run('inputTokens'), run('outputTokens')]);
  const droppedSeries: DroppedSeries = { rate: 0, inputTokens: 0, outputTokens: 0 };
  /** the token means that may be planned, by adapter (0 and below are "no requests", not out of range) */
  const means = (reading: VectorReading, query: 'inputTokens' | 'outputTokens') => {
    const byAdapter = new Map<string, number>();
    for (const s of reading.samples) {
      if (s.value > 0 && !plannable.tokens(s.value)) droppedSeries[query]++;
      else byAdapter.set(s.label, s.value);
    }
    return byAdapter;
  };
  const inputMeans = means(inputs, 'inputTokens');
  const outputMeans = means(outputs, 'outputTokens');
  const adapters: TrafficReading['adapters'] = new Map();
  for (const sample of rates.samples) {
    if (sample.value <= 0) continue;
    if (!plannable.rate(sample.value)) {
      droppedSeries.rate++;
      continue;
    }
    adapters.set(sample.label, {
      rate: sample.value,
      inputTokens: positiveOrNull(inputMeans.get(sample.label)),
      outputTokens: positiveOrNull(outputMeans.get(sample.label)),
    });
  }
  return { adapters, ignoredSeries: rates.skipped, droppedSeries };
}

const positiveOrNull = (v: number | undefined): number | null => (v !== undefined && v > 0 ? v : null);

/**
 * The adapters' traffic after a reading: the ones seen take their new figures; one not seen keeps its
 * last ones until `graceS` have passed since it was seen, then leaves (see `decayedRate`).
 */
export function mergeReading(
  previous: ObservedAdapter[],
  reading: TrafficReading,
  now: number,
  graceS: number,
): ObservedAdapter[] {
  // an id the service no longer takes (stored before its rule) leaves at once: it would make every re-plan fail
  const kept = previous.filter((a) => now - a.lastSeenAt <= graceS * 1000 && AdapterId.safeParse(a.id).success);
  const merged = new Map(kept.map((a) => [a.id, a]));
  for (const [id, seen] of reading.adapters) merged.set(id, { id, ...seen, lastSeenAt: now });
  return [...merged.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * An adapter gone from the traffic keeps its last rate through the grace period (a brief gap does not
 * drop it), then leaves at once: a rate fading step by step would re-plan the pool every period.
 */
export function decayedRate(adapter: ObservedAdapter, now: number, graceS: number): number {
  const goneS = (now - adapter.lastSeenAt) / 1000;
  return goneS <= graceS ? adapter.rate : 0;
}

const round6 = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * The workload to plan: the template's settings, the observed adapters (ranks and paths from the known list), and known
 * adapters with a rate of their own that were not observed.
 */
export function observedWorkload(pool: PoolSource, observed: ObservedAdapter[], now: number): Record<string, unknown> {
  const source = pool.prometheus;
  const known = new Map(source.adapters.map((a) => [a.id, a]));
  const adapters: Record<string, unknown>[] = [];
  for (const seen of observed) {
    const rate = round6(decayedRate(seen, now, source.graceS));
    if (rate <= 0) continue;
    const listed = known.get(seen.id);
    adapters.push({
      id: seen.id,
      // readTraffic admits an unlisted adapter only with admitUnknown, which requires unknownAdapterRank
      rank: listed?.rank ?? source.unknownAdapterRank!,
      rate,
      ...(listed?.path ? { path: listed.path } : {}),
      ...(seen.inputTokens !== null
        ? { inputTokens: { mean: round6(seen.inputTokens) } }
        : listed?.inputTokens
          ? { inputTokens: listed.inputTokens }
          : {}),
      ...(seen.outputTokens !== null
        ? { outputTokens: { mean: round6(seen.outputTokens) } }
        : listed?.outputTokens
          ? { outputTokens: listed.outputTokens }
          : {}),
    });
  }
  const seenIds = new Set(observed.map((a) => a.id));
  for (const listed of source.adapters)
    if (!seenIds.has(listed.id) && listed.rate !== undefined && listed.rate > 0) adapters.push({ ...listed });
  return { ...pool.workload, adapters };
}

/** True when a re-plan would change little: same adapters, every rate within `hysteresis` of the planned one. */
export function withinHysteresis(planned: ParsedWorkload, next: Record<string, unknown>, hysteresis: number): boolean {
  const nextAdapters = next.adapters as { id: string; rate: number }[];
  if (nextAdapters.length !== planned.adapters.length) return false;
  const plannedRates = new Map(planned.adapters.map((a) => [a.id, a.rate]));
  return nextAdapters.every((a) => {
    const before = plannedRates.get(a.id);
    return before !== undefined && Math.abs(a.rate - before) <= hysteresis * Math.max(before, 1e-9);
  });
}

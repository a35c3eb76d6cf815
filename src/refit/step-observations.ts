import type { BenchRun } from './bench-run.js';

/** One engine step read off a benchmark's token timeline, with what it computed. */
export interface StepObservation {
  run: string;
  durationMs: number;
  decodes: number;
  /** KV tokens the decoders attended (prompt + tokens generated so far, summed) */
  contextTokens: number;
  prefillTokens: number;
  /** requests in the batch (decoders + prompts computed) */
  running: number;
  /** distinct adapters in the batch (its expected value when the run did not record them); 0 without LoRA */
  adapters: number;
  /** the server's --max-loras and --max-lora-rank; null: started without --enable-lora */
  lora: { slots: number; maxLoraRank: number } | null;
}

/** How many steps a run showed and how many could be read without ambiguity. */
export interface ObservationCounts {
  steps: number;
  decodeOnly: number;
  withPrefill: number;
}

/**
 * Reads engine steps off the token timelines of a run (vLLM streams one chunk per request per engine step):
 * 1. every chunk's arrival time; chunks arriving together (within `tolerance`) end the same step;
 * 2. a request with chunks at two consecutive step ends decoded in the step between them, so that step is
 *    exactly one engine step, and its duration is the time between the two ends;
 * 3. a step is kept only when what it computed is known: no request was waiting or mid-prefill during it
 *    (arrived before the step started, first token after it ends), no request was preempted across it, and
 *    every prompt it completed arrived during the previous step (so was computed whole in this one), fits the
 *    token budget, and uses an adapter already on the GPU (an adapter load adds time the step model does not
 *    hold; it is fitted elsewhere).
 * Steps that fail these tests are counted but not used: fewer observations, none of them wrong.
 */
export function observeSteps(
  run: BenchRun,
  engine: { maxNumBatchedTokens: number; maxNumSeqs: number; maxLoras: number },
): { observations: StepObservation[]; counts: ObservationCounts } {
  const requests = run.requests.filter((r) => r.tokenTimes !== null && r.tokenTimes.length > 0);
  const none = { observations: [], counts: { steps: 0, decodeOnly: 0, withPrefill: 0 } };
  if (requests.length === 0) return none;
  const steps = clusterSteps(requests.map((r) => r.tokenTimes!));
  const n = steps.ends.length;
  const decodes = new Int32Array(n);
  const context = new Float64Array(n);
  const prefill = new Float64Array(n);
  const firsts = new Int32Array(n);
  const single = new Uint8Array(n);
  const bad = new Uint8Array(n);
  const disturbed = new Int32Array(n + 1);
  const adaptersAt: Set<number>[] = Array.from({ length: n }, () => new Set<number>());
  const firstAdapters: number[][] = Array.from({ length: n }, () => []);
  requests.forEach((r, ri) => {
    const c = steps.of[ri]!;
    const c0 = c[0]!;
    firsts[c0]! += 1;
    prefill[c0]! += r.input;
    if (r.adapter !== null && r.adapter >= 0) {
      adaptersAt[c0]!.add(r.adapter);
      firstAdapters[c0]!.push(r.adapter);
    }
    // waiting or mid-prefill from the first step that started after it arrived up to its first token
    const j0 = firstEndAtOrAfter(steps.ends, r.arrivalS) + 1;
    if (j0 <= c0 - 1) markRange(disturbed, j0, c0);
    else if (j0 > c0) markRange(disturbed, c0, c0);
    for (let k = 1; k < c.length; k++) {
      const j = c[k]!;
      if (j === c[k - 1]) bad[j] = 1;
      else if (j === c[k - 1]! + 1) {
        single[j] = 1;
        decodes[j]! += 1;
        context[j]! += r.input + k;
        if (r.adapter !== null && r.adapter >= 0) adaptersAt[j]!.add(r.adapter);
      } else markRange(disturbed, c[k - 1]! + 1, j);
    }
  });
  for (let j = 1; j <= n; j++) disturbed[j]! += disturbed[j - 1]!;
  const resident = residency(adaptersAt, firstAdapters, engine.maxLoras);
  const unknownAdapters = run.server.lora !== null && requests.some((r) => r.adapter === null);
  const adapterCount = run.server.lora?.adapters.length ?? 0;
  const observations: StepObservation[] = [];
  const counts: ObservationCounts = { steps: n, decodeOnly: 0, withPrefill: 0 };
  for (let j = 1; j < n; j++) {
    if (!single[j] || bad[j] || bad[j - 1] || disturbed[j]! > 0) continue;
    const running = decodes[j]! + firsts[j]!;
    if (firsts[j]! > 0) {
      if (!single[j - 1] || !resident[j]) continue;
      if (decodes[j]! + prefill[j]! > engine.maxNumBatchedTokens || running > engine.maxNumSeqs) continue;
      counts.withPrefill++;
    } else counts.decodeOnly++;
    observations.push({
      run: run.name,
      durationMs: (steps.ends[j]! - steps.ends[j - 1]!) * 1000,
      decodes: decodes[j]!,
      contextTokens: context[j]!,
      prefillTokens: firsts[j]! > 0 ? prefill[j]! : 0,
      running,
      adapters:
        run.server.lora === null ? 0 : unknownAdapters ? expectedDistinct(adapterCount, running) : adaptersAt[j]!.size,
      lora: run.server.lora && { slots: run.server.lora.maxLoras, maxLoraRank: run.server.lora.maxLoraRank },
    });
  }
  return { observations, counts };
}

/** Expected distinct adapters among `requests` requests each sent to one of `adapters` at random. */
export function expectedDistinct(adapters: number, requests: number): number {
  return adapters * (1 - (1 - 1 / adapters) ** requests);
}

/**
 * Groups chunk arrivals into step ends: sorted, a new step starts after a silence longer than the tolerance
 * (a quarter of the median gap between one request's chunks, at most 2 ms: chunks of one step reach the
 * client within a millisecond or two, steps last ten or more).
 */
function clusterSteps(timelines: Float64Array[]): { ends: Float64Array; of: Int32Array[] } {
  let total = 0;
  for (const t of timelines) total += t.length;
  const times = new Float64Array(total);
  const gaps: number[] = [];
  let at = 0;
  for (const t of timelines) {
    times.set(t, at);
    at += t.length;
    for (let k = 1; k < t.length && gaps.length < 100_000; k++) gaps.push(t[k]! - t[k - 1]!);
  }
  gaps.sort((a, b) => a - b);
  const medianGap = gaps.length > 0 ? gaps[gaps.length >> 1]! : Infinity;
  const tolerance = Math.min(0.002, medianGap / 4);
  times.sort();
  const starts: number[] = [];
  const ends: number[] = [];
  let sum = 0;
  let size = 0;
  for (let i = 0; i < total; i++) {
    const t = times[i]!;
    if (size === 0 || t - times[i - 1]! > tolerance) {
      if (size > 0) ends.push(sum / size);
      starts.push(t);
      sum = 0;
      size = 0;
    }
    sum += t;
    size++;
  }
  ends.push(sum / size);
  const startAt = Float64Array.from(starts);
  const of = timelines.map((t) => Int32Array.from(t, (x) => lastAtOrBefore(startAt, x)));
  return { ends: Float64Array.from(ends), of };
}

/** Index of the last value <= t in an ascending array. */
function lastAtOrBefore(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Index of the first step end at or after `t` (ends.length when none). */
function firstEndAtOrAfter(ends: Float64Array, t: number): number {
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ends[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Marks steps from..to (inclusive) in a difference array. */
function markRange(diff: Int32Array, from: number, to: number): void {
  if (to < from) return;
  diff[Math.max(0, from)]! += 1;
  diff[to + 1]! -= 1;
}

/**
 * Whether every adapter a step's new prompts use was already on the GPU: an LRU of `slots` adapters over the
 * steps in order (an adapter is used at every step it has a chunk in). Approximate: vLLM evicts only idle
 * adapters; with no more adapters than slots, only each adapter's first use is a load, as here.
 */
function residency(used: Set<number>[], arriving: number[][], slots: number): Uint8Array {
  const ok = new Uint8Array(used.length);
  const recent: number[] = [];
  used.forEach((set, j) => {
    ok[j] = arriving[j]!.every((a) => {
      const at = recent.indexOf(a);
      return at >= 0 && at < slots;
    })
      ? 1
      : 0;
    for (const a of set) {
      const at = recent.indexOf(a);
      if (at >= 0) recent.splice(at, 1);
      recent.unshift(a);
    }
  });
  return ok;
}

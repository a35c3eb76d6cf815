import { LogHistogram, summarize, type Summary } from '../shared/stats.js';

/** Per-adapter gap histograms are coarser than the GPU's (2 % buckets): one per adapter that decodes. */
const adapterGapGrowth = 1.02;

/**
 * What a Scenario with `report.perAdapter` gets for each adapter (latency summaries in ms, null when none completed).
 */
export interface AdapterReport {
  arrivedRequests: number;
  completedRequests: number;
  /** completed tokens / arrived tokens (1 when nothing arrived) */
  servedFraction: number;
  ttftMs: Summary | null;
  itlMs: Summary | null;
}

/**
 * The Twin's per-adapter accounting, kept only when a scenario asks for it: arrivals and completions,
 * each completed request's TTFT with its adapter, and every inter-token gap in the window attributed
 * to the adapter of the decoder it belongs to (the same definitions as the GPU-wide figures).
 */
export class AdapterMetrics {
  readonly arrived: Float64Array;
  readonly completed: Float64Array;
  private readonly gapMsSum: Float64Array;
  private readonly gapCount: Float64Array;
  private readonly gaps: (LogHistogram | undefined)[];
  private ttftValues = new Float64Array(1024);
  private ttftAdapters = new Int32Array(1024);
  private ttftSize = 0;

  constructor(private readonly adapters: number) {
    this.arrived = new Float64Array(adapters);
    this.completed = new Float64Array(adapters);
    this.gapMsSum = new Float64Array(adapters);
    this.gapCount = new Float64Array(adapters);
    this.gaps = new Array<LogHistogram | undefined>(adapters);
  }

  onArrival(adapter: number): void {
    this.arrived[adapter] = this.arrived[adapter]! + 1;
  }

  /** `count` gaps of `ms` each for decoders of `adapter`. */
  onGaps(adapter: number, ms: number, count: number): void {
    let h = this.gaps[adapter];
    if (!h) this.gaps[adapter] = h = new LogHistogram(0.01, 1e8, adapterGapGrowth);
    h.add(ms, count);
  }

  onComplete(adapter: number, ttftMs: number, decodeMs: number, outputTokens: number): void {
    this.completed[adapter] = this.completed[adapter]! + 1;
    if (this.ttftSize === this.ttftValues.length) this.grow();
    this.ttftValues[this.ttftSize] = ttftMs;
    this.ttftAdapters[this.ttftSize++] = adapter;
    if (outputTokens > 1) {
      this.gapMsSum[adapter] = this.gapMsSum[adapter]! + decodeMs;
      this.gapCount[adapter] = this.gapCount[adapter]! + outputTokens - 1;
    }
  }

  /** Every adapter's report, in adapter order; `servedFraction` from the GPU-wide token counts. */
  reports(arrivedTokens: Float64Array, completedTokens: Float64Array): AdapterReport[] {
    const ttft = this.ttftByAdapter();
    return Array.from({ length: this.adapters }, (_, a) => {
      const gaps = this.gaps[a]?.summary() ?? null;
      const itl = gaps && this.gapCount[a]! > 0 ? { ...gaps, mean: this.gapMsSum[a]! / this.gapCount[a]! } : gaps;
      return {
        arrivedRequests: this.arrived[a]!,
        completedRequests: this.completed[a]!,
        servedFraction: arrivedTokens[a]! > 0 ? completedTokens[a]! / arrivedTokens[a]! : 1,
        ttftMs: ttft[a] ?? null,
        itlMs: itl,
      };
    });
  }

  /** The TTFT samples grouped by adapter (a counting sort), each group summarized. */
  private ttftByAdapter(): (Summary | null)[] {
    const start = new Int32Array(this.adapters + 1);
    for (let i = 0; i < this.ttftSize; i++) start[this.ttftAdapters[i]! + 1]!++;
    for (let a = 0; a < this.adapters; a++) start[a + 1] = start[a + 1]! + start[a]!;
    const grouped = new Float64Array(this.ttftSize);
    const next = start.slice(0, this.adapters);
    for (let i = 0; i < this.ttftSize; i++) grouped[next[this.ttftAdapters[i]!]!++] = this.ttftValues[i]!;
    return Array.from({ length: this.adapters }, (_, a) => {
      const from = start[a]!;
      return summarize(grouped.subarray(from, start[a + 1]!), start[a + 1]! - from);
    });
  }

  private grow(): void {
    const values = new Float64Array(this.ttftValues.length * 2);
    values.set(this.ttftValues);
    this.ttftValues = values;
    const adapters = new Int32Array(this.ttftAdapters.length * 2);
    adapters.set(this.ttftAdapters);
    this.ttftAdapters = adapters;
  }
}

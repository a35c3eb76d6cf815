import { LogHistogram, summarize, type Summary } from '../shared/stats.js';
import { AdapterMetrics } from './adapter-metrics.js';
import type { RequestTable } from './request-table.js';

class SampleList {
  values = new Float64Array(1024);
  size = 0;
  push(v: number): void {
    if (this.size === this.values.length) {
      const b = new Float64Array(this.size * 2);
      b.set(this.values);
      this.values = b;
    }
    this.values[this.size++] = v;
  }
}

/**
 * Accumulates what vLLM's benchmark_serving reports: only requests completed inside the window
 * count towards throughput and latency; TTFT and TPOT are per request; ITL is over every
 * inter-token gap (token-weighted).
 */
export class Metrics {
  arrived = 0;
  rejected = 0;
  arrivedTokens = 0;
  completed = 0;
  completedInput = 0;
  completedOutput = 0;
  preemptions = 0;
  steps = 0;
  busyMs = 0;
  /** integral of (running requests x ms) and (distinct adapters x ms) over busy time */
  runningMsIntegral = 0;
  adaptersMsIntegral = 0;
  private readonly ttft = new SampleList();
  private readonly tpot = new SampleList();
  private gapMsSum = 0;
  private gapCount = 0;
  readonly gapHistogram = new LogHistogram();
  readonly arrivedTokensByAdapter: Float64Array;
  readonly completedTokensByAdapter: Float64Array;
  /** per-adapter latencies, kept only when the scenario asks for them (report.perAdapter) */
  readonly byAdapter: AdapterMetrics | null;
  /** requests to the base model that arrived and completed */
  baseArrived = 0;
  baseCompleted = 0;

  constructor(
    adapters: number,
    perAdapter = false,
    /** index of the base model's requests (-1: none) */
    private readonly baseAdapter = -1,
  ) {
    this.arrivedTokensByAdapter = new Float64Array(adapters);
    this.completedTokensByAdapter = new Float64Array(adapters);
    this.byAdapter = perAdapter ? new AdapterMetrics(adapters) : null;
  }

  onArrival(adapter: number, tokens: number): void {
    this.byAdapter?.onArrival(adapter);
    this.arrived++;
    if (adapter === this.baseAdapter) this.baseArrived++;
    this.arrivedTokens += tokens;
    this.arrivedTokensByAdapter[adapter] = this.arrivedTokensByAdapter[adapter]! + tokens;
  }

  onStep(ms: number, steps: number, running: number, adapters: number): void {
    this.steps += steps;
    this.busyMs += ms;
    this.runningMsIntegral += running * ms;
    this.adaptersMsIntegral += adapters * ms;
  }

  /** `count` inter-token gaps of `ms` each (a decode step emits one token per decoder). */
  onGaps(ms: number, count: number): void {
    this.gapHistogram.add(ms, count);
  }

  onComplete(req: RequestTable, id: number, endS: number): void {
    const arrival = req.arrival[id]!;
    const first = req.firstTokenTime[id]!;
    const prompt = req.prompt[id]!;
    const output = req.output[id]!;
    this.completed++;
    this.completedInput += prompt;
    this.completedOutput += output;
    const a = req.adapter[id]!;
    if (a === this.baseAdapter) this.baseCompleted++;
    this.completedTokensByAdapter[a] = this.completedTokensByAdapter[a]! + prompt + output;
    this.ttft.push((first - arrival) * 1000);
    this.byAdapter?.onComplete(a, (first - arrival) * 1000, (endS - first) * 1000, output);
    if (output > 1) {
      const decodeMs = (endS - first) * 1000;
      this.tpot.push(decodeMs / (output - 1));
      this.gapMsSum += decodeMs;
      this.gapCount += output - 1;
    }
  }

  ttftSummary(): Summary | null {
    return summarize(this.ttft.values, this.ttft.size);
  }

  tpotSummary(): Summary | null {
    return summarize(this.tpot.values, this.tpot.size);
  }

  /** Mean over the gaps of completed requests (exact); percentiles over all gaps in the window. */
  itlSummary(): Summary | null {
    const h = this.gapHistogram.summary();
    if (!h || this.gapCount === 0) return h;
    return { ...h, mean: this.gapMsSum / this.gapCount };
  }
}

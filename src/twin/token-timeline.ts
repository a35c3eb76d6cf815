import type { EngineObserver, RequestRecord, StepRecord } from './engine.js';

/** One completed request as a streaming client sees it: when it was sent and when each token arrived. */
export interface TimedRequest {
  /** the Twin's request id (admission order) */
  id: number;
  /** adapter index in the scenario; the number of adapters for a request to the base model */
  adapter: number;
  arrivalS: number;
  prompt: number;
  output: number;
  /** arrival time of every output token, ascending; tokenTimes[0] is the first token */
  tokenTimes: Float64Array;
}

/**
 * An EngineObserver that keeps every step end and every request's preemptions, and answers each completed
 * request's token times: what `vllm bench serve --save-detailed` records (TTFT and the gaps between tokens).
 * Opt-in only (simulate --bench-out, calibrate's replays): the engine calls it per step and per request,
 * never per token; the per-token work happens once, in requests().
 *
 * A request streams a token at its first token, then at the end of every step in which it decodes: every
 * step from its first token to a preemption (its last token was streamed when it was preempted), then at the
 * step its recompute ends (onResume) and every step after, up to its completion.
 */
export class TokenTimeline implements EngineObserver {
  private stepEnds = new Float64Array(4096);
  private stepCount = 0;
  private readonly completed: RequestRecord[] = [];
  /** preemption and resume times of the requests that were preempted */
  private readonly interruptions = new Map<number, { preempts: number[]; resumes: number[] }>();

  // arrow functions: the engine hands onPreempt to its scheduler unbound
  readonly onStep = (step: StepRecord): void => {
    for (let k = 1; k < step.steps; k++) {
      this.pushEnd(step.startS + (k * step.firstMs + (step.growthMs * k * (k - 1)) / 2) / 1000);
    }
    this.pushEnd(step.endS);
  };

  readonly onComplete = (request: RequestRecord): void => {
    this.completed.push(request);
  };

  readonly onPreempt = (id: number, _adapter: number, atS: number): void => {
    this.interruptionsOf(id).preempts.push(atS);
  };

  readonly onResume = (id: number, atS: number): void => {
    this.interruptionsOf(id).resumes.push(atS);
  };

  /** Completed requests in completion order, with their token times. */
  requests(): TimedRequest[] {
    return this.completed.map((r) => ({
      id: r.id,
      adapter: r.adapter,
      arrivalS: r.arrivalS,
      prompt: r.prompt,
      output: r.output,
      tokenTimes: this.tokenTimesOf(r),
    }));
  }

  private tokenTimesOf(r: RequestRecord): Float64Array {
    const times: number[] = [r.firstTokenS];
    const cut = this.interruptions.get(r.id);
    const events = [
      ...(cut?.preempts ?? []).filter((t) => t >= r.firstTokenS).map((t) => ({ t, resume: false })),
      ...(cut?.resumes ?? []).map((t) => ({ t, resume: true })),
    ].sort((a, b) => a.t - b.t || Number(a.resume) - Number(b.resume));
    let decoding = true;
    let from = r.firstTokenS;
    for (const e of events) {
      if (!e.resume && decoding) {
        this.appendEnds(times, from, e.t);
        decoding = false;
      } else if (e.resume) {
        times.push(e.t);
        decoding = true;
        from = e.t;
      }
    }
    if (decoding) this.appendEnds(times, from, r.endS);
    return Float64Array.from(times);
  }

  /** Appends the step ends in (from, to]. */
  private appendEnds(out: number[], from: number, to: number): void {
    for (let i = this.firstEndAfter(from); i < this.stepCount && this.stepEnds[i]! <= to; i++)
      out.push(this.stepEnds[i]!);
  }

  private firstEndAfter(t: number): number {
    let lo = 0;
    let hi = this.stepCount;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.stepEnds[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private pushEnd(t: number): void {
    if (this.stepCount === this.stepEnds.length) {
      const grown = new Float64Array(this.stepCount * 2);
      grown.set(this.stepEnds);
      this.stepEnds = grown;
    }
    this.stepEnds[this.stepCount++] = t;
  }

  private interruptionsOf(id: number): { preempts: number[]; resumes: number[] } {
    let entry = this.interruptions.get(id);
    if (!entry) {
      entry = { preempts: [], resumes: [] };
      this.interruptions.set(id, entry);
    }
    return entry;
  }
}

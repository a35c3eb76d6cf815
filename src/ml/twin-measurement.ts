import type { Profile } from '../profiles/index.js';
import { LogHistogram, quantileSorted } from '../shared/stats.js';
import {
  simulateParsed,
  starvationRatio,
  type EngineObserver,
  type ParsedScenario,
  type StepRecord,
} from '../twin/index.js';

/** Share of a short run spent warming up (the server starts empty, no adapter loaded): not measured. */
export const warmupFraction = 0.25;

/**
 * Spread of the served-fraction estimate of a short run around what a one-hour run would find: the
 * starvation probability is the chance that the hour falls below the research rule's 90 %.
 */
const servedFractionSpread = 0.01;

/** What a short Twin run says about a GPU, read as the 3,600-s protocol would (one GPU, steady state). */
export interface TwinMeasurement {
  /** served / demanded tokens after the warm-up (backlogServedFraction) */
  servedFraction: number;
  starvationProbability: number;
  itlMs: number;
  itlP99Ms: number;
  ttftMs: number;
  ttftP99Ms: number;
  worstAdapterTtftMs: number;
  arrivedRequests: number;
  wallMs: number;
}

/** Grows a Float64Array by doubling. */
function grown(a: Float64Array<ArrayBuffer>, n: number): Float64Array<ArrayBuffer> {
  if (n < a.length) return a;
  const b = new Float64Array(Math.max(16, 2 * a.length));
  b.set(a);
  return b;
}

/** Every request's arrival, tokens and first token, and the decode gaps after the warm-up. */
class RunRecorder implements EngineObserver {
  /** by arrival order */
  arrivalS = new Float64Array(1024);
  tokens = new Float64Array(1024);
  adapter = new Float64Array(1024);
  /** 1: refused at arrival (maxInFlight, longer than max_model_len) */
  refused = new Float64Array(1024);
  /** by arrival order: first token time (-1: none yet at the end), completion time (-1: not completed) */
  firstTokenS = new Float64Array(1024);
  endS = new Float64Array(1024);
  arrived = 0;
  /** arrival order of each request id (ids are dense, refused requests get none) */
  private orderOfId = new Float64Array(1024);
  readonly gaps = new LogHistogram();
  /** requests in the server (running and waiting) at the end of the warm-up */
  inServerAtWarmup = 0;

  constructor(private readonly warmupS: number) {}

  onArrival(id: number, adapter: number, arrivalS: number, tokens: number): void {
    const k = this.arrived++;
    this.arrivalS = grown(this.arrivalS, k);
    this.tokens = grown(this.tokens, k);
    this.adapter = grown(this.adapter, k);
    this.firstTokenS = grown(this.firstTokenS, k);
    this.refused = grown(this.refused, k);
    this.endS = grown(this.endS, k);
    this.arrivalS[k] = arrivalS;
    this.tokens[k] = tokens;
    this.adapter[k] = adapter;
    this.firstTokenS[k] = -1;
    this.endS[k] = -1;
    this.refused[k] = id < 0 ? 1 : 0;
    if (id >= 0) {
      this.orderOfId = grown(this.orderOfId, id);
      this.orderOfId[id] = k;
    }
  }

  onComplete(r: { id: number; firstTokenS: number; endS: number }): void {
    const k = this.orderOfId[r.id]!;
    this.firstTokenS[k] = r.firstTokenS;
    this.endS[k] = r.endS;
  }

  onStep(step: StepRecord): void {
    if (step.endS <= this.warmupS) this.inServerAtWarmup = step.running + step.waiting;
    if (step.decodes === 0 || step.startS < this.warmupS) return;
    this.gaps.add(((step.endS - step.startS) * 1000) / step.steps, step.decodes * step.steps);
  }
}

/**
 * Runs the Twin on `scenario` (a short window) and reads it as the one-hour protocol the predictors learn:
 * - served fraction: what the server kept up with after the warm-up (backlogServedFraction);
 * - TTFT over the requests that arrived after the warm-up and completed; the worst adapter's mean TTFT
 *   also counts each of its requests still waiting at the end with the time it has waited;
 * - ITL over the decode gaps after the warm-up.
 */
export function measureWithTwin(scenario: ParsedScenario, profile: Profile, maxArrivals: number): TwinMeasurement {
  const durationS = scenario.durationS!;
  const warmupS = warmupFraction * durationS;
  const rec = new RunRecorder(warmupS);
  const result = simulateParsed(scenario, profile, { observer: rec, maxArrivals });
  const servedFraction = backlogServedFraction(rec, warmupS, result.runningAtEnd + result.waitingAtEnd);
  const ttft = cohortTtft(rec, warmupS, durationS, scenario.adapters.length);
  const itl = rec.gaps.count > 0;
  return {
    servedFraction,
    starvationProbability: 1 / (1 + Math.exp((servedFraction - starvationRatio) / servedFractionSpread)),
    // no decode step after the warm-up (an idle GPU): nothing waited
    itlMs: itl ? rec.gaps.mean() : 0,
    itlP99Ms: itl ? rec.gaps.quantile(0.99) : 0,
    ...ttft,
    arrivedRequests: result.arrivedRequests,
    wallMs: result.wallMs,
  };
}

/**
 * Tokens that arrived after the warm-up, less those refused and those still in the server's backlog: the
 * growth of the requests in the server (running and waiting) over the window, at the mean request's tokens.
 * A server that keeps up ends the window with about as many requests as it began it with; one that does not
 * piles up the difference between arrival and completion rates. Unlike counting completions, the requests
 * still running at the end of a short window (10 % of it on a busy GPU) do not count as unserved.
 */
function backlogServedFraction(rec: RunRecorder, warmupS: number, inServerAtEnd: number): number {
  let arrived = 0;
  let tokens = 0;
  let refused = 0;
  for (let k = 0; k < rec.arrived; k++) {
    if (rec.arrivalS[k]! <= warmupS) continue;
    arrived++;
    tokens += rec.tokens[k]!;
    if (rec.refused[k]) refused += rec.tokens[k]!;
  }
  if (tokens === 0) return 1;
  const backlog = Math.max(0, inServerAtEnd - rec.inServerAtWarmup) * (tokens / arrived);
  return Math.max(0, (tokens - refused - backlog) / tokens);
}

function cohortTtft(
  rec: RunRecorder,
  warmupS: number,
  durationS: number,
  adapters: number,
): { ttftMs: number; ttftP99Ms: number; worstAdapterTtftMs: number } {
  const done: number[] = [];
  const waitedMs = new Float64Array(adapters);
  const requests = new Float64Array(adapters);
  for (let k = 0; k < rec.arrived; k++) {
    const arrival = rec.arrivalS[k]!;
    if (arrival <= warmupS) continue;
    const first = rec.firstTokenS[k]!;
    const ms = (rec.endS[k]! >= 0 ? first - arrival : durationS - arrival) * 1000;
    if (rec.endS[k]! >= 0) done.push(ms);
    const a = rec.adapter[k]!;
    waitedMs[a] = waitedMs[a]! + ms;
    requests[a] = requests[a]! + 1;
  }
  let worst = 0;
  for (let a = 0; a < adapters; a++) if (requests[a]! > 0) worst = Math.max(worst, waitedMs[a]! / requests[a]!);
  if (done.length === 0) return { ttftMs: worst, ttftP99Ms: worst, worstAdapterTtftMs: worst };
  const sorted = Float64Array.from(done).sort();
  return {
    ttftMs: sorted.reduce((s, v) => s + v, 0) / sorted.length,
    ttftP99Ms: quantileSorted(sorted, 0.99),
    worstAdapterTtftMs: worst,
  };
}

import { readCsv } from '../shared/csv.js';
import { AppError } from '../shared/errors.js';
import { Rng } from '../shared/rng.js';
import type { Workload } from '../placement/index.js';
import type { ArrivalTrace } from './place-workloads.js';

/** A trace's request arrival times (s from its start, ascending). */
export function readArrivalTimes(file: string): Float64Array {
  const times = Float64Array.from(readCsv(file).map((r) => Number(r.arrived_at)));
  if (times.length < 2 || times.some((t) => !Number.isFinite(t)))
    throw new AppError('dataFile', `trace ${file}: expected a numeric arrived_at column with requests`);
  return times.sort();
}

export const daySeconds = 86_400;

export interface DriftDayOptions {
  model: string;
  gpu: string;
  adapters: number;
  /** copies of each trace request at the day's peak (the research evaluation scaled the traces x1 to x50) */
  peakScale: number;
  /** the load at the day's trough as a share of the peak */
  troughShare: number;
  /** seconds of the day at which the load is lowest (the peak is 12 hours later) */
  troughAtS: number;
  /** share of the adapters that join during the day, and as many again that leave */
  churn: number;
  /** ranks assigned cyclically over the adapters */
  ranks: number[];
  seed: number;
  engine?: Workload['engine'];
}

/**
 * A day of drifting traffic built from a one-hour arrival trace, estimated in windows as a controller
 * would see it. Exactly:
 * - the trace is tiled: day second t replays trace second t mod (trace duration);
 * - a smooth diurnal multiplier m(t) = trough + (1 - trough) (1 - cos(2 pi (t - troughAt) / day)) / 2
 *   (1 at the peak, `troughShare` at the trough) scales it: each trace request in the window becomes
 *   floor(peakScale m) copies, plus one more with probability frac(peakScale m);
 * - each copy goes to one of the live adapters with probability proportional to its popularity, drawn
 *   once for the day as Dirichlet(0.5) (as `traceWorkload` maps a trace onto adapters);
 * - `churn` / 2 of the adapters join at a uniform time of the day and as many leave at one (new
 *   fine-tunes deployed, old ones retired); the rest live all day;
 * - an adapter's rate in a window is its copies / the window's length (0 when it got none: it is still
 *   deployed, so it stays in the workload).
 * Every draw comes from the seeded generator: popularity and lifetimes from one stream, each window's
 * copies and assignments from a stream of its own, so a window's rates do not depend on which others ran.
 */
export class DriftDay {
  private readonly popularity: number[];
  private readonly joinsAtS: number[];
  private readonly leavesAtS: number[];
  private readonly periodS: number;

  constructor(
    private readonly trace: ArrivalTrace,
    private readonly arrivals: Float64Array,
    private readonly options: DriftDayOptions,
  ) {
    const rng = new Rng(options.seed, 0xd1f7);
    this.popularity = Array.from({ length: options.adapters }, () => rng.gamma(0.5) + 1e-12);
    this.joinsAtS = this.popularity.map(() => 0);
    this.leavesAtS = this.popularity.map(() => Infinity);
    for (let i = 0; i < options.adapters; i++) {
      const u = rng.next();
      const at = rng.next() * daySeconds;
      if (u < options.churn / 2) this.joinsAtS[i] = at;
      else if (u < options.churn) this.leavesAtS[i] = at;
    }
    this.periodS = arrivals[arrivals.length - 1]! - arrivals[0]!;
  }

  /** The load multiplier at day second t (1 at the peak). */
  multiplier(t: number): number {
    const { troughShare, troughAtS } = this.options;
    return troughShare + ((1 - troughShare) * (1 - Math.cos((2 * Math.PI * (t - troughAtS)) / daySeconds))) / 2;
  }

  /** The workload as estimated from the window [startS, startS + lengthS) of the day. */
  window(startS: number, lengthS: number): Workload {
    const live = this.popularity
      .map((_, i) => i)
      .filter((i) => this.joinsAtS[i]! <= startS && startS < this.leavesAtS[i]!);
    const pick = new WeightedChoice(live.map((i) => this.popularity[i]!));
    const rng = new Rng(this.options.seed, 0x51de + Math.round(startS));
    const copiesPerRequest = this.options.peakScale * this.multiplier(startS + lengthS / 2);
    const counts = new Array<number>(live.length).fill(0);
    const requests = this.requestsIn(startS, lengthS);
    for (let r = 0; r < requests; r++) {
      const copies = Math.floor(copiesPerRequest) + (rng.next() < copiesPerRequest % 1 ? 1 : 0);
      for (let c = 0; c < copies; c++) counts[pick.draw(rng)]!++;
    }
    return {
      model: this.options.model,
      gpu: this.options.gpu,
      adapters: live.map((i, k) => ({
        id: `${this.trace.name}-${i}`,
        rank: this.options.ranks[i % this.options.ranks.length]!,
        rate: Math.round((1e6 * counts[k]!) / lengthS) / 1e6,
      })),
      inputTokens: { mean: Math.round(this.trace.inputMean * 1000) / 1000 },
      outputTokens: { mean: Math.round(this.trace.outputMean * 1000) / 1000 },
      ...(this.options.engine ? { engine: this.options.engine } : {}),
    };
  }

  /** Trace requests in the day's window, the trace tiled over the day. */
  private requestsIn(startS: number, lengthS: number): number {
    const first = this.arrivals[0]!;
    const end = startS + lengthS;
    let count = 0;
    // whole replays of the trace by number, so that rounding cannot stall a window at a replay's edge
    for (let replay = Math.floor(startS / this.periodS); replay * this.periodS < end; replay++) {
      const from = Math.max(startS, replay * this.periodS) - replay * this.periodS;
      const to = Math.min(end, (replay + 1) * this.periodS) - replay * this.periodS;
      if (to > from) count += lowerIndex(this.arrivals, first + to) - lowerIndex(this.arrivals, first + from);
    }
    return count;
  }
}

/** Index of the first element >= x in an ascending array. */
function lowerIndex(sorted: Float64Array, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Draws an index with probability proportional to its weight (cumulative table, bisection). */
class WeightedChoice {
  private readonly cumulative: Float64Array;

  constructor(weights: readonly number[]) {
    this.cumulative = new Float64Array(weights.length);
    let total = 0;
    weights.forEach((w, i) => {
      total += w;
      this.cumulative[i] = total;
    });
  }

  draw(rng: Rng): number {
    const u = rng.next() * this.cumulative[this.cumulative.length - 1]!;
    return Math.min(this.cumulative.length - 1, lowerIndex(this.cumulative, u));
  }
}

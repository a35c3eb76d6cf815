import { Rng } from '../shared/rng.js';
import type { ArrivalSpec } from './scenario.js';
import type { LengthSampler } from './lengths.js';
import { defaultRegimePeriodS } from './work.js';

export interface AdapterStreamSpec {
  rate: number;
  input: LengthSampler;
  output: LengthSampler;
  /** Rng streams of its lengths and arrival times; default 2i+1 and 2i+2 for the i-th stream (the adapters) */
  rngStreams?: readonly [lengths: number, clock: number];
}

/** One arriving request. */
export interface Arrival {
  time: number;
  adapter: number;
  inputTokens: number;
  outputTokens: number;
}

/** Next-arrival times of one adapter. */
interface Clock {
  next(): number;
}

class PoissonClock implements Clock {
  /** time of the last arrival drawn */
  private timeS = 0;
  constructor(
    private readonly rng: Rng,
    private readonly rate: number,
  ) {}
  next(): number {
    this.timeS += this.rng.exponential(this.rate);
    return this.timeS;
  }
}

/** Renewal process with Gamma inter-arrival times: mean 1/rate, coefficient of variation cv. */
class GammaClock implements Clock {
  private timeS = 0;
  private readonly shape: number;
  private readonly scale: number;
  constructor(
    private readonly rng: Rng,
    rate: number,
    cv: number,
  ) {
    this.shape = 1 / (cv * cv);
    this.scale = (cv * cv) / rate;
  }
  next(): number {
    this.timeS += this.rng.gamma(this.shape) * this.scale;
    return this.timeS;
  }
}

/**
 * Markov-modulated Poisson: every `periodS` the rate multiplier is multiplied or divided by `factor`
 * (coin flip), kept within [1/maxFactor, maxFactor]. Multipliers are normalised by their stationary
 * mean so the long-run rate equals the adapter's `rate` (placement and demand stay comparable).
 * Past the horizon it answers Infinity: an adapter too slow to arrive within a period would otherwise
 * walk through periods for ever.
 */
class RegimeClock implements Clock {
  private timeS = 0;
  private level = 0;
  private periodEnd: number;
  private readonly maxLevel: number;
  private readonly norm: number;
  constructor(
    private readonly rng: Rng,
    private readonly rate: number,
    private readonly periodS: number,
    private readonly factor: number,
    maxFactor: number,
    private readonly horizonS: number,
  ) {
    this.maxLevel = Math.floor(Math.log(maxFactor) / Math.log(factor) + 1e-9);
    // a symmetric reflected walk on levels -K..K is uniform in the long run
    let sum = 0;
    for (let k = -this.maxLevel; k <= this.maxLevel; k++) sum += Math.pow(factor, k);
    this.norm = sum / (2 * this.maxLevel + 1);
    this.periodEnd = periodS;
  }
  private currentRate(): number {
    return (this.rate * Math.pow(this.factor, this.level)) / this.norm;
  }
  next(): number {
    for (;;) {
      const candidate = this.timeS + this.rng.exponential(this.currentRate());
      if (candidate <= this.periodEnd) {
        this.timeS = candidate;
        return this.timeS;
      }
      if (this.periodEnd >= this.horizonS) return Infinity;
      // memoryless: restart from the regime boundary with the new rate
      this.timeS = this.periodEnd;
      this.periodEnd += this.periodS;
      const step = this.rng.next() < 0.5 ? -1 : 1;
      this.level = Math.max(-this.maxLevel, Math.min(this.maxLevel, this.level + step));
    }
  }
}

/**
 * Merges the adapters' arrival streams in time order (min-heap on the next arrival of each adapter).
 * Adapter i draws its times and lengths from its own generators, so adding or removing another
 * adapter never changes adapter i's requests (common random numbers for what-if comparisons). The base
 * model's traffic is one more stream with generators of its own (`rngStreams`), for the same reason.
 */
export class ArrivalSource {
  private readonly times: Float64Array;
  private readonly heap: Int32Array;
  private size = 0;
  private readonly clocks: Clock[];
  private readonly lengthRngs: Rng[];
  private readonly trace: { t: number; adapter: number; inputTokens: number; outputTokens: number }[] | null;
  private traceIdx = 0;

  constructor(
    private readonly adapters: AdapterStreamSpec[],
    spec: ArrivalSpec,
    seed: number,
    /** stream index of a trace event's adapter id; `undefined` (an event naming no adapter): the base model */
    adapterIndex: Map<string | undefined, number>,
    private readonly horizonS: number,
  ) {
    this.times = new Float64Array(adapters.length);
    this.heap = new Int32Array(adapters.length);
    this.lengthRngs = adapters.map((a, i) => new Rng(seed, a.rngStreams?.[0] ?? 2 * i + 1));
    this.clocks = adapters.map((a, i) => {
      const rng = new Rng(seed, a.rngStreams?.[1] ?? 2 * i + 2);
      switch (spec.process) {
        case 'gamma':
          return new GammaClock(rng, a.rate, spec.cv ?? 1);
        case 'regime':
          return new RegimeClock(
            rng,
            a.rate,
            spec.periodS ?? defaultRegimePeriodS,
            spec.factor ?? 1.5,
            spec.maxFactor ?? 7.5,
            horizonS,
          );
        default:
          return new PoissonClock(rng, a.rate);
      }
    });
    if (spec.process === 'trace') {
      this.trace = (spec.events ?? [])
        .map((e) => ({
          t: e.t,
          adapter: adapterIndex.get(e.adapter) ?? 0,
          inputTokens: e.inputTokens,
          outputTokens: e.outputTokens,
        }))
        .filter((e) => e.t <= horizonS)
        .sort((a, b) => a.t - b.t);
    } else {
      this.trace = null;
      adapters.forEach((a, i) => {
        if (a.rate > 0) this.push(i, this.clocks[i]!.next());
      });
    }
  }

  /** Time of the next arrival, Infinity when none is left within the horizon. */
  peekTime(): number {
    if (this.trace) return this.trace[this.traceIdx]?.t ?? Infinity;
    if (this.size === 0) return Infinity;
    const t = this.times[this.heap[0]!]!;
    return t <= this.horizonS ? t : Infinity;
  }

  /** Removes and returns the next arrival; call only when peekTime() is finite. */
  pop(): Arrival {
    if (this.trace) {
      const e = this.trace[this.traceIdx++]!;
      return { time: e.t, adapter: e.adapter, inputTokens: e.inputTokens, outputTokens: e.outputTokens };
    }
    const adapter = this.heap[0]!;
    const time = this.times[adapter]!;
    const rng = this.lengthRngs[adapter]!;
    const spec = this.adapters[adapter]!;
    const inputTokens = spec.input(rng);
    const outputTokens = spec.output(rng);
    this.times[adapter] = this.clocks[adapter]!.next();
    this.siftDown(0);
    return { time, adapter, inputTokens, outputTokens };
  }

  private push(adapter: number, time: number): void {
    this.times[adapter] = time;
    let i = this.size++;
    this.heap[i] = adapter;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.less(this.heap[parent]!, adapter)) break;
      this.heap[i] = this.heap[parent]!;
      i = parent;
    }
    this.heap[i] = adapter;
  }

  private siftDown(i: number): void {
    const item = this.heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && this.less(this.heap[child + 1]!, this.heap[child]!)) child++;
      if (!this.less(this.heap[child]!, item)) break;
      this.heap[i] = this.heap[child]!;
      i = child;
    }
    this.heap[i] = item;
  }

  /** time order, ties broken by adapter index for determinism */
  private less(a: number, b: number): boolean {
    const ta = this.times[a]!;
    const tb = this.times[b]!;
    return ta < tb || (ta === tb && a < b);
  }
}

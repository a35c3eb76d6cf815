import type { UpperBounds } from '../twin/index.js';
import type { JudgedFigures } from './criterion.js';
import type { PlacementItem } from './items.js';

/** What the predictors said about a GPU's current set of adapters at its chosen knobs. */
export interface GpuVerdict {
  feasible: boolean;
  slots: number;
  maxLoraRank: number;
  kvCacheTokens: number;
  /** tokens/s at the load evaluated (the GPU's traffic x (1 + headroom)) */
  throughput: number;
  idealThroughput: number;
  starvationProbability: number;
  itlMs: number;
  ttftMs: number;
  ttftP99Ms: number;
  itlP99Ms: number;
  worstAdapterTtftMs: number;
  /** the figures the latency targets were compared with: the four above, or their upper bounds */
  judged: JudgedFigures;
  /** the upper bounds, when the SLO is judged on them (options.judgeSloOn: 'bound') */
  bounds?: UpperBounds;
  /** predicted completed / demanded tokens at that load */
  servedFraction: number;
  /** saturated tokens/s by the step model at these knobs (a feature of the predictors) */
  capacity: number;
}

/**
 * One GPU being filled: its items and running aggregates, kept so that a feasibility check costs one
 * feature vector (linear in the GPU's adapters, no sorting: rates are kept in descending order) and
 * four tree walks.
 */
export class GpuBin {
  /** item indices, in the order of `scaledRates` (descending rate) */
  readonly items: number[] = [];
  /** rates x (1 + headroom), descending, and the matching ranks: what the features are computed from */
  scaledRates = new Float64Array(16);
  ranks = new Float64Array(16);
  rateSum = 0;
  inputWeighted = 0;
  outputWeighted = 0;
  demand = 0;
  /** unweighted length sums: the length means when every rate is zero */
  inputPlain = 0;
  outputPlain = 0;
  /** the knobs and prediction of the last accepted state */
  verdict: GpuVerdict | null = null;
  /** an optimistic bound on the demand this GPU could still take (halved when it refuses an item) */
  room = Infinity;
  /** true once the Twin confirmed the current contents */
  verified = false;
  private readonly rankCounts = new Map<number, number>();

  constructor(
    readonly index: number,
    public headroom: number,
  ) {}

  get count(): number {
    return this.items.length;
  }

  /** rate-weighted mean prompt and output tokens (plain means when no adapter has traffic) */
  lengthMeans(): { input: number; output: number } {
    if (this.rateSum > 0)
      return { input: this.inputWeighted / this.rateSum, output: this.outputWeighted / this.rateSum };
    const n = Math.max(1, this.items.length);
    return { input: this.inputPlain / n, output: this.outputPlain / n };
  }

  maxRank(): number {
    let r = 0;
    for (const [rank, n] of this.rankCounts) if (n > 0 && rank > r) r = rank;
    return r;
  }

  holdsAdapter(items: readonly PlacementItem[], adapter: number): boolean {
    for (const i of this.items) if (items[i]!.adapter === adapter) return true;
    return false;
  }

  /** Inserts item `index` at its place in the rate order; returns that position. */
  add(index: number, item: PlacementItem): number {
    const n = this.items.length;
    this.ensure(n + 1);
    const scaled = item.rate * (1 + this.headroom);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.scaledRates[mid]! >= scaled) lo = mid + 1;
      else hi = mid;
    }
    this.scaledRates.copyWithin(lo + 1, lo, n);
    this.ranks.copyWithin(lo + 1, lo, n);
    this.scaledRates[lo] = scaled;
    this.ranks[lo] = item.rank;
    this.items.splice(lo, 0, index);
    this.rateSum += item.rate;
    this.inputWeighted += item.rate * item.inputMean;
    this.outputWeighted += item.rate * item.outputMean;
    this.demand += item.demand;
    this.inputPlain += item.inputMean;
    this.outputPlain += item.outputMean;
    this.rankCounts.set(item.rank, (this.rankCounts.get(item.rank) ?? 0) + 1);
    this.verified = false;
    return lo;
  }

  /** Removes the item at position `pos`; returns its index. */
  removeAt(pos: number, item: PlacementItem): number {
    const n = this.items.length;
    const index = this.items[pos]!;
    this.scaledRates.copyWithin(pos, pos + 1, n);
    this.ranks.copyWithin(pos, pos + 1, n);
    this.items.splice(pos, 1);
    this.rateSum -= item.rate;
    this.inputWeighted -= item.rate * item.inputMean;
    this.outputWeighted -= item.rate * item.outputMean;
    this.demand -= item.demand;
    this.inputPlain -= item.inputMean;
    this.outputPlain -= item.outputMean;
    this.rankCounts.set(item.rank, this.rankCounts.get(item.rank)! - 1);
    if (this.items.length === 0)
      this.rateSum = this.inputWeighted = this.outputWeighted = this.demand = this.inputPlain = this.outputPlain = 0;
    this.verified = false;
    return index;
  }

  remove(index: number, items: readonly PlacementItem[]): void {
    const pos = this.items.indexOf(index);
    if (pos >= 0) this.removeAt(pos, items[index]!);
  }

  /** Replaces the contents with `indices`. */
  reset(indices: readonly number[], items: readonly PlacementItem[]): void {
    this.items.length = 0;
    this.rankCounts.clear();
    this.rateSum = this.inputWeighted = this.outputWeighted = this.demand = this.inputPlain = this.outputPlain = 0;
    for (const i of indices) this.add(i, items[i]!);
  }

  setHeadroom(headroom: number, items: readonly PlacementItem[]): void {
    this.headroom = headroom;
    this.items.forEach((idx, pos) => {
      this.scaledRates[pos] = items[idx]!.rate * (1 + headroom);
    });
  }

  private ensure(n: number): void {
    if (n <= this.scaledRates.length) return;
    const size = Math.max(n, this.scaledRates.length * 2);
    const rates = new Float64Array(size);
    rates.set(this.scaledRates);
    const ranks = new Float64Array(size);
    ranks.set(this.ranks);
    this.scaledRates = rates;
    this.ranks = ranks;
  }
}

export interface Summary {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

/** Linear-interpolated quantile of an ascending-sorted array (numpy's default definition). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** mean/p50/p90/p99 of the first `count` values; sorts that prefix in place. Null when empty. */
export function summarize(values: Float64Array, count: number): Summary | null {
  if (count === 0) return null;
  const view = values.subarray(0, count);
  view.sort();
  let sum = 0;
  for (let i = 0; i < count; i++) sum += view[i] as number;
  return {
    mean: sum / count,
    p50: quantileSorted(view, 0.5),
    p90: quantileSorted(view, 0.9),
    p99: quantileSorted(view, 0.99),
  };
}

/**
 * Weighted samples in logarithmic buckets (0.5 % wide by default), for quantities added in bulk such as
 * the inter-token gaps of a whole batch: adding is O(1), quantiles are accurate to half a bucket.
 */
export class LogHistogram {
  private readonly minValue: number;
  private readonly growth: number;
  private readonly logGrowth: number;
  private readonly counts: Float64Array;
  private total = 0;
  private weightedSum = 0;

  constructor(minValue = 0.01, maxValue = 1e8, growth = 1.005) {
    this.minValue = minValue;
    this.growth = growth;
    this.logGrowth = Math.log(growth);
    const buckets = Math.ceil(Math.log(maxValue / minValue) / this.logGrowth) + 2;
    this.counts = new Float64Array(buckets);
  }

  add(value: number, weight = 1): void {
    if (weight <= 0) return;
    const idx =
      value <= this.minValue
        ? 0
        : Math.min(this.counts.length - 1, 1 + Math.floor(Math.log(value / this.minValue) / this.logGrowth));
    this.counts[idx] = (this.counts[idx] as number) + weight;
    this.total += weight;
    this.weightedSum += value * weight;
  }

  get count(): number {
    return this.total;
  }

  mean(): number {
    return this.total > 0 ? this.weightedSum / this.total : NaN;
  }

  quantile(q: number): number {
    if (this.total === 0) return NaN;
    const target = q * this.total;
    let acc = 0;
    for (let i = 0; i < this.counts.length; i++) {
      acc += this.counts[i] as number;
      if (acc >= target && (this.counts[i] as number) > 0) {
        if (i === 0) return this.minValue;
        // geometric centre of the bucket
        return this.minValue * Math.pow(this.growth, i - 0.5);
      }
    }
    return this.minValue * Math.pow(this.growth, this.counts.length - 1);
  }

  summary(): Summary | null {
    if (this.total === 0) return null;
    return { mean: this.mean(), p50: this.quantile(0.5), p90: this.quantile(0.9), p99: this.quantile(0.99) };
  }
}

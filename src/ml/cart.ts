import type { TreeNodeJson } from './tree.js';

export interface CartOptions {
  maxDepth: number;
  /** best-first growth stops at this many leaves (readability and file size) */
  maxLeaves: number;
  minSamplesLeaf: number;
  /** candidate thresholds per feature (quantiles of the training values) */
  maxBins: number;
  /** fraction of features tried at each split (random forests); 1 = all */
  featureFraction?: number;
  /** random source for feature sampling; required when featureFraction < 1 */
  random?: () => number;
}

interface Candidate {
  node: TreeNodeJson;
  rows: Int32Array;
  depth: number;
  split: Split | null;
}

interface Split {
  feature: number;
  bin: number;
  gain: number;
}

/**
 * CART regression tree by histogram split search (SSE reduction over at most `maxBins` thresholds
 * per feature): O(rows x features) per level instead of ml-cart's O(rows^2). Emits ml-cart's JSON
 * (`x[splitColumn] < splitValue` goes left), so DecisionTreeRegression.load() reads the result.
 */
export function trainCart(columns: Float64Array[], y: Float64Array, rows: Int32Array, opts: CartOptions): TreeNodeJson {
  const binned = binFeatures(columns, rows, opts.maxBins);
  const root: TreeNodeJson = { distribution: meanOf(y, rows) };
  const frontier: Candidate[] = [];
  const consider = (node: TreeNodeJson, nodeRows: Int32Array, depth: number): void => {
    const split =
      depth < opts.maxDepth && nodeRows.length >= 2 * opts.minSamplesLeaf ? bestSplit(binned, y, nodeRows, opts) : null;
    frontier.push({ node, rows: nodeRows, depth, split });
  };
  consider(root, rows, 0);
  let leaves = 1;
  while (leaves < opts.maxLeaves) {
    let best = -1;
    for (let i = 0; i < frontier.length; i++) {
      const s = frontier[i]!.split;
      if (s && (best < 0 || s.gain > frontier[best]!.split!.gain)) best = i;
    }
    if (best < 0) break;
    const c = frontier.splice(best, 1)[0]!;
    const { feature, bin } = c.split!;
    const codes = binned.codes[feature]!;
    const left = c.rows.filter((r) => codes[r]! <= bin);
    const right = c.rows.filter((r) => codes[r]! > bin);
    const leftNode: TreeNodeJson = { distribution: meanOf(y, left) };
    const rightNode: TreeNodeJson = { distribution: meanOf(y, right) };
    delete c.node.distribution;
    c.node.splitColumn = feature;
    c.node.splitValue = binned.thresholds[feature]![bin]!;
    c.node.left = leftNode;
    c.node.right = rightNode;
    leaves++;
    consider(leftNode, left, c.depth + 1);
    consider(rightNode, right, c.depth + 1);
  }
  return root;
}

interface Binned {
  /** per feature: ascending thresholds; bin b holds values in [thresholds[b-1], thresholds[b]) */
  thresholds: Float64Array[];
  /** per feature: bin of every row (0..thresholds.length) */
  codes: Uint16Array[];
}

function binFeatures(columns: Float64Array[], rows: Int32Array, maxBins: number): Binned {
  const thresholds: Float64Array[] = [];
  const codes: Uint16Array[] = [];
  for (const col of columns) {
    const values = Float64Array.from(rows, (r) => col[r]!).sort();
    const distinct: number[] = [];
    for (let i = 0; i < values.length; i++) if (i === 0 || values[i] !== values[i - 1]) distinct.push(values[i]!);
    const t: number[] = [];
    if (distinct.length <= maxBins) {
      for (let i = 1; i < distinct.length; i++) t.push((distinct[i - 1]! + distinct[i]!) / 2);
    } else {
      for (let b = 1; b < maxBins; b++) {
        const i = Math.floor((b * values.length) / maxBins);
        const lo = values[i - 1]!;
        const hi = values[i]!;
        const mid = (lo + hi) / 2;
        if (hi > lo && (t.length === 0 || mid > t[t.length - 1]!)) t.push(mid);
      }
    }
    const th = Float64Array.from(t);
    const code = new Uint16Array(col.length);
    for (let r = 0; r < col.length; r++) code[r] = upperBound(th, col[r]!);
    thresholds.push(th);
    codes.push(code);
  }
  return { thresholds, codes };
}

/** number of thresholds <= x, i.e. the bin of x under the rule "x < threshold goes left" */
function upperBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (a[m]! <= x) lo = m + 1;
    else hi = m;
  }
  return lo;
}

function bestSplit(binned: Binned, y: Float64Array, rows: Int32Array, opts: CartOptions): Split | null {
  const n = rows.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += y[rows[i]!]!;
  let best: Split | null = null;
  const features = binned.codes.length;
  for (let f = 0; f < features; f++) {
    if (opts.featureFraction !== undefined && opts.featureFraction < 1 && opts.random!() >= opts.featureFraction)
      continue;
    const bins = binned.thresholds[f]!.length + 1;
    if (bins < 2) continue;
    const count = new Float64Array(bins);
    const sum = new Float64Array(bins);
    const codes = binned.codes[f]!;
    for (let i = 0; i < n; i++) {
      const r = rows[i]!;
      const b = codes[r]!;
      count[b] = count[b]! + 1;
      sum[b] = sum[b]! + y[r]!;
    }
    // SSE reduction of a split = nL*meanL^2 + nR*meanR^2 - n*mean^2 (the sum of squares cancels)
    let nl = 0;
    let sl = 0;
    for (let b = 0; b < bins - 1; b++) {
      nl += count[b]!;
      sl += sum[b]!;
      const nr = n - nl;
      if (nl < opts.minSamplesLeaf || nr < opts.minSamplesLeaf) continue;
      const sr = total - sl;
      const gain = (sl * sl) / nl + (sr * sr) / nr - (total * total) / n;
      if (gain > 1e-12 && (!best || gain > best.gain)) best = { feature: f, bin: b, gain };
    }
  }
  return best;
}

function meanOf(y: Float64Array, rows: Int32Array): number {
  let s = 0;
  for (let i = 0; i < rows.length; i++) s += y[rows[i]!]!;
  return rows.length ? s / rows.length : 0;
}

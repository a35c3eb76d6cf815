import { Rng } from '../shared/rng.js';
import { trainCart } from './cart.js';
import { flatten, walk, type FlatTree, type TreeNodeJson } from './tree.js';

export interface ForestOptions {
  trees: number;
  /** fraction of features tried at each split */
  featureFraction: number;
  minSamplesLeaf: number;
  maxDepth: number;
  seed: number;
}

export interface Forest {
  options: ForestOptions;
  roots: TreeNodeJson[];
  flat: FlatTree[];
}

/**
 * Random forest: every tree on a bootstrap sample, a random subset of features at every split
 * (Breiman's forest; ml-random-forest samples features once per tree), trees grown by the histogram
 * CART of cart.ts. Deterministic in `seed`.
 */
export function trainForest(columns: Float64Array[], y: Float64Array, opts: ForestOptions): Forest {
  const rng = new Rng(opts.seed, 0xf0e57);
  const n = y.length;
  const roots: TreeNodeJson[] = [];
  for (let k = 0; k < opts.trees; k++) {
    const sample = new Int32Array(n);
    for (let i = 0; i < n; i++) sample[i] = rng.int(n);
    roots.push(
      trainCart(columns, y, sample, {
        maxDepth: opts.maxDepth,
        maxLeaves: Number.MAX_SAFE_INTEGER,
        minSamplesLeaf: opts.minSamplesLeaf,
        maxBins: 256,
        featureFraction: opts.featureFraction,
        random: () => rng.next(),
      }),
    );
  }
  return { options: opts, roots, flat: roots.map(flatten) };
}

export function predictForest(forest: Forest, x: ArrayLike<number>): number {
  let s = 0;
  for (const t of forest.flat) s += walk(t, x);
  return s / forest.flat.length;
}

/**
 * The forest in ml-random-forest's JSON (RandomForestRegression.load reads it): every tree sees all
 * columns, estimators are ml-cart DecisionTreeRegression JSON.
 */
export function toMlRandomForestJson(forest: Forest, featureCount: number): unknown {
  const all = Array.from({ length: featureCount }, (_, i) => i);
  const treeOptions = {
    gainFunction: 'regression',
    splitFunction: 'mean',
    minNumSamples: forest.options.minSamplesLeaf,
    maxDepth: forest.options.maxDepth,
    kind: 'regression',
  };
  return {
    name: 'RFRegression',
    selectionMethod: 'mean',
    baseModel: {
      indexes: forest.roots.map(() => all),
      n: featureCount,
      replacement: false,
      maxFeatures: 1.0,
      nEstimators: forest.roots.length,
      treeOptions,
      isClassifier: false,
      seed: forest.options.seed,
      useSampleBagging: true,
      estimators: forest.roots.map((root) => ({ name: 'DTRegression', options: treeOptions, root })),
    },
  };
}

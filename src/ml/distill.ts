import type { Profile } from '../profiles/index.js';
import { parseScenario, resolveScenario } from '../twin/index.js';
import { trainCart } from './cart.js';
import { computeFeatures, featureCount } from './features.js';
import type { TreeJson, TreeNodeJson } from './tree.js';
import { workloadShape } from './workload-shape.js';
import { sampleWorkload } from './workload-sampler.js';

/**
 * Feature vectors of `size` sampled workloads (no simulation): the dense sample of the feature space
 * the teacher labels for distillation. Column-major, as the tree trainer wants it.
 */
export function denseSample(profile: Profile, seed: number, size: number): Float64Array[] {
  const columns = Array.from({ length: featureCount }, () => new Float64Array(size));
  const x = new Float64Array(featureCount);
  let filled = 0;
  for (let i = 0; filled < size; i++) {
    const raw = sampleWorkload(profile, seed, i);
    if (!raw) continue;
    computeFeatures(profile, workloadShape(resolveScenario(parseScenario(raw), profile)), x);
    for (let j = 0; j < featureCount; j++) columns[j]![filled] = x[j]!;
    filled++;
  }
  return columns;
}

export interface StudentSize {
  maxDepth: number;
  maxLeaves: number;
}

/** One CART fitted to teacher labels, as ml-cart JSON (classifier leaves hold [[P(0), P(1)]]). */
export function fitStudent(
  columns: Float64Array[],
  labels: Float64Array,
  size: StudentSize,
  kind: 'regression' | 'classifier',
): TreeJson {
  const all = Int32Array.from({ length: labels.length }, (_, i) => i);
  const root = trainCart(columns, labels, all, { ...size, minSamplesLeaf: 5, maxBins: 256 });
  const options = {
    kind,
    gainFunction: kind === 'regression' ? ('regression' as const) : ('gini' as const),
    splitFunction: 'mean' as const,
    minNumSamples: 5,
    maxDepth: size.maxDepth,
  };
  return {
    name: kind === 'regression' ? 'DTRegression' : 'DTClassifier',
    options,
    root: kind === 'classifier' ? asProbabilities(root) : root,
  };
}

function asProbabilities(node: TreeNodeJson): TreeNodeJson {
  if (node.left && node.right)
    return {
      splitColumn: node.splitColumn!,
      splitValue: node.splitValue!,
      left: asProbabilities(node.left),
      right: asProbabilities(node.right),
    };
  const p = Math.min(1, Math.max(0, node.distribution as number));
  return { distribution: [[1 - p, p]] };
}

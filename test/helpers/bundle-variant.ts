import { join } from 'node:path';
import { studentVersion, type PredictorBundle } from '../../src/ml/bundle.js';
import { readBundle } from '../../src/ml/bundle-store.js';
import { defaultPredictorsDir } from '../../src/ml/registry.js';

export const llamaBundleName = 'llama-3.1-8b-instruct@h100-64gb';

/** The embedded Llama bundle with its throughput leaf values scaled: another, consistent version. */
export function variant(scale: number): PredictorBundle {
  const base = readBundle(join(defaultPredictorsDir, llamaBundleName));
  const root = JSON.parse(JSON.stringify(base.trees.throughput.root), (k, v) =>
    k === 'distribution' && typeof v === 'number' ? v * scale : v,
  );
  const trees = { ...base.trees, throughput: { ...base.trees.throughput, root } };
  return { trees, metadata: { ...base.metadata, version: studentVersion(trees) } };
}

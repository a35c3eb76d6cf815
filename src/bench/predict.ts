import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import type { PredictorRegistry } from '../ml/registry.js';
import { denseSample } from '../ml/distill.js';
import { featureCount } from '../ml/features.js';
import { predictForest, toMlRandomForestJson, trainForest } from '../ml/forest.js';
import { compile, flatten, walk } from '../ml/tree.js';
import { median } from './twin.js';

export interface PredictBenchRow {
  profile: string;
  method: string;
  mode: 'single' | 'batched';
  nsPerPrediction: number;
  noise: number;
}

/**
 * Times `run` (which makes `count` predictions) `repeats` times after `warmups` untimed passes; ns per
 * prediction, median and noise. The tree evaluators get 50 warm-up passes (a million predictions, what a
 * busy service or one large placement makes): a compiled tree is hundreds of small functions, and V8
 * optimises each only after it has been called often enough.
 */
function time(run: () => number, count: number, repeats: number, warmups = 1): { ns: number; noise: number } {
  let sink = 0;
  for (let i = 0; i < warmups; i++) sink += run();
  const per: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    sink += run();
    per.push(((performance.now() - t0) * 1e6) / count);
  }
  if (sink === Number.MIN_VALUE) process.stdout.write(''); // keep the results alive
  const med = median(per);
  return { ns: med, noise: median(per.map((v) => Math.abs(v - med))) / med };
}

/** The reference libraries compared against (dev dependencies: only this table and the tests use them). */
interface ReferenceLibraries {
  cart: typeof import('ml-cart');
  forest: typeof import('ml-random-forest');
}

/** ml-cart and ml-random-forest, or null when they are not installed (e.g. npm install --omit=dev). */
function referenceLibraries(): ReferenceLibraries | null {
  const require = createRequire(import.meta.url);
  try {
    const cart = require('ml-cart') as ReferenceLibraries['cart'];
    const forest = require('ml-random-forest') as ReferenceLibraries['forest'];
    return { cart, forest };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null;
    throw err;
  }
}

const referenceMissing = 'ml-cart and ml-random-forest are not installed (dev dependencies): their rows are left out.';

/**
 * Prediction cost on feature vectors of sampled workloads: the served student (the flat-array walk:
 * throughput tree, and all seven trees with decoding), the branch-only compiled function, ml-cart's predict,
 * and a forest of the teacher's size (100 trees) through ml-random-forest and through our own walk. The
 * teacher is not shipped, so the forest is trained on the sample labelled by the student: same shape and
 * size, same cost. Without the two libraries installed, their rows are left out.
 */
export function benchPredict(registry: PredictorRegistry, samples: number, repeats: number): PredictBenchRow[] {
  const rows: PredictBenchRow[] = [];
  const reference = referenceLibraries();
  for (const p of registry.list()) {
    const name = `${p.profile.model}@${p.profile.gpu}`;
    const columns = denseSample(p.profile, 4242, samples);
    const xs = Array.from({ length: samples }, (_, i) => Float64Array.from(columns, (c) => c[i]!));
    const arrays = xs.map((x) => Array.from(x));
    const served = p.evaluators.throughput;
    const compiled = compile(p.bundle.trees.throughput, featureCount);
    const flat = flatten(p.bundle.trees.throughput.root);
    const add = (method: string, mode: 'single' | 'batched', r: { ns: number; noise: number }): void =>
      void rows.push({ profile: name, method, mode, nsPerPrediction: r.ns, noise: r.noise });
    const loop = (f: (x: Float64Array) => number) => () => {
      let s = 0;
      for (const x of xs) s += f(x);
      return s;
    };
    const warm = 50;
    add('served student: flat-array walk (throughput)', 'single', time(loop(served), samples, repeats, warm));
    add(
      'served student: all seven trees + decoding',
      'single',
      time(
        loop((x) => p.predictFeatures(x).throughput),
        samples,
        repeats,
        warm,
      ),
    );
    add('branch-only compiled function (throughput)', 'single', time(loop(compiled), samples, repeats, warm));
    add(
      'plain walk, fresh closure (reference)',
      'single',
      time(
        loop((x) => walk(flat, x)),
        samples,
        repeats,
        warm,
      ),
    );
    if (reference) {
      const cart = reference.cart.DecisionTreeRegression.load(p.bundle.trees.throughput);
      const cartRepeats = Math.min(repeats, 3);
      add(
        'ml-cart predict',
        'single',
        time(() => arrays.reduce((s, x) => s + cart.predict([x])[0]!, 0), samples, cartRepeats),
      );
      add(
        'ml-cart predict',
        'batched',
        time(() => cart.predict(arrays).reduce((s, v) => s + v, 0), samples, cartRepeats),
      );
    }
    const labels = Float64Array.from(xs, (x) => served(x));
    const forest = trainForest(columns, labels, {
      trees: 100,
      featureFraction: 0.5,
      minSamplesLeaf: 1,
      maxDepth: 24,
      seed: 1,
    });
    if (reference) {
      const rf = reference.forest.RandomForestRegression.load(toMlRandomForestJson(forest, featureCount) as never);
      const few = arrays.slice(0, Math.min(500, samples));
      const method = 'forest, 100 trees (ml-random-forest predict)';
      add(
        method,
        'single',
        time(() => few.reduce((s, x) => s + rf.predict([x])[0]!, 0), few.length, 3),
      );
      add(
        method,
        'batched',
        time(() => rf.predict(few).reduce((s, v) => s + v, 0), few.length, 3),
      );
    }
    add(
      'forest, 100 trees (flat walk)',
      'single',
      time(
        loop((x) => predictForest(forest, x)),
        samples,
        Math.min(repeats, 5),
      ),
    );
  }
  return rows;
}

export function formatPredictBench(rows: PredictBenchRow[], repeats: number): string {
  const lines = [
    'profile                            ' +
      'method                                          mode       ns/prediction   noise',
  ];
  for (const r of rows) {
    lines.push(
      `${r.profile.padEnd(34)} ${r.method.padEnd(47)} ${r.mode.padEnd(8)} ` +
        `${r.nsPerPrediction.toFixed(r.nsPerPrediction < 100 ? 1 : 0).padStart(15)}` +
        ` ${(100 * r.noise).toFixed(1).padStart(6)}%`,
    );
  }
  lines.push(
    `median over ${repeats} timed passes of 20,000 predictions (3 for ml-cart and ml-random-forest) after ` +
      'warm-up (50 passes for the student rows, 1 otherwise); noise = median absolute deviation / median.',
  );
  if (!rows.some((r) => r.method.startsWith('ml-cart'))) lines.push(referenceMissing);
  return lines.join('\n');
}

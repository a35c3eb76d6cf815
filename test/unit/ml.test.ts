import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecisionTreeClassifier, DecisionTreeRegression } from 'ml-cart';
import { RandomForestRegression } from 'ml-random-forest';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/shared/rng.js';
import { trainCart } from '../../src/ml/cart.js';
import { compile, flatten, treeStats, walk, TreeJson } from '../../src/ml/tree.js';
import { trainForest, predictForest, toMlRandomForestJson } from '../../src/ml/forest.js';
import { fitStudent } from '../../src/ml/distill.js';
import { computeFeatures, featureColumn, featureCount, featureNames } from '../../src/ml/features.js';
import { sampleWorkload } from '../../src/ml/workload-sampler.js';
import { appendLines, headerFor, openDataset, datasetHash } from '../../src/ml/dataset.js';
import { runSweep } from '../../src/training/sweep.js';
import { InlineSweepRunner } from '../../src/training/inline-sweep-runner.js';
import { classification, r2 } from '../../src/ml/metrics.js';
import { embeddedProfiles, kvCapacityTokens, memoryErrorReason } from '../../src/profiles/index.js';
import { parseScenario } from '../../src/twin/index.js';

const columnsOf = (rows: number[][]): Float64Array[] => rows[0]!.map((_, j) => Float64Array.from(rows, (r) => r[j]!));
const allRows = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);

describe('histogram CART', () => {
  const rng = new Rng(5);
  // integer-valued features: every threshold is a midpoint between two observed values
  const xs = Array.from({ length: 2000 }, () => [rng.int(10), rng.int(10), rng.next()]);
  const step = (x: number[]): number => (x[0]! < 3 ? 1 : x[1]! < 6 ? 5 : 9);
  const y = Float64Array.from(xs, step);

  it('recovers a step function and emits JSON that ml-cart loads and predicts identically', () => {
    const root = trainCart(columnsOf(xs), y, allRows(xs.length), {
      maxDepth: 4,
      maxLeaves: 8,
      minSamplesLeaf: 5,
      maxBins: 64,
    });
    const flat = flatten(root);
    for (const x of xs.slice(0, 200)) expect(walk(flat, x)).toBeCloseTo(step(x), 9);
    const json = TreeJson.parse({
      name: 'DTRegression',
      options: { kind: 'regression', gainFunction: 'regression', splitFunction: 'mean', minNumSamples: 5, maxDepth: 4 },
      root,
    });
    const cart = DecisionTreeRegression.load(json);
    expect(cart.predict(xs.slice(0, 50))).toEqual(xs.slice(0, 50).map((x) => walk(flat, x)));
  });

  it('respects the depth and leaf bounds', () => {
    const noisy = Float64Array.from(xs, (x) => x[0]! * x[1]! + x[2]!);
    const stats = treeStats(
      trainCart(columnsOf(xs), noisy, allRows(xs.length), {
        maxDepth: 5,
        maxLeaves: 20,
        minSamplesLeaf: 10,
        maxBins: 64,
      }),
    );
    expect(stats.leaves).toBe(20);
    expect(stats.depth).toBeLessThanOrEqual(5);
  });
});

describe('compiled trees', () => {
  const tree = TreeJson.parse({
    name: 'DTRegression',
    options: { kind: 'regression', gainFunction: 'regression', splitFunction: 'mean', minNumSamples: 3, maxDepth: 3 },
    root: {
      splitColumn: 1,
      splitValue: 0.5,
      left: { distribution: -2.5 },
      right: { splitColumn: 0, splitValue: 1e-7, left: { distribution: 0.1 }, right: { distribution: 3 } },
    },
  });

  it('agree with the plain walk and with ml-cart on every input', () => {
    const f = compile(tree, 2);
    const flat = flatten(tree.root);
    const cart = DecisionTreeRegression.load(tree);
    const rng = new Rng(2);
    for (let i = 0; i < 500; i++) {
      const x = [rng.next() * 2e-7, rng.next()];
      expect(f(x)).toBe(walk(flat, x));
      expect(f(x)).toBe(cart.predict([x])[0]);
    }
  });

  it('refuse tampered models instead of evaluating them', () => {
    const bad = (root: unknown) => ({ ...tree, root });
    expect(() =>
      compile(
        bad({ splitColumn: 9, splitValue: 1, left: { distribution: 0 }, right: { distribution: 1 } }) as TreeJson,
        2,
      ),
    ).toThrow(/split column 9/);
    expect(() =>
      compile(
        bad({
          splitColumn: 0,
          splitValue: '1) || process.exit(1',
          left: { distribution: 0 },
          right: { distribution: 1 },
        }) as TreeJson,
        2,
      ),
    ).toThrow();
    expect(() => compile(bad({ distribution: Number.NaN }) as TreeJson, 2)).toThrow();
    expect(() => compile(bad({ distribution: 1, code: 'x' }) as TreeJson, 2)).toThrow();
  });

  it('stores classifier leaves as ml-cart class distributions', () => {
    const xs = Array.from({ length: 300 }, (_, i) => [i / 300]);
    const student = fitStudent(
      columnsOf(xs),
      Float64Array.from(xs, (x) => (x[0]! > 0.6 ? 0.9 : 0.1)),
      { maxDepth: 3, maxLeaves: 4 },
      'classifier',
    );
    expect(student.name).toBe('DTClassifier');
    const cart = DecisionTreeClassifier.load(student);
    expect(cart.predict([[0.1], [0.9]])).toEqual([0, 1]);
    expect(compile(student, 1)([0.9])).toBeCloseTo(0.9, 9);
  });
});

describe('teacher forest', () => {
  const rng = new Rng(8);
  const xs = Array.from({ length: 600 }, () => [rng.next(), rng.next(), rng.next()]);
  const truth = (x: number[]): number => Math.sin(6 * x[0]!) + x[1]! * x[1]!;
  const y = Float64Array.from(xs, (x) => truth(x) + 0.3 * rng.normal());
  const opts = { trees: 30, featureFraction: 0.7, minSamplesLeaf: 3, maxDepth: 12, seed: 4 };

  it('is deterministic for a seed and loads into ml-random-forest with identical predictions', () => {
    const a = trainForest(columnsOf(xs), y, opts);
    const b = trainForest(columnsOf(xs), y, opts);
    expect(JSON.stringify(a.roots)).toBe(JSON.stringify(b.roots));
    const rf = RandomForestRegression.load(toMlRandomForestJson(a, 3) as never);
    const probe = xs.slice(0, 20);
    rf.predict(probe).forEach((v, i) => {
      expect(v).toBeCloseTo(predictForest(a, probe[i]!), 12);
    });
  });

  it('beats a single deep tree on noisy data', () => {
    const test = Array.from({ length: 400 }, () => [rng.next(), rng.next(), rng.next()]);
    const forest = trainForest(columnsOf(xs), y, opts);
    const single = flatten(
      trainCart(columnsOf(xs), y, allRows(xs.length), {
        maxDepth: 12,
        maxLeaves: 1e9,
        minSamplesLeaf: 1,
        maxBins: 256,
      }),
    );
    const mse = (f: (x: number[]) => number) => test.reduce((s, x) => s + (f(x) - truth(x)) ** 2, 0) / test.length;
    expect(mse((x) => predictForest(forest, x))).toBeLessThan(0.7 * mse((x) => walk(single, x)));
  });
});

describe('features', () => {
  const profile = embeddedProfiles().get('llama-3.1-8b-instruct', 'h100-64gb');
  it('computes the research seven and the load indicators by their definitions', () => {
    const x = computeFeatures(profile, {
      rates: [1, 2, 3],
      ranks: [8, 16, 32],
      slots: 2,
      servedAdapters: 3,
      maxLoraRank: 32,
      inputMean: 200,
      outputMean: 100,
      kvCacheTokens: 250_000,
      maxNumBatchedTokens: 2048,
      maxNumSeqs: 256,
    });
    const f = (name: (typeof featureNames)[number]) => x[featureColumn[name]]!;
    expect(x).toHaveLength(featureCount);
    expect(f('sum_rate')).toBe(6);
    expect(f('std_rate')).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(f('max_rank')).toBe(32);
    expect(f('mean_rank')).toBeCloseTo(56 / 3, 12);
    expect(f('std_rank')).toBeCloseTo(Math.sqrt((64 + 256 + 1024) / 3 - (56 / 3) ** 2), 9);
    expect(f('adapter_slots')).toBe(2);
    expect(f('served_adapters')).toBe(3);
    expect(f('demand_tokens_per_s')).toBe(1800);
    expect(f('top_slots_rate_share')).toBeCloseTo(5 / 6, 12);
    expect(f('effective_adapters')).toBeCloseTo(36 / 14, 12);
    expect(f('load')).toBeCloseTo(1800 / f('capacity_tokens_per_s'), 12);
    expect(f('capacity_tokens_per_s')).toBeGreaterThan(5_000);
    expect(f('capacity_tokens_per_s')).toBeLessThan(40_000);
  });

  it('names every column in vector order (the stored trees split on these numbers)', () => {
    expect(Object.keys(featureColumn)).toEqual([...featureNames]);
    featureNames.forEach((name, column) => {
      expect(featureColumn[name]).toBe(column);
    });
    expect(featureColumn.demand_tokens_per_s).toBe(9);
    expect(Object.isFrozen(featureColumn)).toBe(true);
  });
});

describe('workload sampler', () => {
  const profile = embeddedProfiles().get('llama-3.1-8b-instruct', 'h100-64gb');
  it('is deterministic and only proposes settings vLLM can start', () => {
    expect(sampleWorkload(profile, 3, 17)).toEqual(sampleWorkload(profile, 3, 17));
    expect(sampleWorkload(profile, 3, 17)).not.toEqual(sampleWorkload(profile, 3, 18));
    const served: number[] = [];
    for (let i = 0; i < 150; i++) {
      const w = sampleWorkload(profile, 3, i);
      if (!w) continue;
      const s = parseScenario(w);
      served.push(s.adapters.length);
      const rank = s.engine.maxLoraRank!;
      const slots = s.engine.maxLoras!;
      expect(memoryErrorReason(profile, kvCapacityTokens(profile, slots, rank), slots, rank)).toBeNull();
      expect(s.engine.maxLoras).toBeLessThanOrEqual(s.engine.maxCpuLoras!);
      expect(s.engine.maxLoras).toBeLessThanOrEqual(4 * s.adapters.length);
      expect(s.engine.maxNumSeqs!).toBeLessThanOrEqual(s.engine.maxNumBatchedTokens!);
    }
    expect(Math.min(...served)).toBeLessThan(8);
    expect(Math.max(...served)).toBeGreaterThan(500);
  });
});

describe('sweep dataset', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-ds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const row = (index: number) => ({
    index,
    features: new Array(featureCount).fill(index),
    throughput: 10,
    idealThroughput: 11,
    itlMs: 20,
    ttftMs: null,
    ttftP99Ms: null,
    itlP99Ms: 30,
    worstAdapterTtftMs: null,
    starved: false,
    wallMs: 5,
  });
  const header = headerFor('m', 'g', 1, 'p');
  /** every line of the file must be JSON (the header, then rows): what a later open would demand */
  const parsedLines = (file: string): { index?: number }[] => {
    const text = readFileSync(file, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    return text
      .slice(0, -1)
      .split('\n')
      .map((l) => JSON.parse(l));
  };

  it('resumes: keeps rows and infeasible markers, drops a truncated last line, refuses another sweep', () => {
    const file = join(dir, 'a.jsonl');
    expect(openDataset(file, header).rows).toEqual([]);
    appendLines(file, [row(2), { index: 5, infeasible: true }, row(0)]);
    appendFileSync(file, '{"index": 7, "feat');
    const again = openDataset(file, header);
    expect(again.rows.map((r) => r.index)).toEqual([0, 2]);
    expect([...again.done].sort()).toEqual([0, 2, 5]);
    expect(() => openDataset(file, headerFor('m', 'g', 2, 'p'))).toThrow(/another sweep/);
    expect(() => openDataset(file, headerFor('m', 'g', 1, 'other profile'))).toThrow(/another sweep/);
    expect(datasetHash(again.rows)).toBe(datasetHash([row(0), { ...row(2), wallMs: 999 }]));
  });

  it('cuts a torn last line off the file on resume, so rows appended after it parse, each once', () => {
    const file = join(dir, 'torn.jsonl');
    openDataset(file, header);
    appendLines(file, [row(0), row(1)]);
    const whole = JSON.stringify(row(2));
    appendFileSync(file, whole.slice(0, whole.length >> 1));
    const resumed = openDataset(file, header);
    expect(resumed.rows.map((r) => r.index)).toEqual([0, 1]);
    appendLines(file, [row(2), row(3)]);
    expect(
      parsedLines(file)
        .slice(1)
        .map((l) => l.index),
    ).toEqual([0, 1, 2, 3]);
    expect(openDataset(file, header).rows.map((r) => r.index)).toEqual([0, 1, 2, 3]);
  });

  it(
    'cuts a last row whose newline was never written (it is simulated again), ' + 'and keeps a file that ends cleanly',
    () => {
      const file = join(dir, 'no-newline.jsonl');
      openDataset(file, header);
      appendLines(file, [row(0)]);
      appendFileSync(file, JSON.stringify(row(1)));
      expect([...openDataset(file, header).done]).toEqual([0]);
      const clean = readFileSync(file, 'utf8');
      expect(clean).toBe(`${JSON.stringify(header)}\n${JSON.stringify(row(0))}\n`);
      openDataset(file, header);
      expect(readFileSync(file, 'utf8')).toBe(clean);
    },
  );

  it('a resumed sweep appends after the cut: the dataset holds every workload once', async () => {
    const profiles = embeddedProfiles();
    const profile = profiles.get('qwen-2.5-7b-instruct', 'h100-64gb');
    const file = join(dir, 'sweep.jsonl');
    const sweep = (rows: number) =>
      runSweep({ profile, seed: 3, rows, datasetFile: file, runner: new InlineSweepRunner(profiles), progress: false });
    await sweep(4);
    appendFileSync(file, '{"index": 4, "features": [0.');
    const rows = await sweep(8);
    const indices = parsedLines(file)
      .slice(1)
      .map((l) => l.index!)
      .sort((x, y) => x - y);
    expect(indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(rows.map((r) => r.index)).size).toBe(rows.length);
    expect((await sweep(8)).map((r) => r.index)).toEqual(rows.map((r) => r.index));
  });

  it('names a corrupt line in the middle, and leaves the file as it was', () => {
    const file = join(dir, 'b.jsonl');
    const text = `${JSON.stringify(header)}\nnot json\n${JSON.stringify(row(1))}\n{"torn`;
    writeFileSync(file, text);
    expect(() => openDataset(file, header)).toThrow(/line 2: not JSON/);
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('names the file when line 1 is not JSON (a dataFile error, not a SyntaxError)', () => {
    const file = join(dir, 'c.jsonl');
    writeFileSync(file, `garbage{\n${JSON.stringify(row(1))}\n`);
    expect(() => openDataset(file, header)).toThrow(
      expect.objectContaining({
        code: 'LP_ERR_DATA_FILE',
        message: expect.stringMatching(/c\.jsonl line 1: not JSON/),
      }),
    );
  });
});

describe('metrics', () => {
  it('computes macro-F1 and R2', () => {
    const s = classification([true, true, false, false, false], [true, false, false, false, true]);
    expect(s.accuracy).toBeCloseTo(0.6, 12);
    // F1(starved) = 2/(2+1+1) = 0.5; F1(not) = 4/(4+1+1) = 2/3
    expect(s.macroF1).toBeCloseTo((0.5 + 2 / 3) / 2, 12);
    expect(r2([1, 2, 3], [1, 2, 3])).toBe(1);
    expect(r2([1, 2, 3], [2, 2, 2])).toBe(0);
  });
});

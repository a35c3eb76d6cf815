import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DecisionTreeClassifier, DecisionTreeRegression } from 'ml-cart';
import { describe, expect, it } from 'vitest';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { PredictorRegistry, defaultPredictorsDir } from '../../src/ml/registry.js';
import { studentVersion } from '../../src/ml/bundle.js';
import { denseSample } from '../../src/ml/distill.js';
import { featureCount, featureNames } from '../../src/ml/features.js';
import { targetNames } from '../../src/ml/targets.js';
import { compile, flatten, walk } from '../../src/ml/tree.js';
import { Prediction } from '../../src/ml/prediction.js';
import { parseScenario } from '../../src/twin/index.js';
import { AppError } from '../../src/shared/errors.js';
import { predictorKeys } from '../helpers/embedded-profiles.js';

const registry = PredictorRegistry.fromDirectory(embeddedProfiles());

describe('shipped predictors', () => {
  it('exist for the calibrated profiles and the two built H100 80 GB ones, with consistent metadata', () => {
    expect(
      registry
        .list()
        .map((p) => `${p.profile.model}@${p.profile.gpu}`)
        .sort(),
    ).toEqual(predictorKeys);
    for (const p of registry.list()) {
      expect(p.bundle.metadata.features).toEqual([...featureNames]);
      expect(p.version).toBe(studentVersion(p.bundle.trees));
      for (const t of targetNames) {
        const bytes = statSync(join(defaultPredictorsDir, `${p.profile.model}@${p.profile.gpu}`, `${t}.json`)).size;
        expect(bytes).toBeLessThan(1_000_000);
        expect(p.bundle.metadata.students[t]!.depth).toBeLessThanOrEqual(12);
      }
    }
  });

  it('serve, and compile to branch-only functions, exactly what the plain walk and ml-cart answer', () => {
    for (const p of registry.list()) {
      const columns = denseSample(p.profile, 77, 400);
      for (const t of targetNames) {
        const tree = p.bundle.trees[t];
        const flat = flatten(tree.root);
        const cart =
          tree.name === 'DTRegression' ? DecisionTreeRegression.load(tree) : DecisionTreeClassifier.load(tree);
        const compiled = compile(tree, featureCount);
        for (let i = 0; i < 400; i++) {
          const x = Array.from({ length: featureCount }, (_, j) => columns[j]![i]!);
          const v = p.evaluators[t](x);
          expect(v).toBe(walk(flat, x));
          expect(compiled(x)).toBe(v);
          const ml = cart.predict([x])[0]!;
          if (tree.name === 'DTRegression') expect(ml).toBe(v);
          else expect(ml).toBe(v >= 0.5 ? 1 : 0);
        }
      }
    }
  });

  it('answer memoryError for settings vLLM cannot start, never a throughput', () => {
    const p = registry.get('llama-3.1-8b-instruct', 'h100-64gb');
    const answer = Prediction.parse(
      p.predict(
        parseScenario({
          model: 'llama-3.1-8b-instruct',
          gpu: 'h100-64gb',
          engine: { maxLoras: 128 },
          adapters: [{ id: 'a', rank: 32, rate: 1 }],
        }),
      ),
    );
    expect(answer.memoryError).toBe(true);
    expect(answer.memoryErrorReason).toMatch(/max_model_len/);
    expect(answer.throughput).toBeNull();
    expect(answer.starved).toBeNull();
  });

  it('predict more throughput for more demand while the server keeps up, and starvation when it cannot', () => {
    const p = registry.get('qwen-2.5-7b-instruct', 'h100-64gb');
    const at = (rate: number) =>
      p.predict(
        parseScenario({
          model: 'qwen-2.5-7b-instruct',
          gpu: 'h100-64gb',
          engine: { maxLoras: 16 },
          adapters: Array.from({ length: 32 }, (_, i) => ({ id: `a${i}`, rank: 16, rate })),
        }),
      );
    const low = at(0.05);
    const mid = at(0.2);
    const flood = at(5);
    expect(mid.throughput!).toBeGreaterThan(2 * low.throughput!);
    expect(low.starved).toBe(false);
    expect(flood.starved).toBe(true);
    expect(flood.throughput!).toBeLessThan(0.9 * flood.idealThroughput);
  });

  it('answers 404-style for an unknown model', () => {
    expect(() => registry.get('nope', 'h100-64gb')).toThrow(AppError);
  });
});

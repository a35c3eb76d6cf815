import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { InlineSweepRunner } from '../../src/training/inline-sweep-runner.js';
import { trainPredictors } from '../../src/training/train.js';
import { bundleFiles, PredictorMetadata } from '../../src/ml/bundle.js';
import { readBundle, writeFlatBundle } from '../../src/ml/bundle-store.js';
import { Predictor } from '../../src/ml/predictor.js';
import { targetNames } from '../../src/ml/targets.js';
import { parseScenario } from '../../src/twin/index.js';

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-train-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('training pipeline (small)', () => {
  const profiles = embeddedProfiles();
  const profile = profiles.get('qwen-2.5-7b-instruct', 'h100-64gb');
  const train = (datasetFile: string) =>
    trainPredictors({
      profile,
      seed: 3,
      workloads: 40,
      datasetFile,
      runner: new InlineSweepRunner(profiles),
      realRunsFile: null,
      created: '2026-01-01T00:00:00.000Z',
      progress: false,
      log: () => {},
      denseSamples: 3000,
      teacherTrees: 8,
    });

  it('is reproducible byte for byte, also when the sweep resumes from its dataset file', async () => {
    const first = await train(join(dir, 'a.jsonl'));
    const fresh = await train(join(dir, 'b.jsonl'));
    const resumed = await train(join(dir, 'a.jsonl'));
    expect([...bundleFiles(fresh)]).toEqual([...bundleFiles(first)]);
    expect([...bundleFiles(resumed)]).toEqual([...bundleFiles(first)]);
    const m = PredictorMetadata.parse(first.metadata);
    expect(m.dataset.workloads).toBe(40);
    expect(m.dataset.rows).toBeGreaterThan(30);
    expect(m.metrics.realRuns).toBeNull();
    for (const t of targetNames) expect(m.students[t]!.leaves).toBeGreaterThan(1);

    writeFlatBundle(join(dir, 'out'), first);
    const loaded = readBundle(join(dir, 'out'));
    expect(loaded).toEqual(first);
    const predictor = new Predictor(profile, loaded);
    const p = predictor.predict(
      parseScenario({
        model: profile.model,
        gpu: profile.gpu,
        engine: { maxLoras: 8 },
        adapters: [{ id: 'a', rank: 8, rate: 1 }],
      }),
    );
    expect(p.memoryError).toBe(false);
    expect(p.throughput).toBeGreaterThan(0);
    expect(p.modelVersion).toBe(m.version);
  }, 120_000);
});

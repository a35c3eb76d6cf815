import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatasetRow } from '../../src/ml/dataset.js';
import { sweepRow } from '../../src/ml/sweep-row.js';
import { embeddedProfiles } from '../../src/profiles/index.js';
import { AppError } from '../../src/shared/errors.js';
import { InlineSweepRunner } from '../../src/training/inline-sweep-runner.js';
import { runSweep } from '../../src/training/sweep.js';
import sweepBatchTask from '../../src/training/sweep-batch.worker.js';
import {
  checkBatchResult,
  maxBatchRows,
  openSweepBatch,
  sweepBatch,
  type SweepBatch,
} from '../../src/training/sweep-batch.js';
import type { SweepJob, SweepRunner } from '../../src/training/sweep-runner.js';

// The unit of work of the sweep queue (src/training/sweep-batch.ts): a worker checks a batch before it
// simulates anything, and the caller checks a result against the batch it answers.

const profile = embeddedProfiles().get('qwen-2.5-7b-instruct', 'h100-64gb');
const dir = mkdtempSync(join(tmpdir(), 'lora-placer-sweep-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const refusal = (data: unknown): string => {
  try {
    openSweepBatch(data);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('LP_ERR_INVALID_INPUT');
    return (err as AppError).message;
  }
  throw new Error('the batch was accepted');
};

describe('a sweep batch', () => {
  it('carries its profile: a worker opens it to the same profile, seed, indices, and computes the local rows', () => {
    const batch = sweepBatch(profile, 7, [3, 4, 9]);
    const opened = openSweepBatch(JSON.parse(JSON.stringify(batch)));
    expect(opened.profile).toEqual(profile);
    expect(opened).toMatchObject({ seed: 7, indices: [3, 4, 9] });
    const rows = sweepBatchTask(opened);
    expect(rows.map((r) => r.index)).toEqual([3, 4, 9]);
    for (const row of rows) {
      const local = sweepRow(profile, 7, row.index);
      if (local === null) expect(row).toEqual({ index: row.index, infeasible: true });
      else expect({ ...row, wallMs: 0 }).toEqual({ ...local, wallMs: 0 });
    }
  });

  it('is refused when its profile does not hash to the profileSha256 of its header', () => {
    const batch = sweepBatch(profile, 1, [0]);
    const tampered = JSON.parse(batch.profile) as typeof profile;
    tampered.frontend.ttftOverheadMs += 1;
    const message = refusal({ ...batch, profile: JSON.stringify(tampered) });
    expect(message).toMatch(/hashes to [0-9a-f]{64}, not to the profileSha256 [0-9a-f]{64}/);
    expect(message).toContain(batch.header.profileSha256);
  });

  it('is refused when it asks for rows this code computes differently (sampler, features, labels)', () => {
    const batch = sweepBatch(profile, 1, [0]);
    for (const header of [
      { ...batch.header, sampler: batch.header.sampler + 1 },
      { ...batch.header, features: batch.header.features.slice(1) },
      { ...batch.header, labels: (batch.header.labels ?? 1) + 1 },
      { ...batch.header, model: 'llama-3.1-8b-instruct' },
    ]) {
      expect(refusal({ ...batch, header })).toMatch(/run the same version of lora-placer on both sides/);
    }
  });

  it('is refused, naming the field, when it is not a batch, its indices repeat, or it asks for too many rows', () => {
    const batch = sweepBatch(profile, 1, [0, 1]);
    expect(refusal({ hello: 'world' })).toMatch(/invalid sweep batch/);
    expect(refusal({ ...batch, profile: '{not json' })).toMatch(/its profile is not JSON/);
    expect(refusal({ ...batch, profile: JSON.stringify({ model: 'x' }) })).toMatch(/sweep batch profile/);
    expect(refusal({ ...batch, indices: [1, 1] })).toMatch(/indices must ascend, each once/);
    expect(refusal({ ...batch, indices: [2, 1] })).toMatch(/indices must ascend/);
    const tooMany = Array.from({ length: maxBatchRows + 1 }, (_, i) => i);
    expect(refusal({ ...batch, indices: tooMany })).toMatch(/indices/);
    expect(refusal({ ...batch, extra: 1 } as SweepBatch)).toMatch(/invalid sweep batch/);
  });
});

describe("a sweep batch's result", () => {
  const row = (index: number): DatasetRow => ({ ...sweepRow(profile, 1, 0)!, index });

  it('gives every asked index once, infeasible ones as null', () => {
    const rows = checkBatchResult([4, 5], { rows: [{ index: 5, infeasible: true }, row(4)] });
    expect([...rows.keys()].sort()).toEqual([4, 5]);
    expect(rows.get(5)).toBeNull();
    expect(rows.get(4)?.index).toBe(4);
  });

  it('is refused when it misses, repeats or adds a row, is not rows, or is over its size bound', () => {
    const refused = (indices: number[], value: unknown): string => {
      try {
        checkBatchResult(indices, value);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('the result was accepted');
    };
    expect(refused([4, 5], { rows: [row(4)] })).toMatch(/1 rows of the 2 asked for/);
    expect(refused([4], { rows: [row(4), row(4)] })).toMatch(/row 4, not asked for or twice/);
    expect(refused([4], { rows: [row(9)] })).toMatch(/row 9, not asked for/);
    expect(refused([4], { rows: [{ index: 4 }] })).toMatch(/not a list of dataset rows/);
    expect(refused([4], { rows: [row(4)], padding: 'x'.repeat(10_000) })).toMatch(/over its bound/);
  });
});

describe('runSweep', () => {
  it('keeps one row per index when a runner reports an index twice (a job run again)', async () => {
    const inline = new InlineSweepRunner(embeddedProfiles());
    // the local runner, each row reported twice, as a queue would after a worker died past its result
    const twice: SweepRunner = {
      run: (jobs, onRow, signal) =>
        inline.run(
          jobs,
          (job: SweepJob, row) => {
            onRow(job, row);
            onRow(job, row);
          },
          signal,
        ),
      close: () => inline.close(),
    };
    const file = join(dir, 'twice.jsonl');
    const rows = await runSweep({ profile, seed: 2, rows: 6, datasetFile: file, runner: twice, progress: false });
    expect(rows.map((r) => r.index)).toEqual([...new Set(rows.map((r) => r.index))]);
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    const indices = lines.map((l) => (JSON.parse(l) as { index: number }).index).sort((a, b) => a - b);
    expect(indices).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe('the queued batches of a sweep', () => {
  it('keep profiles of one model and GPU apart by tensor-parallel size, each batch carrying its own', async () => {
    const { ProfileStore } = await import('../../src/profiles/index.js');
    const { sweepBatches } = await import('../../src/training/queue-sweep-runner.js');
    const tp2 = { ...profile, tensorParallelSize: 2, description: 'the same card, two per server' };
    const store = new ProfileStore([profile, tp2]);
    const job = (index: number, tensorParallelSize?: number): SweepJob => ({
      model: profile.model,
      gpu: profile.gpu,
      seed: 1,
      index,
      ...(tensorParallelSize ? { tensorParallelSize } : {}),
    });
    const batches = sweepBatches([job(0), job(1, 2), job(2), job(3, 2), job(4, 2)], store, 2, 'run');
    const opened = batches.map((b) => openSweepBatch(JSON.parse(JSON.stringify(b.data))));
    expect(opened.map((b) => [b.profile.tensorParallelSize ?? 1, b.indices])).toEqual([
      [1, [0, 2]],
      [2, [1, 3]],
      [2, [4]],
    ]);
    expect(batches.map((b) => b.id)).toEqual(['run-0', 'run-1', 'run-2']);
  });

  it('a store built in memory runs in this thread: worker threads could not read its profiles', async () => {
    const { ProfileStore } = await import('../../src/profiles/index.js');
    const { LocalSweepRunner, localSweepRunner } = await import('../../src/training/local-sweep-runner.js');
    const store = new ProfileStore([profile]);
    const runner = localSweepRunner(2, store);
    expect(runner).toBeInstanceOf(InlineSweepRunner);
    await runner.close();
    expect(() => new LocalSweepRunner(2, store)).toThrow(/built in memory/);
  });
});

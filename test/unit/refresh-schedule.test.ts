import { describe, expect, it } from 'vitest';
import { RefreshManager, type RefreshJob } from '../../src/jobs/refresh.js';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { embeddedProfiles } from '../../src/profiles/index.js';

describe('periodic refresh and shutdown', () => {
  it('starts refreshes on the schedule, and close() stops the running one, leaving the model served', async () => {
    const predictors = PredictorRegistry.fromDirectory(embeddedProfiles());
    const before = predictors.list().map((p) => p.version);
    const finished: RefreshJob[] = [];
    const manager = new RefreshManager({
      predictors,
      modelsDir: null,
      workloads: 5000,
      threads: 1,
      seed: 3,
      onFinished: (j) => finished.push(j),
    });
    manager.schedule(0.05);
    while ((await manager.list()).length === 0) await new Promise((r) => setTimeout(r, 20));
    const job = (await manager.list())[0]!;
    expect(job).toMatchObject({ trigger: 'schedule', state: 'running', model: 'llama-3.1-8b-instruct' });
    await manager.close();
    const ended = await manager.get(job.id);
    expect(ended.state).toBe('failed');
    expect(ended.error).toMatch(/shutting down/);
    expect(finished.map((j) => j.id)).toEqual([job.id]);
    expect(finished[0]).toEqual(ended);
    expect(manager.isRunning()).toBe(false);
    expect(predictors.list().map((p) => p.version)).toEqual(before);
    // no refresh starts after close()
    await new Promise((r) => setTimeout(r, 200));
    expect(await manager.list()).toHaveLength(1);
  });
});

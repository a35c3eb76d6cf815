import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { twinOnly, twinOnlyProfileDir, twinOnlyWorkload } from '../helpers/twin-only-profile.js';
import { cli as runCli } from '../helpers/cli.js';

// Profiles from --profiles / PROFILES_DIR through the CLI, and place for a profile without predictors.

const fixture = twinOnlyProfileDir();
afterAll(() => fixture.remove());

// only the profiles a case names: a PROFILES_DIR of the environment would add others
const cli = (args: string[], input?: string, env: Record<string, string> = {}) =>
  runCli(args, { input, env: { PROFILES_DIR: '', ...env }, timeoutMs: 120_000 });

describe('lora-placer with a profile directory', () => {
  it('lists the profiles of --profiles with their file and whether they have predictors', () => {
    const r = cli(['profiles', '--json', '--profiles', fixture.dir]);
    expect(r.status).toBe(0);
    const listed = JSON.parse(r.stdout).profiles as { model: string; file: string; hasPredictors: boolean }[];
    expect(listed.find((p) => p.model === twinOnly.model)).toMatchObject({ file: fixture.file, hasPredictors: false });
    const text = cli(['profiles'], undefined, { PROFILES_DIR: fixture.dir });
    expect(text.stdout).toMatch(/llama-twin-only@h100-64gb .*no predictors: the Twin answers \(slower\)/);
    const without = cli(['profiles', '--json']);
    expect(JSON.parse(without.stdout).profiles.map((p: { model: string }) => p.model)).not.toContain(twinOnly.model);
  });

  it('places a workload of it with the Twin alone, the same answer for the same seed', () => {
    const input = JSON.stringify(twinOnlyWorkload());
    const runs = [
      cli(['place', '--profiles', fixture.dir], input),
      cli(['place'], input, { PROFILES_DIR: fixture.dir }),
    ];
    for (const r of runs) expect(r.status, r.stderr).toBe(0);
    const [a, b] = runs.map((r) => JSON.parse(r.stdout));
    expect(a).toMatchObject({ model: twinOnly.model, estimator: 'twin', unplaced: [] });
    expect(a.twinEstimate.runs).toBeGreaterThan(0);
    expect(b.gpus).toEqual(a.gpus);
    expect(b.twinEstimate.simulatedRequests).toBe(a.twinEstimate.simulatedRequests);
  });

  it('verifies its GPUs on worker threads that read the same directory', () => {
    const w = twinOnlyWorkload({ verify: true, options: { verifyDurationS: 120 } });
    const r = cli(['place', '--workers', '2', '--profiles', fixture.dir, '--quiet'], JSON.stringify(w));
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.verification.simulatedGpus).toBeGreaterThanOrEqual(p.gpuCount);
    for (const g of p.gpus) expect(g.verified.memoryError).toBeNull();
  });

  it('simulates and predicts it; without the directory it is unknown (exit 2)', () => {
    const scenario = JSON.stringify({
      ...twinOnly,
      engine: { maxLoras: 2 },
      adapters: [{ id: 'a', rank: 8, rate: 1 }],
      durationS: 60,
    });
    const sim = cli(['simulate', '--profiles', fixture.dir], scenario);
    expect(sim.status, sim.stderr).toBe(0);
    expect(JSON.parse(sim.stdout).completedRequests).toBeGreaterThan(20);
    const predicted = cli(['predict', '--profiles', fixture.dir], scenario);
    expect(predicted.status, predicted.stderr).toBe(0);
    expect(JSON.parse(predicted.stdout)).toMatchObject({ estimator: 'twin', memoryError: false });
    const unknown = cli(['simulate'], scenario);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no profile for model "llama-twin-only"');
    const missing = cli(['simulate', '--profiles', join(fixture.dir, 'nowhere')], scenario);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read profiles directory');
  });

  it('names the model by the profile when asked by its Hugging Face id', () => {
    const f = join(fixture.dir, 'hf-workload.json');
    writeFileSync(f, JSON.stringify(twinOnlyWorkload({ model: 'meta-llama/Llama-3.1-8B-Instruct' })));
    const r = cli(['place', f]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ model: 'llama-3.1-8b-instruct', estimator: 'predictors' });
  });
});

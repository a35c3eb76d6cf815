import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kvCapacityTokens, kvCapacityWithoutLora, type Profile } from '../../src/profiles/index.js';
import type { ServerSettings } from '../../src/refit/bench-run.js';
import { fitKvCapacity } from '../../src/refit/fit-kv.js';
import { loadBench } from '../../src/refit/load-bench.js';
import { replayRun } from '../../src/refit/replay.js';
import { observeSteps } from '../../src/refit/step-observations.js';
import { twinBenchFiles, writeBenchFiles } from '../../src/refit/write-bench.js';
import { AppError } from '../../src/shared/errors.js';
import { parseScenario, type Scenario, simulateParsed } from '../../src/twin/index.js';
import { loraProfile } from '../helpers/profile.js';

// Servers without --enable-lora in calibrate --bench's files and replays are the Twin's servers without LoRA
// (engine.enableLora false, base-model traffic): no LoRA cost in a step, the KV capacity without LoRA.

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-bench-no-lora-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// a context term too: the step costs below count the context tokens
const contextProfile = () => loraProfile({ base: { perContextKiloTokenMs: 0.2 }, lora: { rankTileFactor: 0 } });

const plain: Omit<Scenario, 'model' | 'gpu'> = {
  engine: { enableLora: false },
  baseModel: { rate: 4, inputTokens: { mean: 200 }, outputTokens: { mean: 60 } },
  durationS: 30,
  seed: 1,
};

function written(name: string, profile: Profile, spec: Omit<Scenario, 'model' | 'gpu'> = plain): string {
  const scenario = parseScenario({ model: profile.model, gpu: profile.gpu, ...spec });
  writeBenchFiles(join(dir, name), twinBenchFiles(scenario, profile));
  return join(dir, name);
}

describe('bench files of a server without LoRA', () => {
  it('name no adapter and no LoRA flag, log the KV capacity without LoRA, and hold the Twin arrivals', () => {
    const profile = contextProfile();
    const at = written('plain', profile);
    const server = JSON.parse(readFileSync(join(at, 'server.json'), 'utf8'));
    expect(Object.keys(server.vllmServe).filter((k) => /lora/i.test(k))).toEqual([]);
    const { servers, runs } = loadBench([join(at, 'server.json')]);
    expect(servers[0]!.lora).toBeNull();
    expect(servers[0]!.kvCacheTokens).toBe(kvCapacityWithoutLora(profile));
    expect(runs[0]!.requests.every((r) => r.adapter === -1)).toBe(true);
    // the arrivals the Twin draws for the same scenario (the base model's own random streams); it admits them
    // until its horizon, so it runs on past the bench run's durationS
    const arrivals: number[] = [];
    const scenario = parseScenario({ model: profile.model, gpu: profile.gpu, ...plain, durationS: 40 });
    simulateParsed(scenario, profile, { observer: { onArrival: (_id, _a, t) => arrivals.push(t) } });
    const within = arrivals.filter((t) => t <= 30);
    expect(runs[0]!.requests.length).toBe(within.length);
    expect(runs[0]!.requests.map((r) => r.arrivalS)).toEqual(within.map((t) => expect.closeTo(t - within[0]!, 9)));
  });

  it('log a capacity without LoRA the profile measured, not the curves at zero slots', () => {
    const profile = contextProfile();
    profile.kvCapacity.withoutLora = { tokens: 123_456, source: 'test fixture' };
    expect(kvCapacityTokens(profile, 0, 8)).not.toBe(123_456);
    const { servers } = loadBench([join(written('measured', profile), 'server.json')]);
    expect(servers[0]!.kvCacheTokens).toBe(123_456);
  });

  it('cost each step the base terms only: no LoRA step cost is charged', () => {
    const { runs } = loadBench([join(written('steps', contextProfile()), 'server.json')]);
    const { observations, counts } = observeSteps(runs[0]!, {
      maxNumBatchedTokens: 2048,
      maxNumSeqs: 256,
      maxLoras: 0,
    });
    expect(counts.decodeOnly).toBeGreaterThan(200);
    const base = (o: (typeof observations)[number]) =>
      8 + 0.5 * o.decodes + (0.2 * o.contextTokens) / 1000 + 0.01 * o.prefillTokens;
    expect(Math.max(...observations.map((o) => Math.abs(o.durationMs - base(o))))).toBeLessThan(1e-6);
    expect(observations.every((o) => o.lora === null)).toBe(true);
  });

  it('replay to the times they hold (calibrate reads such a server as the Twin wrote it)', () => {
    const profile = contextProfile();
    const run = loadBench([join(written('replay', profile), 'server.json')]).runs[0]!;
    const replay = replayRun(run, profile);
    expect(replay.memoryError).toBeNull();
    expect(replay.requests.length).toBe(run.requests.length);
    const worst = Math.max(...replay.requests.map((r, i) => Math.abs(r.lastTokenS - run.requests[i]!.lastTokenS)));
    expect(worst).toBeLessThan(1e-9);
    expect(replay.requests.every((r) => r.adapter === -1)).toBe(true);
  });

  it('are refused for base-model requests to a server with --enable-lora, naming baseModel', () => {
    const profile = contextProfile();
    const mixed = parseScenario({
      model: profile.model,
      gpu: profile.gpu,
      engine: { maxLoras: 1 },
      adapters: [{ id: 'a', rank: 8, rate: 1 }],
      baseModel: { rate: 1 },
      durationS: 10,
    });
    let err: unknown;
    try {
      twinBenchFiles(mixed, profile);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).details).toEqual({ issues: [expect.objectContaining({ path: 'baseModel' })] });
  });
});

describe('the KV refit of a server without LoRA', () => {
  const server = (name: string, kvCacheTokens: number, lora: ServerSettings['lora'] = null): ServerSettings => ({
    name,
    lora,
    maxModelLen: null,
    maxNumSeqs: null,
    maxNumBatchedTokens: null,
    kvCacheTokens,
    logFile: `${name}.log`,
    vllmVersion: null,
  });

  it('starts from the capacity without LoRA the profile carries and moves it with the rest', () => {
    const start = contextProfile();
    start.kvCapacity.withoutLora = { tokens: 110_000, source: 'test fixture' };
    const lora = { maxLoras: 8, maxLoraRank: 8, maxCpuLoras: 8, adapters: [{ id: 'a', rank: 8 }] };
    const fit = fitKvCapacity(start, [server('plain', 105_000), server('lora', 95_000, lora)], ['x.log'])!;
    expect(fit.points[0]).toMatchObject({ slots: 0, rank: 0, start: 110_000 });
    // one setting besides the one without LoRA: one offset, the mean of -5,000 and -5,000
    expect(fit.offsetTokens).toBeCloseTo(-5000, 6);
    expect(fit.kvCapacity.withoutLora?.tokens).toBe(105_000);
    expect(fit.points.map((p) => p.fitted)).toEqual([105_000, 95_000]);
  });
});

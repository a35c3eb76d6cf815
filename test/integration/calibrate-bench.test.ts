import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kvCapacityTokens, kvCapacityWithoutLora, Profile } from '../../src/profiles/index.js';
import { loadBench } from '../../src/refit/load-bench.js';
import { refitProfile, type RefitOutcome } from '../../src/refit/refit.js';
import { Rng } from '../../src/shared/rng.js';
import { baseTerms, hiddenProfile, llama, probePlan, slotTerms, writeProbePlan } from '../helpers/bench-files.js';
import { cli as runCli } from '../helpers/cli.js';

// Issue 23, "calibration from stock vLLM", measured: the Twin writes stock-vLLM bench files (vllm bench serve
// --save-detailed JSON, the serve log's KV line, per-request CSVs) for a hidden profile whose constants are the
// shipped profile's perturbed by up to 30 %; calibrate --bench, starting from the shipped profile, must find
// the hidden constants within 5 % and its KV capacity within 1 %.

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-calibrate-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Term = (typeof baseTerms)[number] | (typeof slotTerms)[number] | 'perAdapterMs' | 'enabledMs';

function termOf(p: Profile, key: Term): number {
  return key in p.forward.base
    ? p.forward.base[key as (typeof baseTerms)[number]]
    : p.forward.lora[key as 'perAdapterMs' | 'enabledMs' | (typeof slotTerms)[number]];
}

/** Largest relative error of the refitted terms against the hidden ones; fails when a term was not refitted. */
function worstError(outcome: RefitOutcome, hidden: Profile, keys: readonly Term[]): number {
  const refitted = new Map(outcome.stepFit!.refitted.map((r) => [r.key, r.fitted]));
  expect([...refitted.keys()]).toEqual(expect.arrayContaining([...keys]));
  return Math.max(...keys.map((k) => Math.abs(refitted.get(k)! / termOf(hidden, k) - 1)));
}

/** The Twin's KV capacity at a server's settings (0 slots: a server without LoRA). */
const capacity = (p: Profile, slots: number, rank: number): number =>
  slots === 0 ? kvCapacityWithoutLora(p) : kvCapacityTokens(p, slots, rank);

/** Largest relative KV error at the settings the servers' logs were taken at, with and without LoRA. */
function kvError(outcome: RefitOutcome, hidden: Profile): number {
  const points = outcome.kvFit!.points;
  expect(new Set(points.map((p) => p.slots === 0))).toEqual(new Set([true, false]));
  return Math.max(
    ...points.map((p) => Math.abs(capacity(outcome.profile, p.slots, p.rank) / capacity(hidden, p.slots, p.rank) - 1)),
  );
}

/** The hidden profile really is another one: some constant is more than 10 % off the starting profile's. */
function perturbation(start: Profile, hidden: Profile, keys: readonly Term[]): number {
  return Math.max(...keys.map((k) => Math.abs(termOf(start, k) / termOf(hidden, k) - 1)));
}

/**
 * Long requests that fill ~180,000 KV tokens, served as the shipped profile says, and a log taken from another
 * server (140,000 tokens): the refitted KV capacity makes the replays preempt, the starting one did not.
 */
function worseRun(name: string): string {
  const [server] = writeProbePlan(join(dir, name), llama(), {
    long: {
      engine: { maxLoras: 8 },
      adapters: [
        { id: 'lora-0', rank: 8, rate: 1.2 },
        { id: 'lora-1', rank: 16, rate: 1.2 },
      ],
      inputTokens: { mean: 2000, std: 200 },
      outputTokens: { mean: 1000, std: 100 },
      durationS: 90,
      seed: 2,
    },
  });
  const log = join(dir, name, 'long', 'serve.log');
  const text = readFileSync(log, 'utf8').replace(
    /GPU KV cache size: [\d,]+ tokens/,
    'GPU KV cache size: 140,000 tokens',
  );
  writeFileSync(log, text);
  return server!;
}

const stepTerms: Term[] = [...baseTerms, 'perAdapterMs'];

describe('calibrate --bench on bench files the Twin writes for a hidden profile', () => {
  for (const seed of [1, 2, 3]) {
    it(`finds constants perturbed up to 30 % within 5 % and the KV capacity within 1 % (seed ${seed})`, () => {
      const start = llama();
      const hidden = hiddenProfile(start, seed);
      expect(perturbation(start, hidden, stepTerms)).toBeGreaterThan(0.1);
      const files = writeProbePlan(join(dir, `seed-${seed}`), hidden, probePlan(seed));
      const outcome = refitProfile(start, loadBench(files));
      expect(outcome.refused).toBeNull();
      expect(worstError(outcome, hidden, stepTerms)).toBeLessThan(0.05);
      expect(kvError(outcome, hidden)).toBeLessThan(0.01);
      // and the refitted profile explains the runs better than the one it started from
      expect(outcome.fittedError).toBeLessThan(outcome.startError);
      expect(outcome.profile.source?.kind).toBe('refitted');
    });
  }

  it('finds the slot costs too when the runs vary --max-loras', () => {
    const start = llama();
    const hidden = hiddenProfile(start, 4, 0.3, true);
    expect(perturbation(start, hidden, slotTerms)).toBeGreaterThan(0.1);
    const outcome = refitProfile(start, loadBench(writeProbePlan(join(dir, 'slots'), hidden, probePlan(4, true))));
    expect(outcome.refused).toBeNull();
    expect(worstError(outcome, hidden, [...stepTerms, ...slotTerms])).toBeLessThan(0.05);
    // without a second --max-loras the slot costs are kept, and said so
    const one = refitProfile(start, loadBench(writeProbePlan(join(dir, 'slots-one'), hidden, probePlan(4))));
    expect(one.stepFit!.kept.map((k) => k.key)).toEqual(expect.arrayContaining([...slotTerms]));
  });

  it('finds enabledMs, the cost of a LoRA-enabled engine, from runs with and without --enable-lora', () => {
    const start = llama();
    const hidden = hiddenProfile(start, 6);
    hidden.forward.lora.enabledMs *= 1.3;
    const plan = probePlan(6);
    const outcome = refitProfile(start, loadBench(writeProbePlan(join(dir, 'enabled'), hidden, plan)));
    expect(outcome.refused).toBeNull();
    expect(worstError(outcome, hidden, [...stepTerms, 'enabledMs'])).toBeLessThan(0.05);
    // the servers without LoRA are what tells it apart: without them it is kept, and said so
    const { 'base-r3': _r3, 'base-r8': _r8, ...loraOnly } = plan;
    const kept = refitProfile(start, loadBench(writeProbePlan(join(dir, 'enabled-lora-only'), hidden, loraOnly)));
    expect(kept.stepFit!.kept).toContainEqual({
      key: 'enabledMs',
      reason: 'needs runs both with and without --enable-lora',
    });
  });

  it('stays within 5 % when the client clock adds up to 1 ms of jitter to every streamed chunk', () => {
    const start = llama();
    const hidden = hiddenProfile(start, 5);
    const data = loadBench(writeProbePlan(join(dir, 'jitter'), hidden, probePlan(5)));
    const rng = new Rng(5, 1);
    for (const run of data.runs)
      for (const r of run.requests) {
        const t = r.tokenTimes!;
        for (let k = 0; k < t.length; k++) t[k]! += (rng.next() - 0.5) * 0.001;
        r.firstTokenS = t[0]!;
        r.lastTokenS = t[t.length - 1]!;
      }
    const outcome = refitProfile(start, data);
    expect(outcome.refused).toBeNull();
    expect(worstError(outcome, hidden, stepTerms)).toBeLessThan(0.05);
  });

  it('fits runs without token timelines (per-request CSVs only) by replaying them, and explains them better', () => {
    // stock vLLM (>= 0.11, what --bench files come from) looks no adapter tokenizer up on a first request
    const { firstRequestOfAdapter: _lookup, ...frontend } = llama().frontend;
    const start = { ...llama(), frontend };
    const hidden = hiddenProfile(start, 1);
    const servers = writeProbePlan(join(dir, 'csv-only'), hidden, probePlan(1));
    for (const server of servers) {
      const file = JSON.parse(readFileSync(server, 'utf8'));
      file.runs = [{ requests: 'requests.csv' }];
      writeFileSync(server, JSON.stringify(file));
    }
    const outcome = refitProfile(start, loadBench(servers));
    expect(outcome.stepFit!.method).toBe('replay');
    expect(outcome.refused).toBeNull();
    expect(outcome.fittedError).toBeLessThan(outcome.startError / 4);
    // the figures pin down the constant, prompt and per-adapter costs; per decode and per context trade off
    expect(worstError(outcome, hidden, ['constantMs', 'perPrefillTokenMs', 'perAdapterMs'])).toBeLessThan(0.05);
  });

  it('refuses a fit that explains the runs worse than the starting profile, saying why', () => {
    const start = llama();
    const files = [worseRun('worse')];
    const outcome = refitProfile(start, loadBench(files));
    expect(outcome.fittedError).toBeGreaterThan(outcome.startError);
    expect(outcome.refused).toMatch(/worse than the starting profile: .*worst: TTFT/);
  });
});

const cli = (args: string[]) => runCli(args, { timeoutMs: 120_000 });

describe('simulate --bench-out and calibrate --bench on the command line', () => {
  const scenario = {
    model: 'llama-3.1-8b-instruct',
    gpu: 'h100-64gb',
    engine: { maxLoras: 4 },
    adapters: [
      { id: 'lora-0', rank: 8, rate: 2 },
      { id: 'lora-1', rank: 16, rate: 2 },
    ],
    inputTokens: { mean: 300 },
    outputTokens: { mean: 120 },
    durationS: 40,
    seed: 3,
  };

  it('writes stock-vLLM files, refits from them and writes a refitted profile naming them', () => {
    const file = join(dir, 'cli-scenario.json');
    writeFileSync(file, JSON.stringify(scenario));
    const bench = join(dir, 'cli-bench');
    const written = cli(['simulate', file, '--bench-out', bench]);
    expect(written.status).toBe(0);
    expect(written.stdout).toContain(join(bench, 'bench.json'));
    const out = join(dir, 'cli-out');
    const r = cli([
      'calibrate',
      '--bench',
      join(bench, 'server.json'),
      '--profile',
      'llama-3.1-8b-instruct@h100-64gb',
      '--out',
      out,
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/constantMs +11\.0103 +11\.0103/);
    expect(r.stdout).toMatch(/root-mean-square/);
    const profile = Profile.parse(JSON.parse(readFileSync(join(out, 'llama-3.1-8b-instruct@h100-64gb.json'), 'utf8')));
    expect(profile.source?.kind).toBe('refitted');
    expect(profile.source?.data).toEqual(expect.arrayContaining([join(bench, 'bench.json'), join(bench, 'serve.log')]));
  });

  it('refuses garbage with exit 2, naming the file, the place and the field, and writes nothing', () => {
    const bench = join(dir, 'cli-garbage');
    const file = join(dir, 'cli-scenario.json');
    expect(cli(['simulate', file, '--bench-out', bench]).status).toBe(0);
    const result = JSON.parse(readFileSync(join(bench, 'bench.json'), 'utf8'));
    result.itls[3][1] = 'fast';
    writeFileSync(join(bench, 'bench.json'), JSON.stringify(result));
    const out = join(dir, 'cli-garbage-out');
    const r = cli([
      'calibrate',
      '--bench',
      join(bench, 'server.json'),
      '--profile',
      'llama-3.1-8b-instruct@h100-64gb',
      '--out',
      out,
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/bench\.json:1:\d+: vllm bench serve result: itls\.3\.1: /);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 1 and writes nothing when the refit explains the runs worse', () => {
    const out = join(dir, 'cli-worse-out');
    const r = cli([
      'calibrate',
      '--bench',
      worseRun('cli-worse'),
      '--profile',
      'llama-3.1-8b-instruct@h100-64gb',
      '--out',
      out,
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('refused the fit: the refitted constants explain these runs worse');
    expect(existsSync(out)).toBe(false);
  });
});

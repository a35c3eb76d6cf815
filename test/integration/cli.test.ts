import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { profileKey } from '../../src/profiles/index.js';
import { embeddedKeys, predictorKeys, shippedKeys } from '../helpers/embedded-profiles.js';
import { cli as runCli } from '../helpers/cli.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'lora-placer-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (args: string[], input?: string, env?: Record<string, string>) => runCli(args, { input, env });

const scenario = (seed: number, rate = 1) => ({
  model: 'llama-3.1-8b-instruct',
  gpu: 'h100-64gb',
  engine: { maxLoras: 4 },
  adapters: [
    { id: 'a', rank: 8, rate },
    { id: 'b', rank: 16, rate },
  ],
  durationS: 120,
  seed,
});

describe('lora-placer CLI', () => {
  it('simulates one scenario from a file and prints one SimulationResult', () => {
    const f = join(dir, 'one.json');
    writeFileSync(f, JSON.stringify(scenario(1)));
    const r = cli(['simulate', f]);
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.memoryError).toBeNull();
    expect(out.completedRequests).toBeGreaterThan(100);
  });

  it('answers a JSON array line by line in input order, also across worker threads', () => {
    const input = JSON.stringify([scenario(1, 2), scenario(2, 0.2), scenario(3, 1)]);
    const r = cli(['simulate', '--workers', '2'], input);
    expect(r.status).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(3);
    const serial = cli(['simulate', '--workers', '1'], input)
      .stdout.trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.arrivedRequests)).toEqual(serial.map((l) => l.arrivedRequests));
    expect(lines[0].arrivedRequests).toBeGreaterThan(lines[1].arrivedRequests);
  });

  it('reads JSONL from stdin', () => {
    const r = cli(['simulate'], `${JSON.stringify(scenario(4))}\n${JSON.stringify(scenario(5))}\n`);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('exits 2 naming the offending field, with the item index for batches', () => {
    const bad = { ...scenario(1), adapters: [{ id: 'a', rank: 0, rate: 1 }] };
    const one = cli(['simulate'], JSON.stringify(bad));
    expect(one.status).toBe(2);
    expect(one.stderr).toContain('adapters.0.rank');
    expect(one.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    const batch = cli(['simulate'], JSON.stringify([scenario(1), bad]));
    expect(batch.status).toBe(2);
    expect(batch.stderr).toContain('[1].adapters.0.rank');
    expect(batch.stdout).toBe('');
  });

  it('exits 2 on malformed JSON, unknown options, unknown commands and unknown profiles', () => {
    expect(cli(['simulate'], '{"model": ').status).toBe(2);
    expect(cli(['simulate', '--frobnicate']).status).toBe(2);
    expect(cli(['frobnicate']).status).toBe(2);
    const unknown = cli(['simulate'], JSON.stringify({ ...scenario(1), gpu: 'tpu-v9' }));
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no profile for model "llama-3.1-8b-instruct" on gpu "tpu-v9"');
  });

  it('exits 2 on a tensorParallelSize without a profile, naming the sizes known (simulate, predict, place)', () => {
    const workload = { ...scenario(1), engine: undefined, durationS: undefined, seed: undefined };
    for (const [command, input] of [
      ['simulate', scenario(1)],
      ['predict', scenario(1)],
      ['place', workload],
    ] as const) {
      const r = cli([command], JSON.stringify({ ...input, tensorParallelSize: 4 }));
      expect(r.status, `${command}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain('at tensorParallelSize 4 (known tensorParallelSize: 1)');
    }
  });

  it('exits 2 when calibrate or validate miss required options', () => {
    expect(cli(['calibrate', '--gpu', 'x']).stderr).toContain('--data');
    expect(cli(['validate']).status).toBe(2);
    expect(cli(['validate', '--runs', join(dir, 'missing.csv')]).stderr).toContain('does not exist');
  });
});

describe('lora-placer predict', () => {
  it('answers a Prediction per scenario, in input order', () => {
    const input = [scenario(1, 0.1), { ...scenario(2, 50), engine: { maxLoras: 2 } }]
      .map((s) => JSON.stringify(s))
      .join('\n');
    const r = cli(['predict'], input);
    expect(r.status).toBe(0);
    const [low, flood] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(low.memoryError).toBe(false);
    expect(low.starved).toBe(false);
    expect(flood.starved).toBe(true);
    expect(flood.idealThroughput).toBeGreaterThan(low.idealThroughput);
    expect(typeof low.modelVersion).toBe('string');
  });

  it('answers memoryError without a throughput for settings vLLM cannot start', () => {
    const r = cli(
      ['predict'],
      JSON.stringify({ ...scenario(1), engine: { maxLoras: 128 }, adapters: [{ id: 'a', rank: 32, rate: 1 }] }),
    );
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.memoryError).toBe(true);
    expect(p.throughput).toBeNull();
  });

  it('exits 2 naming the field of a bad scenario', () => {
    const r = cli(['predict'], JSON.stringify({ ...scenario(1), adapters: [{ id: 'a', rank: 8, rate: -2 }] }));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('adapters.0.rate');
  });
});

describe('lora-placer place', () => {
  const workload = {
    model: 'llama-3.1-8b-instruct',
    gpu: 'h100-64gb',
    adapters: Array.from({ length: 30 }, (_, i) => ({
      id: `tenant-${i}`,
      rank: i % 2 ? 16 : 8,
      rate: 0.05 + (i % 5) * 0.4,
    })),
  };

  it('answers a Placement whose GPUs carry every adapter and ready-to-use vLLM arguments', () => {
    const f = join(dir, 'workload.json');
    writeFileSync(f, JSON.stringify(workload));
    const r = cli(['place', f]);
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.gpuCount).toBeGreaterThanOrEqual(1);
    expect(p.gpus.flatMap((g: { adapters: { id: string }[] }) => g.adapters.map((a) => a.id)).sort()).toEqual(
      workload.adapters.map((a) => a.id).sort(),
    );
    expect(p.gpus[0].vllmArgs[0]).toBe('--enable-lora');
    expect(p.routing).toHaveLength(30);
  });

  it('reads bare lengths as means, and explains the count on stderr (the traffic, each GPU, one fewer)', () => {
    const r = cli(['place'], JSON.stringify({ ...workload, inputTokens: 500, outputTokens: 100 }));
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    const rate = workload.adapters.reduce((s, a) => s + a.rate, 0);
    expect(p.totals.promptTokensPerSecond).toBeCloseTo(500 * rate, 6);
    expect(p.totals.outputTokensPerSecond).toBeCloseTo(100 * rate, 6);
    // after the warnings (a 500-token mean prompt is longer than the profile's measured ones)
    const lines = r.stderr
      .trimEnd()
      .split('\n')
      .filter((l) => !l.startsWith('warning:'));
    const tokens = (v: number): string => Math.round(v).toLocaleString('en-US');
    expect(lines[0]).toBe(
      `${p.gpuCount} GPU(s) (lower bound ${p.lowerBound}) for ${rate.toFixed(1)} req/s, ` +
        `${tokens(500 * rate)} prompt + ${tokens(100 * rate)} output tokens/s`,
    );
    for (const g of p.gpus)
      expect(lines[1 + g.index]).toMatch(
        new RegExp(`^  GPU ${g.index}: .*; ${g.binding.constraint === 'slo' ? 'SLO' : g.binding.constraint}: `),
      );
    expect(lines[1 + p.gpuCount]).toBe(`  one GPU fewer: ${p.oneFewer.summary}`);
    expect(cli(['place', '--quiet'], JSON.stringify(workload)).stderr).toBe('');
  });

  it('verifies with the Twin on worker threads when asked', () => {
    const r = cli(
      ['place', '--workers', '2'],
      JSON.stringify({ ...workload, verify: true, options: { verifyDurationS: 120 } }),
    );
    expect(r.status).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.verification.simulatedGpus).toBeGreaterThanOrEqual(p.gpuCount);
    expect(p.gpus.every((g: { verified?: unknown }) => g.verified !== undefined)).toBe(true);
  });

  it('exits 2 naming the field of a bad workload, with the item index for batches', () => {
    const r = cli(['place'], `${JSON.stringify(workload)}\n${JSON.stringify({ ...workload, objective: 'fastest' })}\n`);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('[1].objective');
  });

  it('exits 2 on an adapter id with a ".." path segment, for placements and their manifests', () => {
    const escaping = {
      ...workload,
      adapters: [...workload.adapters, { id: 'x/../../../../etc/passwd', rank: 8, rate: 1 }],
    };
    for (const args of [['place'], ['place', '--output', 'manifests', '--pool', 'p']]) {
      const r = cli(args, JSON.stringify(escaping));
      expect(r.status, r.stdout.slice(0, 200)).toBe(2);
      expect(r.stderr).toContain('adapters.30.id');
      expect(r.stdout).toBe('');
    }
  });

  it('gives the manifests HF_TOKEN from --hf-token-secret, and exits 2 naming the flag on a bad Secret name', () => {
    const r = cli(
      ['place', '--quiet', '--output', 'manifests', '--hf-token-secret', 'hf/token'],
      JSON.stringify(workload),
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('name: HF_TOKEN');
    expect(r.stdout).toMatch(/secretKeyRef:\n\s+name: hf\n\s+key: token\n/);
    const bad = cli(['place', '--output', 'manifests', '--hf-token-secret', 'HF_Token'], JSON.stringify(workload));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--hf-token-secret');
    expect(bad.stdout).toBe('');
  });
});

describe('lora-placer --version, profiles, exit codes, JSON errors, progress', () => {
  const workload = {
    model: 'llama-3.1-8b-instruct',
    gpu: 'h100-64gb',
    adapters: Array.from({ length: 8 }, (_, i) => ({ id: `tenant-${i}`, rank: 8, rate: 0.5 })),
  };

  it('prints the package version for --version and -V', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = cli([flag]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`${version}\n`);
    }
  });

  it('lists the 17 committed profiles and the predictors of four of them, as text and as JSON', () => {
    const text = cli(['profiles']);
    expect(text.status).toBe(0);
    const lines = (key: string) => text.stdout.split('\n').filter((line) => line.startsWith(`  ${key} `));
    for (const key of predictorKeys) {
      // once as a profile (its line ends with its file, which holds the key too), once as a predictor
      expect(lines(key)).toHaveLength(2);
    }
    for (const key of shippedKeys.filter((k) => !predictorKeys.includes(k))) {
      expect(lines(key)).toHaveLength(1);
      expect(lines(key)[0]).toMatch(/ kernels \(.*no predictors: the Twin answers/);
    }
    const json = cli(['profiles', '--json']);
    expect(json.status).toBe(0);
    const out = JSON.parse(json.stdout) as {
      profiles: { model: string; gpu: string; tensorParallelSize: number; maxModelLen: number }[];
      predictors: { model: string; gpu: string; version: string }[];
    };
    expect(out.profiles.map((p) => profileKey(p.model, p.gpu, p.tensorParallelSize))).toEqual(embeddedKeys);
    expect(out.predictors.map((p) => profileKey(p.model, p.gpu)).sort()).toEqual(predictorKeys);
    expect(out.profiles.every((p) => p.maxModelLen > 0)).toBe(true);
    expect(cli(['profiles', '--frobnicate']).status).toBe(2);
  });

  it('documents its exit codes in --help', () => {
    const r = cli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/3 place answered but left adapters\s+unplaced/);
  });

  it('exits 3 when a placement leaves adapters unplaced, after writing it', () => {
    const tight = { ...workload, maxGpus: 1, adapters: workload.adapters.map((a) => ({ ...a, rate: 8 })) };
    const r = cli(['place'], JSON.stringify(tight));
    expect(r.status).toBe(3);
    const p = JSON.parse(r.stdout);
    expect(p.gpuCount).toBe(1);
    expect(p.unplaced.length).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/left unplaced.*maxGpus/);
    expect(cli(['place'], JSON.stringify(workload)).status).toBe(0);
  });

  it('reports a trailing comma on line 14 of a JSON file with its line and column', () => {
    const adapter = (id: string): string[] => [
      '    {',
      `      "id": "${id}",`,
      '      "rank": 8,',
      '      "rate": 0.5',
      '    },',
    ];
    const lines = [
      '{',
      '  "model": "llama-3.1-8b-instruct",',
      '  "gpu": "h100-64gb",',
      '  "adapters": [',
      ...adapter('a'),
      ...adapter('b'),
      '  ]',
      '}',
    ];
    expect(lines[13]).toBe('    },'); // line 14: the comma after the last adapter, column 6
    const f = join(dir, 'trailing-comma.json');
    writeFileSync(f, `${lines.join('\n')}\n`);
    const r = cli(['place', f]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`lora-placer: ${f}:14:6: not valid JSON: trailing comma before ']'\n`);
    const jsonl = cli(['predict'], `${JSON.stringify(scenario(1))}\n{"model": "m",}\n`);
    expect(jsonl.status).toBe(2);
    expect(jsonl.stderr).toContain("stdin:2:14: not valid JSON: trailing comma before '}'");
  });

  it('prints progress lines outside a terminal for a verified placement, none with --quiet', () => {
    const verified = JSON.stringify({ ...workload, verify: true, options: { verifyDurationS: 60 } });
    const env = { LORA_PLACER_PROGRESS_INTERVAL_MS: '1' };
    const r = cli(['place', '--workers', '1'], verified, env);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/^place: \d+\/1 \(\d+ %\) placements, \d+ GPU simulations/m);
    expect(r.stderr).not.toContain('\r');
    const quiet = cli(['place', '--workers', '1', '--quiet'], verified, env);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe('');
    expect(JSON.parse(quiet.stdout).gpuCount).toBe(JSON.parse(r.stdout).gpuCount);
  });
});

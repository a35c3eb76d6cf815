import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PredictorRegistry } from '../../src/ml/registry.js';
import { parseWorkload, place, placementWarnings } from '../../src/placement/index.js';
import {
  calibrationTablesEnvelope,
  embeddedProfiles,
  measuredEnvelopeOf,
  Profile,
  type MeasuredEnvelope,
} from '../../src/profiles/index.js';
import {
  parseScenario,
  resolveScenario,
  scenarioWarnings,
  warningCodes,
  type Scenario,
  type Warning,
  type WarningCode,
} from '../../src/twin/index.js';

const profiles = embeddedProfiles();
const calibrated = profiles.get('llama-3.1-8b-instruct', 'h100-64gb');
const built = profiles.get('llama-3.1-8b-instruct', 'h100-80gb');

/** A scenario inside the calibration envelope: ranks 8/16, ShareGPT lengths, Poisson, the runs' engine. */
const inside = () =>
  ({
    model: 'llama-3.1-8b-instruct',
    gpu: 'h100-64gb',
    engine: { maxLoras: 16, maxCpuLoras: 64, maxNumSeqs: 2048, maxNumBatchedTokens: 2048 },
    adapters: Array.from({ length: 40 }, (_, i) => ({ id: `a${i}`, rank: i % 2 ? 8 : 16, rate: 0.1 + (i % 4) * 0.2 })),
    inputTokens: { mean: 223 },
    outputTokens: { mean: 196 },
    arrivals: { process: 'poisson' },
  }) satisfies Scenario;

function warningsOf(over: Partial<Scenario>, profile: Profile = calibrated): Warning[] {
  const s = parseScenario({ ...inside(), ...over });
  return scenarioWarnings(s, profile, resolveScenario(s, profile).engine);
}

const codes = (ws: Warning[]): WarningCode[] => ws.map((w) => w.code);
const only = (ws: Warning[], code: WarningCode): Warning => {
  const found = ws.filter((w) => w.code === code);
  expect(found, JSON.stringify(ws)).toHaveLength(1);
  return found[0]!;
};

describe('the measured envelope of a profile', () => {
  it('is the calibration tables for a calibrated profile, none for a built one, its own when it carries one', () => {
    expect(measuredEnvelopeOf(calibrated)).toBe(calibrationTablesEnvelope);
    expect(measuredEnvelopeOf(built)).toBeNull();
    const own: MeasuredEnvelope = { ...calibrationTablesEnvelope, ranks: [8, 16, 32, 64], source: ['my-runs.csv'] };
    const withOwn = Profile.parse({ ...built, measuredEnvelope: own });
    expect(measuredEnvelopeOf(withOwn)).toEqual(own);
    // the shipped files do not carry one (their hashes are in the predictors' metadata)
    expect(profiles.list().filter((p) => p.measuredEnvelope !== undefined)).toEqual([]);
  });

  it('refuses a malformed envelope in a profile file', () => {
    const bad = { ...calibrationTablesEnvelope, ranks: [] };
    expect(Profile.safeParse({ ...calibrated, measuredEnvelope: bad }).success).toBe(false);
  });
});

describe('warnings of a scenario', () => {
  it('are empty inside the envelope (the calibrated profile, measured ranks, lengths, engine and arrivals)', () => {
    expect(warningsOf({})).toEqual([]);
    // defaults: ShareGPT lengths, the profile's engine defaults (256 sequences, 2048 tokens), Poisson
    const { inputTokens: _i, outputTokens: _o, arrivals: _a, ...bare } = inside();
    expect(warningsOf({ ...bare, engine: { maxLoras: 16 } })).toEqual([]);
  });

  it('LP_WARN_PROFILE_NOT_CALIBRATED: a profile built from kernel tables or a roofline', () => {
    const w = only(warningsOf({ gpu: 'h100-80gb' }, built), 'LP_WARN_PROFILE_NOT_CALIBRATED');
    expect(w.field).toBe('gpu');
    expect(w.message).toContain('kernel tables');
    expect(w.message).toContain('H100 SXM5 80 GB');
    const roofline = Profile.parse({ ...built, source: { ...built.source!, kind: 'roofline' } });
    expect(only(warningsOf({}, roofline), 'LP_WARN_PROFILE_NOT_CALIBRATED').message).toContain('roofline');
    // without an envelope nothing else is checked: rank 64 says nothing more on a built profile
    expect(codes(warningsOf({ adapters: [{ id: 'x', rank: 64, rate: 1 }] }, built))).toEqual([
      'LP_WARN_PROFILE_NOT_CALIBRATED',
    ]);
  });

  it('LP_WARN_ENVELOPE_UNKNOWN: a refitted profile that does not say what it was measured on', () => {
    const refitted = Profile.parse({
      ...calibrated,
      source: { kind: 'refitted', measuredOn: 'my cluster', data: ['bench.json'] },
    });
    expect(only(warningsOf({}, refitted), 'LP_WARN_ENVELOPE_UNKNOWN').field).toBe('gpu');
    const told = Profile.parse({ ...refitted, measuredEnvelope: calibrationTablesEnvelope });
    expect(warningsOf({}, told)).toEqual([]);
  });

  it("LP_WARN_VLLM_VERSION_NOT_MEASURED: another major.minor than the profile's (the fork is 0.8.5)", () => {
    expect(warningsOf({ vllmVersion: '0.8.5' })).toEqual([]);
    expect(warningsOf({ vllmVersion: '0.8.4' })).toEqual([]);
    const w = only(warningsOf({ vllmVersion: '0.11.0' }), 'LP_WARN_VLLM_VERSION_NOT_MEASURED');
    expect(w.field).toBe('vllmVersion');
    expect(w.message).toMatch(/release 0\.8\.5/);
    expect(codes(warningsOf({ vllmVersion: '0.24.1', gpu: 'h100-80gb' }, built))).toEqual([
      'LP_WARN_PROFILE_NOT_CALIBRATED',
    ]);
  });

  it('refuses a vllmVersion that is no version (400 naming the field)', () => {
    expect(() => parseScenario({ ...inside(), vllmVersion: 'latest' })).toThrow(/vllmVersion/);
  });

  it('LP_WARN_RANK_NOT_MEASURED: adapter ranks (one warning for many) and an explicit --max-lora-rank', () => {
    const adapters = inside().adapters.map((a, i) => (i >= 10 && i < 15 ? { ...a, rank: 64 } : a));
    const w = only(warningsOf({ adapters }), 'LP_WARN_RANK_NOT_MEASURED');
    expect(w.field).toBe('adapters.10.rank');
    expect(w.message).toMatch(/^rank 64: .* 8, 16, 32 only \(4 more adapters alike\)$/);
    const rank = warningsOf({ engine: { ...inside().engine, maxLoraRank: 64 } });
    expect(only(rank, 'LP_WARN_RANK_NOT_MEASURED').field).toBe('engine.maxLoraRank');
    expect(warningsOf({ adapters: inside().adapters.map((a) => ({ ...a, rank: 32 })) })).toEqual([]);
  });

  it('LP_WARN_PROMPT_LENGTH_NOT_MEASURED: 1,000-token prompts, globally or per adapter', () => {
    const w = only(warningsOf({ inputTokens: { mean: 1000 } }), 'LP_WARN_PROMPT_LENGTH_NOT_MEASURED');
    expect(w.field).toBe('inputTokens.mean');
    expect(w.message).toContain('1,000 tokens');
    const adapters = inside().adapters.map((a, i) => (i === 3 ? { ...a, inputTokens: { values: [900, 1100] } } : a));
    expect(only(warningsOf({ adapters }), 'LP_WARN_PROMPT_LENGTH_NOT_MEASURED').field).toBe(
      'adapters.3.inputTokens.values',
    );
    expect(warningsOf({ inputTokens: { mean: 200, std: 50 } })).toEqual([]);
  });

  it('LP_WARN_OUTPUT_LENGTH_NOT_MEASURED: outputs beyond the longest measured mean', () => {
    const w = only(warningsOf({ outputTokens: { mean: 2000 } }), 'LP_WARN_OUTPUT_LENGTH_NOT_MEASURED');
    expect(w.field).toBe('outputTokens.mean');
    expect(warningsOf({ outputTokens: { mean: 400 } })).toEqual([]);
  });

  it('LP_WARN_ADAPTERS_PER_SERVER_NOT_MEASURED: more adapters on one server than measured (384)', () => {
    const adapters = Array.from({ length: 500 }, (_, i) => ({ id: `a${i}`, rank: 8, rate: 0.01 }));
    const ws = warningsOf({ adapters, engine: { maxLoras: 16 } });
    expect(only(ws, 'LP_WARN_ADAPTERS_PER_SERVER_NOT_MEASURED').field).toBe('adapters');
    // --max-cpu-loras defaults to the adapters: the adapters' warning says it, not a second one
    expect(codes(ws)).not.toContain('LP_WARN_MAX_CPU_LORAS_NOT_MEASURED');
    expect(warningsOf({ adapters: adapters.slice(0, 384), engine: { maxLoras: 16 } })).toEqual([]);
  });

  it('LP_WARN_MAX_LORAS_NOT_MEASURED: more slots than any measured server', () => {
    const w = only(
      warningsOf({ engine: { maxLoras: 512, maxCpuLoras: 512, maxLoraRank: 16 } }),
      'LP_WARN_MAX_LORAS_NOT_MEASURED',
    );
    expect(w.field).toBe('engine.maxLoras');
    expect(codes(warningsOf({ engine: { maxLoras: 384, maxCpuLoras: 384, maxLoraRank: 16 } }))).toEqual([]);
  });

  it('LP_WARN_MAX_CPU_LORAS_NOT_MEASURED: a CPU cache above the measured and above the adapters', () => {
    const w = only(warningsOf({ engine: { maxLoras: 16, maxCpuLoras: 1000 } }), 'LP_WARN_MAX_CPU_LORAS_NOT_MEASURED');
    expect(w.field).toBe('engine.maxCpuLoras');
  });

  it('LP_WARN_MAX_NUM_BATCHED_TOKENS_NOT_MEASURED: a token budget other than 2,048', () => {
    const ws = warningsOf({ engine: { maxLoras: 16, maxNumBatchedTokens: 8192, maxNumSeqs: 256 } });
    expect(only(ws, 'LP_WARN_MAX_NUM_BATCHED_TOKENS_NOT_MEASURED').field).toBe('engine.maxNumBatchedTokens');
    // the built H100 80 GB profile's default budget is 8,192: no envelope there, the built warning instead
    expect(codes(warningsOf({ gpu: 'h100-80gb', engine: { maxLoras: 16 } }, built))).toEqual([
      'LP_WARN_PROFILE_NOT_CALIBRATED',
    ]);
  });

  it('LP_WARN_MAX_NUM_SEQS_NOT_MEASURED: a sequence cap outside 50-2,048', () => {
    expect(
      only(warningsOf({ engine: { maxLoras: 16, maxNumSeqs: 16 } }), 'LP_WARN_MAX_NUM_SEQS_NOT_MEASURED').field,
    ).toBe('engine.maxNumSeqs');
    expect(warningsOf({ engine: { maxLoras: 16, maxNumSeqs: 50 } })).toEqual([]);
  });

  it('LP_WARN_ARRIVALS_NOT_MEASURED: arrivals other than Poisson', () => {
    for (const arrivals of [{ process: 'gamma', cv: 2 }, { process: 'regime' }] as const)
      expect(only(warningsOf({ arrivals }), 'LP_WARN_ARRIVALS_NOT_MEASURED').field).toBe('arrivals.process');
    const trace = {
      process: 'trace' as const,
      events: [{ t: 0, adapter: 'a0', inputTokens: 5000, outputTokens: 10 }],
    };
    // a trace's own lengths are not the document's length specs
    expect(codes(warningsOf({ arrivals: trace, inputTokens: { mean: 5000 } }))).toEqual([
      'LP_WARN_ARRIVALS_NOT_MEASURED',
    ]);
  });

  it('LP_WARN_ADAPTER_RATES_NOT_MEASURED: a median adapter above 3.2 req/s, as rates typed per minute are', () => {
    // 40 adapters of 6-42 requests per minute, typed as per second
    const perMinute = inside().adapters.map((a, i) => ({ ...a, rate: 6 + i }));
    const w = only(warningsOf({ adapters: perMinute }), 'LP_WARN_ADAPTER_RATES_NOT_MEASURED');
    expect(w.field).toBe('adapters.0.rate');
    expect(w.message).toMatch(/median adapter asks 25\.5 req\/s .* per minute, divide them by 60 \(17 req\/s/);
    // one hot adapter among cold ones is a skewed workload, not a unit mistake
    const hot = inside().adapters.map((a, i) => (i === 0 ? { ...a, rate: 40 } : a));
    expect(warningsOf({ adapters: hot })).toEqual([]);
  });
});

describe('warnings of a placement', () => {
  const registry = PredictorRegistry.fromDirectory(profiles);
  const llama = registry.get('llama-3.1-8b-instruct', 'h100-64gb');

  it('name the workload fields and the servers the placement chose', async () => {
    const workload = parseWorkload({
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      vllmVersion: '0.10.1',
      adapters: Array.from({ length: 900 }, (_, i) => ({ id: `a${i}`, rank: i === 7 ? 64 : 8, rate: 0.002 })),
      inputTokens: { mean: 1000 },
      engine: { maxNumBatchedTokens: 8192 },
      options: { maxAdaptersPerGpu: 1000 },
    });
    const placement = await place(workload, llama);
    const ws = placementWarnings(workload, placement, llama.profile);
    const fields = Object.fromEntries(ws.map((w) => [w.code, w.field]));
    expect(fields).toMatchObject({
      LP_WARN_VLLM_VERSION_NOT_MEASURED: 'vllmVersion',
      LP_WARN_RANK_NOT_MEASURED: 'adapters.7.rank',
      LP_WARN_PROMPT_LENGTH_NOT_MEASURED: 'inputTokens.mean',
      LP_WARN_MAX_NUM_BATCHED_TOKENS_NOT_MEASURED: 'engine.maxNumBatchedTokens',
    });
    // 900 cold adapters fit one server, beyond the 384 ever measured on one
    const crowded = placement.gpus.filter((g) => g.adapters.length > 384);
    expect(crowded.length).toBeGreaterThan(0);
    expect(fields.LP_WARN_ADAPTERS_PER_SERVER_NOT_MEASURED).toBe(`gpus.${crowded[0]!.index}.adapters`);
  });

  it('are empty for the example workload shape (measured ranks and lengths, the runs engine)', async () => {
    const workload = parseWorkload({
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      adapters: Array.from({ length: 60 }, (_, i) => ({ id: `a${i}`, rank: [8, 16, 32][i % 3]!, rate: 0.5 })),
      engine: { maxNumSeqs: 2048, maxNumBatchedTokens: 2048 },
    });
    expect(placementWarnings(workload, await place(workload, llama), llama.profile)).toEqual([]);
  });
});

describe('the codes', () => {
  const root = join(import.meta.dirname, '..', '..');

  it('each have a test above, titled by the code', () => {
    const text = readFileSync(import.meta.filename, 'utf8');
    expect(warningCodes.filter((code) => !text.includes(`it('${code}: `) && !text.includes(`it("${code}: `))).toEqual(
      [],
    );
  });

  it('are listed in docs/design.md with their condition', () => {
    const design = readFileSync(join(root, 'docs', 'design.md'), 'utf8');
    expect(warningCodes.filter((code) => !new RegExp(`^\\| \`${code}\` \\|`, 'm').test(design))).toEqual([]);
  });
});

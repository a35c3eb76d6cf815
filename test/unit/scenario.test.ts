import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/shared/errors.js';
import { ProfileStore } from '../../src/profiles/index.js';
import { parseScenario, resolveScenario, simulate } from '../../src/twin/index.js';
import { testProfile } from '../helpers/profile.js';

const base = {
  model: 'test-model',
  gpu: 'test-gpu',
  engine: { maxLoras: 2 },
  adapters: [
    { id: 'a', rank: 8, rate: 1 },
    { id: 'b', rank: 16, rate: 0.5 },
  ],
};

function issuesOf(fn: () => unknown): { code: string; paths: string[]; message: string } {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    const e = err as AppError;
    const issues = (e.details as { issues?: { path: string }[] } | undefined)?.issues ?? [];
    return { code: e.code, paths: issues.map((i) => i.path), message: e.message };
  }
  throw new Error('expected an AppError');
}

describe('scenario validation', () => {
  const profiles = new ProfileStore([testProfile()]);
  const bad: [string, unknown, string][] = [
    ['negative rate', { ...base, adapters: [{ id: 'a', rank: 8, rate: -1 }] }, 'adapters.0.rate'],
    ['non-finite rate', { ...base, adapters: [{ id: 'a', rank: 8, rate: Infinity }] }, 'adapters.0.rate'],
    ['rank 0', { ...base, adapters: [{ id: 'a', rank: 0, rate: 1 }] }, 'adapters.0.rank'],
    [
      'duplicate ids',
      {
        ...base,
        adapters: [
          { id: 'a', rank: 8, rate: 1 },
          { id: 'a', rank: 8, rate: 1 },
        ],
      },
      'adapters.1.id',
    ],
    ['no adapters', { ...base, adapters: [] }, 'adapters'],
    ['slots missing', { ...base, engine: {} }, 'engine.maxLoras'],
    ['unknown field', { ...base, engine: { maxLoras: 2, maxLora: 3 } }, 'engine'],
    ['gamma without cv', { ...base, arrivals: { process: 'gamma' } }, 'arrivals.cv'],
    [
      'trace of an unknown adapter',
      { ...base, arrivals: { process: 'trace', events: [{ t: 0, adapter: 'zz', inputTokens: 1, outputTokens: 1 }] } },
      'arrivals.events.0.adapter',
    ],
    ['lognormal without std', { ...base, inputTokens: { distribution: 'lognormal', mean: 10 } }, 'inputTokens.std'],
  ];
  for (const [name, input, path] of bad) {
    it(`rejects ${name}, naming ${path}`, () => {
      const r = issuesOf(() => parseScenario(input));
      expect(r.code).toBe('LP_ERR_INVALID_INPUT');
      expect(r.paths).toContain(path);
      expect(r.message).toContain(path);
    });
  }

  it('rejects settings vLLM refuses at start-up, naming the field', () => {
    expect(issuesOf(() => simulate({ ...base, engine: { maxLoras: 2, maxCpuLoras: 1 } }, profiles)).paths).toEqual([
      'engine.maxCpuLoras',
    ]);
    expect(issuesOf(() => simulate({ ...base, engine: { maxLoras: 2, maxLoraRank: 8 } }, profiles)).paths).toEqual([
      'adapters.1.rank',
    ]);
    expect(issuesOf(() => simulate({ ...base, engine: { maxLoras: 2, maxLoraRank: 24 } }, profiles)).paths).toContain(
      'engine.maxLoraRank',
    );
    expect(issuesOf(() => simulate({ ...base, engine: { maxLoras: 2, maxNumSeqs: 4096 } }, profiles)).paths).toEqual([
      'engine.maxNumSeqs',
    ]);
  });

  it('answers 404-style errors for unknown profiles', () => {
    const r = issuesOf(() => simulate({ ...base, model: 'nope' }, profiles));
    expect(r.code).toBe('LP_ERR_UNKNOWN_PROFILE');
  });

  it('applies vLLM and profile defaults', () => {
    const resolved = resolveScenario(parseScenario(base), testProfile());
    expect(resolved.engine).toEqual({
      maxLoras: 2,
      maxCpuLoras: 2,
      maxLoraRank: 16,
      maxNumBatchedTokens: 2048,
      maxNumSeqs: 256,
      kvCacheTokens: 102_000,
    });
    expect(resolved.durationS).toBe(3600);
    expect(resolved.seed).toBe(0);
    const small = resolveScenario(
      parseScenario({ ...base, adapters: [{ id: 'a', rank: 4, rate: 1 }], engine: { maxLoras: 3 } }),
      testProfile(),
    );
    expect(small.engine.maxLoraRank).toBe(8);
    expect(small.engine.maxCpuLoras).toBe(3);
  });
});

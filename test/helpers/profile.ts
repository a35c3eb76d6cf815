import { Profile } from '../../src/profiles/index.js';

const fit = { source: ['hand-written test fixture'], rows: 0, rmsError: 0, unit: 'ms' };

/**
 * A small hand-written profile with round numbers (not fitted to any data) so rule tests can predict
 * step times exactly: every step costs `stepMs` unless overridden.
 */
export function testProfile(overrides: Partial<Profile> = {}, stepMs = 10): Profile {
  return Profile.parse({
    schemaVersion: 1,
    model: 'test-model',
    gpu: 'test-gpu',
    description: 'test fixture',
    vllmVersion: 'test',
    maxModelLen: 4096,
    blockSize: 16,
    engineDefaults: { maxNumBatchedTokens: 2048, maxNumSeqs: 256 },
    kvCapacity: {
      ranks: [
        {
          rank: 8,
          points: [
            { slots: 8, tokens: 100_000 },
            { slots: 16, tokens: 96_000 },
          ],
          tokensPerSlot: 500,
          failures: [],
        },
        {
          rank: 16,
          points: [
            { slots: 8, tokens: 96_000 },
            { slots: 16, tokens: 88_000 },
          ],
          tokensPerSlot: 1000,
          failures: [],
        },
      ],
      fit: { ...fit, unit: 'KV tokens' },
    },
    forward: {
      base: { constantMs: stepMs, perDecodeMs: 0, perContextKiloTokenMs: 0, perPrefillTokenMs: 0, fit },
      lora: {
        enabledMs: 0,
        firstAdapterMs: 0,
        perSlotMs: 0,
        perSlotDecodeMs: 0,
        perSlotPrefillTokenMs: 0,
        perAdapterMs: 0,
        rankTileFactor: 0,
        fit,
      },
    },
    adapterLoad: {
      gpuFromCpu: [{ maxRank: 8, rank: 8, ms: 0 }],
      gpuFromCpuFit: fit,
      diskToCpuMsPerRank: 0,
      diskFit: fit,
    },
    scheduler: { constantMs: 0, perRunningMs: 0, perWaitingMs: 0, perSkippedMs: 0, fit },
    frontend: { ttftOverheadMs: 0, fit },
    calibration: { tool: 'test', notes: [] },
    ...overrides,
  });
}

/** Step-cost terms a test sets apart from loraProfile's. */
export type ForwardTerms = {
  base?: Partial<Profile['forward']['base']>;
  lora?: Partial<Profile['forward']['lora']>;
};

/**
 * testProfile with round step costs and every LoRA term non-zero, so that a step with LoRA is visibly dearer
 * than one without; `terms` replaces some step-cost terms.
 */
export function loraProfile(terms: ForwardTerms = {}): Profile {
  const p = testProfile();
  return testProfile({
    forward: {
      base: {
        ...p.forward.base,
        constantMs: 8,
        perDecodeMs: 0.5,
        perContextKiloTokenMs: 0,
        perPrefillTokenMs: 0.01,
        ...terms.base,
      },
      lora: {
        ...p.forward.lora,
        enabledMs: 2,
        firstAdapterMs: 1,
        perSlotMs: 0.25,
        perSlotDecodeMs: 0.01,
        perSlotPrefillTokenMs: 0.001,
        perAdapterMs: 0.5,
        rankTileFactor: 0.5,
        ...terms.lora,
      },
    },
  });
}

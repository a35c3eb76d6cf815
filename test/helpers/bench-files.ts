import { join } from 'node:path';
import { embeddedProfiles, type Profile } from '../../src/profiles/index.js';
import { twinBenchFiles, writeBenchFiles } from '../../src/refit/write-bench.js';
import { Rng } from '../../src/shared/rng.js';
import { parseScenario, type Scenario } from '../../src/twin/index.js';

export const llama = (): Profile => embeddedProfiles().get('llama-3.1-8b-instruct', 'h100-64gb');

/** What a round trip perturbs: the constants calibrate --bench refits. */
export const baseTerms = ['constantMs', 'perDecodeMs', 'perContextKiloTokenMs', 'perPrefillTokenMs'] as const;
export const slotTerms = ['perSlotMs', 'perSlotDecodeMs', 'perSlotPrefillTokenMs'] as const;

/**
 * A hidden profile: `start` with its step constants, per-adapter cost (and, with `slots`, slot costs) and KV
 * capacity each multiplied by a seeded factor in [1 - spread, 1 + spread].
 */
export function hiddenProfile(start: Profile, seed: number, spread = 0.3, slots = false): Profile {
  const rng = new Rng(seed, 0x41d);
  const factor = (): number => 1 + (2 * rng.next() - 1) * spread;
  const hidden = structuredClone(start);
  for (const k of baseTerms) hidden.forward.base[k] *= factor();
  hidden.forward.lora.perAdapterMs *= factor();
  if (slots) for (const k of slotTerms) hidden.forward.lora[k] *= factor();
  const kv = factor();
  for (const curve of hidden.kvCapacity.ranks) {
    for (const p of curve.points) p.tokens = Math.round(p.tokens * kv);
    curve.tokensPerSlot *= kv;
  }
  return hidden;
}

type RunSpec = Omit<Scenario, 'model' | 'gpu'>;

const adapters = (n: number, rate: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `lora-${i}`, rank: i % 2 === 1 ? 16 : 8, rate }));

/** A server without --enable-lora serving base-model requests at `rate`. */
const baseRun = (rate: number, inputTokens: number): RunSpec => ({
  engine: { enableLora: false },
  baseModel: { rate, inputTokens: { mean: inputTokens }, outputTokens: { mean: 150 } },
});

/**
 * A small probe plan: base-model runs (servers without LoRA) at two rates and lengths, runs with six adapters at
 * two rates (and, with `slots`, at a second --max-loras), 60 simulated seconds each.
 */
export function probePlan(seed: number, slots = false): Record<string, RunSpec> {
  const plan: Record<string, RunSpec> = {
    'base-r3': baseRun(3, 500),
    'base-r8': baseRun(8, 300),
    'lora-r4': {
      engine: { maxLoras: 8 },
      adapters: adapters(6, 0.7),
      inputTokens: { mean: 400 },
      outputTokens: { mean: 150 },
    },
    'lora-r10': {
      engine: { maxLoras: 8 },
      adapters: adapters(6, 1.6),
      inputTokens: { mean: 400 },
      outputTokens: { mean: 150 },
    },
  };
  if (slots)
    plan['lora-r10-slots32'] = {
      engine: { maxLoras: 32 },
      adapters: adapters(6, 1.6),
      inputTokens: { mean: 400 },
      outputTokens: { mean: 150 },
    };
  for (const spec of Object.values(plan)) Object.assign(spec, { durationS: 60, seed });
  return plan;
}

/** Writes each run's bench files (as the Twin serves them with `profile`) under dir/<run>; answers the server files. */
export function writeProbePlan(dir: string, profile: Profile, plan: Record<string, RunSpec>): string[] {
  return Object.entries(plan).map(([name, spec]) => {
    const scenario = parseScenario({ model: profile.model, gpu: profile.gpu, ...spec });
    writeBenchFiles(join(dir, name), twinBenchFiles(scenario, profile));
    return join(dir, name, 'server.json');
  });
}

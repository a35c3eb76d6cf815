import { maxFeasibleSlots, type Profile } from '../profiles/index.js';
import { Rng } from '../shared/rng.js';
import { allowedMaxLoraRanks, type Scenario } from '../twin/index.js';
import { benchmarkClientMaxInFlight } from './protocol.js';

/** Bump whenever sampleWorkload draws different workloads: cached sweeps of another version are refused. */
export const samplerVersion = 2;

/** Rate grid of the research sweeps (req/s); triples of it, cycled over the adapters, as in the real runs. */
export const researchRateGrid = [3.2, 1.6, 0.8, 0.4, 0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125];
const rankMixes = [[8], [16], [32], [64], [8, 16], [8, 16, 32], [16, 32], [8, 32], [8, 64], [16, 64], [8, 16, 32, 64]];
const researchAdapterCounts = [8, 16, 32, 64, 96, 128, 160, 192, 256, 320, 384];

const logUniform = (rng: Rng, lo: number, hi: number): number =>
  Math.exp(Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo)));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)]!;

/**
 * One random but plausible workload for `profile`: 1-1024 served adapters, rank mixes of 8-64,
 * memory-feasible slot counts (occasionally more than adapters), vLLM's default or the real runs'
 * max_num_seqs / token budget, skewed popularity (Dirichlet, Zipf, the research rate grid, uniform)
 * over a total demand from idle to several times a GPU's capacity, and varied length means.
 * Deterministic in (seed, index). Returns null when no slot count fits the sampled ranks.
 */
export function sampleWorkload(profile: Profile, seed: number, index: number): Scenario | null {
  const rng = new Rng(seed, 0x5eed0000 + index);
  const researchGrid = rng.next() < 0.25;
  const served =
    researchGrid || rng.next() < 0.1 ? pick(rng, researchAdapterCounts) : Math.round(logUniform(rng, 1, 1024));
  const mix = pick(rng, rankMixes);
  const cyclic = rng.next() < 0.6;
  const ranks = Array.from({ length: served }, (_, i) => (cyclic ? mix[i % mix.length]! : pick(rng, mix)));
  const maxRank = Math.max(...ranks);
  const maxLoraRank = allowedMaxLoraRanks.find((r) => r >= maxRank)!;
  // mostly at most one slot per adapter; sometimes more slots than adapters, as operators configure
  const slotCap = maxFeasibleSlots(profile, maxLoraRank, rng.next() < 0.15 ? Math.max(1, 4 * served) : served);
  if (slotCap < 1) return null;
  const slots =
    rng.next() < 0.15
      ? Math.max(1, Math.min(slotCap, pick(rng, researchAdapterCounts)))
      : Math.max(1, Math.min(slotCap, Math.round(logUniform(rng, 1, slotCap + 0.999))));
  // vLLM's defaults are 256 sequences and a 2048-token budget; the real runs used 2048 / 2048
  const maxNumSeqs = pick(rng, [256, 256, 256, 512, 1024, 2048, 2048]);
  const maxNumBatchedTokens = Math.max(maxNumSeqs, pick(rng, [2048, 2048, 2048, 2048, 2048, 2048, 4096, 8192]));
  const nearPool = rng.next() < 0.5;
  const inputMean = nearPool ? 223 * logUniform(rng, 0.85, 1.15) : logUniform(rng, 32, 1500);
  const outputMean = nearPool ? 196 * logUniform(rng, 0.85, 1.15) : logUniform(rng, 16, 800);
  const rates = researchGrid
    ? researchRates(rng, served, inputMean + outputMean)
    : popularityRates(rng, served, inputMean + outputMean);
  return {
    model: profile.model,
    gpu: profile.gpu,
    engine: { maxLoras: slots, maxCpuLoras: Math.max(served, slots), maxLoraRank, maxNumBatchedTokens, maxNumSeqs },
    adapters: rates.map((rate, i) => ({ id: `a${i}`, rank: ranks[i]!, rate })),
    inputTokens: { mean: round3(inputMean) },
    outputTokens: { mean: round3(outputMean) },
    arrivals: { process: 'poisson', maxInFlight: benchmarkClientMaxInFlight },
    durationS: 3600,
    seed: rng.nextUint32(),
  };
}

/** Three rates of the research grid cycled over the adapters, as in the real runs (demand capped at 150k tokens/s). */
function researchRates(rng: Rng, n: number, tokensPerRequest: number): number[] {
  const triple = [pick(rng, researchRateGrid), pick(rng, researchRateGrid), pick(rng, researchRateGrid)];
  const rates = Array.from({ length: n }, (_, i) => triple[i % 3]!);
  const demand = rates.reduce((s, r) => s + r, 0) * tokensPerRequest;
  const scale = Math.min(1, maxDemand / demand);
  return rates.map((r) => round6(r * scale));
}

/**
 * Total demand from idle to ~10x one H100 (most rows below 3x, where starvation is decided), split by a popularity law.
 */
function popularityRates(rng: Rng, n: number, tokensPerRequest: number): number[] {
  const demand = rng.next() < 0.85 ? logUniform(rng, 80, 40_000) : logUniform(rng, 40_000, maxDemand);
  const kind = rng.next();
  const totalRate = demand / tokensPerRequest;
  let weights: number[];
  if (kind < 0.5) {
    const alpha = logUniform(rng, 0.1, 5);
    weights = Array.from({ length: n }, () => rng.gamma(alpha) + 1e-12);
  } else if (kind < 0.8) {
    const s = 0.3 + rng.next() * 1.2;
    weights = Array.from({ length: n }, (_, i) => 1 / Math.pow(i + 1, s));
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [weights[i], weights[j]] = [weights[j]!, weights[i]!];
    }
  } else {
    weights = new Array<number>(n).fill(1);
  }
  const sum = weights.reduce((s, w) => s + w, 0);
  return weights.map((w) => round6((totalRate * w) / sum));
}

/** tokens/s; the real runs reach 150k */
const maxDemand = 150_000;

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

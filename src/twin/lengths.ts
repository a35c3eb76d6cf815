import type { Rng } from '../shared/rng.js';
import { sharegptTables, type LengthTable } from './sharegpt-shape.js';
import type { LengthSpec } from './scenario.js';

/** Draws one token count (>= 1). */
export type LengthSampler = (rng: Rng) => number;

/**
 * Most tokens one drawn request may have: far beyond any max_model_len (such requests are refused),
 * and small enough that sums of token counts stay finite whatever the distribution's tail.
 */
export const maxDrawnTokens = 10_000_000;

/** A draw as a token count: rounded, at least 1, at most maxDrawnTokens (NaN from a degenerate spec counts 1). */
function tokens(v: number): number {
  if (!(v >= 1)) return 1;
  return Math.min(maxDrawnTokens, Math.round(v));
}

export interface ResolvedLength {
  sampler: LengthSampler;
  /** expected value of the sampler (tokens), used for demand estimates */
  mean: number;
}

/**
 * Builds the sampler of a length spec. `kind` picks the ShareGPT marginal when no distribution is given.
 * Shapes are scaled multiplicatively to the requested mean; the normal is truncated at 1 token.
 */
export function resolveLength(spec: LengthSpec, kind: 'input' | 'output'): ResolvedLength {
  const distribution =
    spec.distribution ?? (spec.values ? 'empirical' : spec.std !== undefined ? 'normal' : 'sharegpt');
  switch (distribution) {
    case 'fixed': {
      const v = Math.max(1, Math.round(spec.mean ?? 1));
      return { sampler: () => v, mean: v };
    }
    case 'normal': {
      const mean = spec.mean ?? 1;
      const std = spec.std ?? 0;
      const sampler: LengthSampler = (rng) => tokens(mean + std * rng.normal());
      return { sampler, mean: truncatedNormalRoundedMean(mean, std) };
    }
    case 'lognormal': {
      const mean = spec.mean ?? 1;
      const std = spec.std ?? 0;
      const ratio = std / mean;
      // log(1 + ratio^2) without overflow for a tiny mean and a large std
      const sigma2 = ratio > 1e100 ? 2 * Math.log(ratio) : Math.log1p(ratio * ratio);
      const mu = Math.log(mean) - sigma2 / 2;
      const sigma = Math.sqrt(sigma2);
      return { sampler: (rng) => tokens(Math.exp(mu + sigma * rng.normal())), mean };
    }
    case 'empirical': {
      const values = Float64Array.from(spec.values ?? [1]);
      const mean = values.reduce((s, x) => s + x, 0) / values.length;
      return { sampler: (rng) => values[rng.int(values.length)]!, mean };
    }
    case 'sharegpt':
    case 'sharegpt-unfiltered': {
      const t = sharegptTables();
      const table =
        distribution === 'sharegpt'
          ? kind === 'input'
            ? t.prompt
            : t.output
          : kind === 'input'
            ? t.promptRaw
            : t.outputRaw;
      return scaledTable(table, spec.mean ?? table.mean);
    }
  }
}

function scaledTable(table: LengthTable, mean: number): ResolvedLength {
  const scale = mean / table.mean;
  const values = table.values;
  const n = values.length;
  return {
    sampler: (rng) => {
      const pos = rng.next() * (n - 1);
      const i = Math.floor(pos);
      const v = values[i]! + (values[Math.min(n - 1, i + 1)]! - values[i]!) * (pos - i);
      return tokens(v * scale);
    },
    mean,
  };
}

/** E[max(1, round(X))] for X ~ N(mean, std), by quadrature (demand estimate of the normal sampler). */
function truncatedNormalRoundedMean(mean: number, std: number): number {
  if (std === 0) return Math.max(1, Math.round(mean));
  let acc = 0;
  let mass = 0;
  const steps = 400;
  for (let i = 0; i < steps; i++) {
    const z = -6 + (12 * (i + 0.5)) / steps;
    const w = Math.exp(-0.5 * z * z);
    acc += w * Math.max(1, mean + std * z);
    mass += w;
  }
  return acc / mass;
}

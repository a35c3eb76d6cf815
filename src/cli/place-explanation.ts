import type { Placement } from '../placement/index.js';

function rate(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(v >= 10 ? 1 : 2);
}

function tokens(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

function traffic(t: NonNullable<Placement['totals']>): string {
  return (
    `${rate(t.requestsPerSecond)} req/s, ${tokens(t.promptTokensPerSecond)} prompt + ` +
    `${tokens(t.outputTokensPerSecond)} output tokens/s`
  );
}

/**
 * The few lines `place` writes to stderr after each answer (stdout stays the JSON): the traffic placed, what
 * binds each GPU, and why not one GPU fewer, so that a count off by a unit mistake shows at a glance.
 */
export function explanationLines(p: Placement, label: string): string[] {
  const lines = [`${label}${p.gpuCount} GPU(s) (lower bound ${p.lowerBound}) for ${traffic(p.totals!)}`];
  const shown = p.gpus.slice(0, 16);
  for (const g of shown) {
    const binding = g.binding ? `; ${g.binding.summary}` : '';
    lines.push(`  GPU ${g.index}: ${g.adapters.length} adapters, ${traffic(g.totals!)}${binding}`);
  }
  if (p.gpus.length > shown.length) lines.push(`  ... ${p.gpus.length - shown.length} more GPUs in the answer`);
  // absent when the Twin estimator's work limit left no runs for it
  lines.push(`  one GPU fewer: ${p.oneFewer?.summary ?? 'not explained (MAX_VERIFIED_REQUESTS reached)'}`);
  return lines;
}

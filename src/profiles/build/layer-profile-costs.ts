import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCsv } from '../../shared/csv.js';
import type { KernelCosts } from './kernel-costs.js';
import { interpolate } from './kernel-tables.js';
import type { ModelArchitecture } from './model-architecture.js';

/**
 * LLMServingSim's per-layer vLLM 0.19 timings of one model on one GPU (../shared/data/external/llmservingsim/
 * profiles/<hardware>/<org>/<model>/bf16/tp1: CUDA-kernel time of one decoder layer, dummy weights, eager; the
 * data README's calibration part). Where a kernel of the step has the shape of a profiled layer (the same model
 * at TP 1) its time is read from them; every other kernel keeps the fallback's cost. The tables measure the
 * kernels vLLM 0.19 runs on that card, which the roofline only estimates from peak numbers.
 */
export function layerProfileDir(dataDir: string, hardware: string, m: ModelArchitecture): string | undefined {
  const dir = join(dataDir, 'external/llmservingsim/profiles', hardware, m.hfModelId, 'bf16', 'tp1');
  return ['dense.csv', 'per_sequence.csv', 'attention.csv'].every((f) => existsSync(join(dir, f))) ? dir : undefined;
}

/** Layer timings (µs) by token count: xs ascending, ys the times in ms. */
interface Curve {
  xs: number[];
  ys: number[];
}

function curves(file: string, key: string): Map<string, Curve> {
  const out = new Map<string, Curve>();
  const rows = parseCsv(readFileSync(file, 'utf8'))
    .map((r) => ({ layer: r.layer ?? '', x: Number(r[key]), ms: Number(r.time_us) / 1000 }))
    .filter((r) => Number.isFinite(r.x) && Number.isFinite(r.ms))
    .sort((a, b) => a.x - b.x);
  for (const r of rows) {
    const c = out.get(r.layer) ?? { xs: [], ys: [] };
    if (c.xs[c.xs.length - 1] !== r.x) {
      c.xs.push(r.x);
      c.ys.push(r.ms);
    }
    out.set(r.layer, c);
  }
  return out;
}

/** Kernel costs of `m` at TP 1 from its layer profile in `dir`, `fallback` for every other shape. */
export function layerProfileCosts(dir: string, m: ModelArchitecture, fallback: KernelCosts): KernelCosts {
  const dense = curves(join(dir, 'dense.csv'), 'tokens');
  const perSequence = curves(join(dir, 'per_sequence.csv'), 'sequences');
  const qOut = m.heads * m.headDim;
  const kvOut = m.kvHeads * m.headDim;
  // the GEMM shapes (n, k) of the profiled layers: TP 1 shards of this model
  const shapes = new Map<string, Curve | undefined>([
    [`${qOut + 2 * kvOut}x${m.hidden}`, dense.get('qkv_proj')],
    [`${m.hidden}x${qOut}`, dense.get('o_proj')],
    [`${2 * m.intermediate}x${m.hidden}`, dense.get('gate_up_proj')],
    [`${m.hidden}x${m.intermediate}`, dense.get('down_proj')],
    [`${m.vocab}x${m.hidden}`, perSequence.get('lm_head')],
  ]);
  const attention = parseCsv(readFileSync(join(dir, 'attention.csv'), 'utf8')).map((r) => ({
    prefill: Number(r.prefill_chunk),
    kvPrefill: Number(r.kv_prefill),
    decodes: Number(r.n_decode),
    kv: Number(r.kv_decode),
    ms: Number(r.time_us) / 1000,
  }));
  const decodeRows = attention.filter((r) => r.prefill === 0 && r.decodes > 0);
  const decodeBatches = [...new Set(decodeRows.map((r) => r.decodes))].sort((a, b) => a - b);
  const decodeCurve = new Map<number, Curve>();
  for (const b of decodeBatches) {
    const rows = decodeRows.filter((r) => r.decodes === b).sort((x, y) => x.kv - y.kv);
    decodeCurve.set(b, { xs: rows.map((r) => r.kv), ys: rows.map((r) => r.ms) });
  }
  const prefillRows = attention
    .filter((r) => r.decodes === 0 && r.kvPrefill === 0 && r.prefill > 0)
    .sort((a, b) => a.prefill - b.prefill);
  const prefill: Curve = { xs: prefillRows.map((r) => r.prefill), ys: prefillRows.map((r) => r.ms) };
  const sameHeads = (heads: number, kvHeads: number, headDim: number) =>
    heads === m.heads && kvHeads === m.kvHeads && headDim === m.headDim;
  return {
    origin: `LLMServingSim layer profile of ${m.hfModelId} (vLLM 0.19, ${dir}); other kernels: ${fallback.origin}`,
    gemm: (tokens, n, k) => {
      const c = shapes.get(`${n}x${k}`);
      return c && c.xs.length > 1 ? Math.max(0, interpolate(c.xs, c.ys, tokens)) : fallback.gemm(tokens, n, k);
    },
    decodeAttention: (batch, kvLength, heads, kvHeads, headDim) => {
      if (!sameHeads(heads, kvHeads, headDim) || decodeBatches.length < 2)
        return fallback.decodeAttention(batch, kvLength, heads, kvHeads, headDim);
      // linear in KV length at each profiled batch, then linear in the batch (past 256 sequences: extrapolated)
      const atBatch = decodeBatches.map((b) => {
        const c = decodeCurve.get(b) as Curve;
        return c.xs.length > 1 ? interpolate(c.xs, c.ys, kvLength) : (c.ys[0] as number);
      });
      return Math.max(0, interpolate(decodeBatches, atBatch, batch));
    },
    prefillAttention: (tokens, heads, kvHeads, headDim) =>
      sameHeads(heads, kvHeads, headDim) && prefill.xs.length > 1
        ? Math.max(0, interpolate(prefill.xs, prefill.ys, tokens))
        : fallback.prefillAttention(tokens, heads, kvHeads, headDim),
    allReduce: fallback.allReduce,
    elementwise: fallback.elementwise,
  };
}

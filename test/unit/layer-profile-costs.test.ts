import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { KernelCosts } from '../../src/profiles/build/kernel-costs.js';
import { layerProfileCosts, layerProfileDir } from '../../src/profiles/build/layer-profile-costs.js';
import { ModelArchitecture } from '../../src/profiles/build/model-architecture.js';

const data = mkdtempSync(join(tmpdir(), 'layer-profile-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));

const tiny = ModelArchitecture.parse({
  name: 'tiny',
  hfModelId: 'test/tiny',
  architecture: 'LlamaForCausalLM',
  layers: 2,
  hidden: 64,
  heads: 4,
  kvHeads: 2,
  headDim: 16,
  intermediate: 128,
  vocab: 1000,
  tiedEmbeddings: false,
  maxPositions: 4096,
  dtype: 'bfloat16',
  qkvBias: false,
  source: 'hand-made',
});

/** A fallback that answers 99 ms for everything, so a table hit and a miss are told apart. */
const fallback: KernelCosts = {
  origin: 'fallback',
  gemm: () => 99,
  decodeAttention: () => 99,
  prefillAttention: () => 99,
  allReduce: () => 99,
  elementwise: () => 99,
};

function writeProfile(): string {
  const dir = join(data, 'external/llmservingsim/profiles/CARD/test/tiny/bf16/tp1');
  mkdirSync(dir, { recursive: true });
  const dense = ['layer,tokens,time_us'];
  for (const layer of ['qkv_proj', 'o_proj', 'gate_up_proj', 'down_proj'])
    for (const t of [1, 16, 256]) dense.push(`${layer},${t},${t * (layer === 'gate_up_proj' ? 20 : 10)}`);
  writeFileSync(join(dir, 'dense.csv'), dense.join('\n'));
  writeFileSync(join(dir, 'per_sequence.csv'), 'layer,sequences,time_us\nlm_head,1,1000\nlm_head,64,3000\n');
  const attention = ['prefill_chunk,kv_prefill,n_decode,kv_decode,time_us'];
  for (const n of [1, 2]) for (const kv of [16, 1024]) attention.push(`0,0,${n},${kv},${n * kv}`);
  attention.push('16,0,0,0,50', '256,0,0,0,800');
  writeFileSync(join(dir, 'attention.csv'), attention.join('\n'));
  return dir;
}

describe("kernel costs from LLMServingSim's per-layer profiles", () => {
  it('finds the profile of a model on a card, and none for another model', () => {
    const dir = writeProfile();
    expect(layerProfileDir(data, 'CARD', tiny)).toBe(dir);
    expect(layerProfileDir(data, 'CARD', { ...tiny, hfModelId: 'test/other' })).toBeUndefined();
  });

  it("reads the profiled layers' shapes (µs to ms, interpolated in tokens) and falls back for the rest", () => {
    const costs = layerProfileCosts(writeProfile(), tiny, fallback);
    // qkv: n = (4 + 2 x 2) x 16 = 128, k = 64; 10 µs per token
    expect(costs.gemm(16, 128, 64)).toBeCloseTo(0.16, 9);
    expect(costs.gemm(136, 128, 64)).toBeCloseTo(1.36, 9);
    expect(costs.gemm(16, 256, 64)).toBeCloseTo(0.32, 9); // gate_up: 2 x 128 by 64
    expect(costs.gemm(64, 1000, 64)).toBeCloseTo(3, 9); // lm_head per sequence
    expect(costs.gemm(16, 100, 64)).toBe(99); // not a shape of the model at TP 1
    // decode attention: bilinear in KV length and batch
    expect(costs.decodeAttention(2, 520, 4, 2, 16)).toBeCloseTo(1.04, 9);
    expect(costs.decodeAttention(1, 520, 2, 1, 16)).toBe(99); // other heads: a TP shard
    expect(costs.prefillAttention(136, 4, 2, 16)).toBeCloseTo(0.425, 9);
  });
});

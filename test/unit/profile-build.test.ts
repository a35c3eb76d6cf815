import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Profile } from '../../src/profiles/index.js';
import { CachingAllocatorModel } from '../../src/profiles/build/caching-allocator.js';
import { catalogGpu } from '../../src/profiles/build/gpu-catalog.js';
import { GemmModel, interpolate } from '../../src/profiles/build/kernel-tables.js';
import { kvBytesPerToken, kvMemory } from '../../src/profiles/build/kv-memory.js';
import { loraBuffers } from '../../src/profiles/build/lora-buffers.js';
import { ModelArchitecture, parameterCount } from '../../src/profiles/build/model-architecture.js';
import { catalogModel, findCatalogModel } from '../../src/profiles/build/model-catalog.js';
import { architectureFromConfig } from '../../src/profiles/build/model-config.js';
import { engineDefaults, vllmVersionTraits } from '../../src/profiles/build/vllm-version.js';
import { weightTensors } from '../../src/profiles/build/weight-tensors.js';
import { isAppError } from '../../src/shared/errors.js';
import { cli } from '../helpers/cli.js';

const MiB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'lora-placer-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A two-layer model small enough to count by hand. */
const tiny = ModelArchitecture.parse({
  name: 'tiny',
  hfModelId: 'test/tiny',
  architecture: 'Qwen2ForCausalLM',
  layers: 2,
  hidden: 1024,
  heads: 8,
  kvHeads: 2,
  headDim: 128,
  intermediate: 4096,
  vocab: 32000,
  tiedEmbeddings: false,
  maxPositions: 4096,
  dtype: 'bfloat16',
  qkvBias: false,
  source: 'hand-made',
});

describe('model catalog', () => {
  it('finds models by Hugging Face id in any case and by short name', () => {
    expect(findCatalogModel('META-LLAMA/llama-3.1-8b-instruct')?.name).toBe('llama-3.1-8b-instruct');
    expect(findCatalogModel('qwen-2.5-7b-instruct')?.hfModelId).toBe('Qwen/Qwen2.5-7B-Instruct');
    const llama = catalogModel('meta-llama/Llama-3.1-8B-Instruct');
    expect([llama.layers, llama.hidden, llama.kvHeads, llama.intermediate, llama.vocab]).toEqual([
      32, 4096, 8, 14336, 128256,
    ]);
  });

  it('counts the parameters of Llama-3.1-8B and Qwen2.5-7B as their model cards do', () => {
    expect(parameterCount(catalogModel('llama-3.1-8b-instruct'))).toBe(8030261248);
    expect(parameterCount(catalogModel('qwen-2.5-7b-instruct'))).toBe(7615616512);
  });

  it('refuses an unknown model naming the field', () => {
    try {
      catalogModel('acme/NoSuchModel-7B');
      expect.unreachable();
    } catch (err) {
      expect(isAppError(err) && err.status).toBe(400);
      expect((err as Error).message).toMatch(/^model: "acme\/NoSuchModel-7B"/);
    }
  });
});

describe('config.json', () => {
  const qwenLike = {
    architectures: ['Qwen2ForCausalLM'],
    num_hidden_layers: 28,
    hidden_size: 3584,
    num_attention_heads: 28,
    num_key_value_heads: 4,
    intermediate_size: 18944,
    vocab_size: 152064,
    max_position_embeddings: 32768,
    tie_word_embeddings: false,
    torch_dtype: 'bfloat16',
  };

  it('reads the architecture, with head_dim from hidden / heads and the Qwen2 qkv bias', () => {
    const m = architectureFromConfig(qwenLike, 'me/my-qwen', 'config.json');
    expect(m).toMatchObject({ name: 'my-qwen', headDim: 128, kvHeads: 4, qkvBias: true, tiedEmbeddings: false });
    expect(parameterCount(m)).toBe(parameterCount(catalogModel('qwen-2.5-7b-instruct')));
  });

  it('refuses an unsupported architecture by name', () => {
    const mixtral = { ...qwenLike, architectures: ['MixtralForCausalLM'] };
    expect(() => architectureFromConfig(mixtral, 'me/mixtral', 'config.json')).toThrow(/MixtralForCausalLM/);
  });

  it('names a missing field', () => {
    const { hidden_size: _, ...broken } = qwenLike;
    expect(() => architectureFromConfig(broken, 'me/broken', 'config.json')).toThrow(/hidden_size/);
  });
});

describe('GPU catalog and engine defaults', () => {
  it('knows the cards and refuses others naming the field', () => {
    expect(catalogGpu('H100-80GB').bandwidth).toBe(3.35e12);
    expect(() => catalogGpu('tpu-v5')).toThrow(/^gpu: unknown GPU "tpu-v5"/);
  });

  it('uses 8192 / 1024 on >= 70 GiB cards other than A100 from vLLM 0.9, else 2048 / 256', () => {
    expect(engineDefaults('0.24.0', catalogGpu('h100-80gb').memoryBytes, 'h100-80gb')).toEqual({
      maxNumBatchedTokens: 8192,
      maxNumSeqs: 1024,
    });
    expect(engineDefaults('0.24.0', catalogGpu('a100-80gb').memoryBytes, 'a100-80gb').maxNumSeqs).toBe(256);
    expect(engineDefaults('0.8.5', catalogGpu('h100-80gb').memoryBytes, 'h100-80gb').maxNumSeqs).toBe(256);
  });
});

describe('memory arithmetic', () => {
  it('reserves segments as the caching allocator does', () => {
    const a = new CachingAllocatorModel();
    a.alloc(3 * MiB); // 1-10 MiB: a 20 MiB segment, split
    a.alloc(12 * MiB); // over the 17 MiB left of it
    expect(a.reserved).toBe(20 * MiB);
    a.alloc(12.5 * MiB); // its own segment, rounded up to 2 MiB
    expect(a.reserved).toBe(34 * MiB);
    for (let i = 0; i < 4; i++) a.alloc(512 * 1024); // small: four in one 2 MiB segment
    expect(a.reserved).toBe(36 * MiB);
  });

  it('counts KV bytes per token and LoRA slot bytes by hand', () => {
    // 2 (K, V) x 2 layers x 2 KV heads x 128 x 2 bytes
    expect(kvBytesPerToken(tiny, 1, 'auto')).toBe(2048);
    expect(kvBytesPerToken(tiny, 1, 'fp8')).toBe(1024);
    // per layer, slot and rank: qkv A 3 x 1024, B 1024 + 2 x 256; o 1024 + 1024; gate_up 2 x 1024 + 2 x 4096;
    // down 4096 + 1024 = 22,016 elements of 2 bytes
    const bytes = loraBuffers(tiny, 1, 4, 16, 256).reduce((s, b) => s + b, 0);
    expect(bytes).toBe(2 * 4 * 16 * 2 * 22016);
  });

  it('charges Llama-3.1-8B per slot for its embedding LoRA and extra vocabulary rows, Qwen2.5-7B not', () => {
    const llama = catalogModel('meta-llama/Llama-3.1-8B-Instruct');
    const qwen = catalogModel('Qwen/Qwen2.5-7B-Instruct');
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    const perSlotWeights = (m: ModelArchitecture, extra: number) =>
      sum(weightTensors(m, 1, 2, extra)) - sum(weightTensors(m, 1, 1, extra));
    // vLLM 0.8.5's LlamaModel sizes embed_tokens with 256 extra rows per slot: 256 x 4096 x 2 bytes
    expect(vllmVersionTraits('0.1.dev6216+g1125ba0').loraExtraVocab).toBe(256);
    expect(perSlotWeights(llama, 256)).toBe(2 * MiB);
    expect(perSlotWeights(qwen, 256)).toBe(0);
    // rank 8, per layer and rank: qkv A 3 x 4096 + B 4096 + 2 x 1024, o 4096 + 4096, gate_up 2 x 4096 + 2 x 14336,
    // down 14336 + 4096 = 81,920 elements; x 32 layers x 8 x 2 bytes = 41,943,040. Embedding LoRA: embed
    // embeddings 256 x 4096, A 128,512 x 8, B 4096 x 8; logits A 8 x 4096, B 128,512 x 8, embeddings 256 x 4096
    // = 4,218,880 elements x 2 bytes = 8,437,760
    expect(sum(loraBuffers(llama, 1, 1, 8, 256))).toBe(41943040 + 8437760);
    // Qwen2.5-7B: qkv A 3 x 3584 + B 3584 + 2 x 512, o 2 x 3584, gate_up 2 x 3584 + 2 x 18944, down 18944 + 3584
    // = 90,112 elements x 28 layers x 8 x 2 bytes, no embedding LoRA
    expect(sum(loraBuffers(qwen, 1, 1, 8, 256))).toBe(90112 * 28 * 8 * 2);
    // from vLLM 0.12 there is no extra vocabulary: no extra rows, no embeddings tensors, B over the bare vocabulary
    expect(vllmVersionTraits('0.14.0').loraExtraVocab).toBe(0);
    expect(perSlotWeights(llama, 0)).toBe(0);
    expect(sum(loraBuffers(llama, 1, 1, 8, 0))).toBe(41943040 + 2 * (128256 * 8 + 4096 * 8 + 8 * 4096 + 128256 * 8));
  });

  it('gives the KV cache what is left, in whole blocks, and less with more slots', () => {
    const settings = {
      gpuMemoryBytes: 8 * 2 ** 30,
      gpuMemoryUtilization: 0.5,
      tensorParallelSize: 1,
      maxNumBatchedTokens: 256,
      maxNumSeqs: 64,
      maxModelLen: 4096,
      kvCacheDtype: 'auto' as const,
      blockSize: 16,
      nonTorchBytes: 100 * MiB,
    };
    const v = vllmVersionTraits('0.8.5');
    const one = kvMemory(tiny, settings, v, 1, 8);
    expect(one.budget).toBe(4 * 2 ** 30);
    // sampler: 14 bytes x 64 requests x 32000 logits + their hidden states
    expect(one.profilePeak).toBe(14 * 64 * 32000 + 64 * 1024 * 2);
    const free = one.budget - one.persistent - one.profilePeak - one.nonTorch;
    expect(one.kvTokens).toBe(Math.floor(free / (2048 * 16)) * 16);
    const many = kvMemory(tiny, settings, v, 64, 8);
    expect(many.kvTokens).toBeLessThan(one.kvTokens);
    expect(kvMemory(tiny, settings, vllmVersionTraits('0.24.0'), 1, 8).nonTorch).toBe(0);
  });
});

describe('kernel table interpolation', () => {
  // latency = 0.01 ms x (n k / 1024) x (1 + m / 16) on a 2 x 2 x 2 grid
  const f = (m: number, n: number, k: number) => 0.01 * ((n * k) / 1024) * (1 + m / 16);
  const points = [1, 16].flatMap((m) => [32, 64].flatMap((n) => [32, 64].map((k) => ({ m, n, k, ms: f(m, n, k) }))));
  const gemm = new GemmModel(points);

  it('returns measured points exactly and interpolates power laws in log space', () => {
    expect(gemm.ms(16, 64, 32)).toBeCloseTo(f(16, 64, 32), 12);
    // n k is a power law: its log is linear in log n
    expect(gemm.ms(1, Math.sqrt(32 * 64), 32)).toBeCloseTo(f(1, Math.sqrt(32 * 64), 32), 12);
    // beyond the largest n, the GEMM is priced as pieces of the largest n
    expect(gemm.ms(1, 256, 64)).toBeCloseTo(4 * f(1, 64, 64), 12);
  });

  it('interpolates piecewise linearly', () => {
    expect(interpolate([0, 1, 3], [0, 10, 30], 2)).toBe(20);
  });
});

describe('profile build CLI', () => {
  it('exits 2 naming the field on bad input', () => {
    const tp = cli([
      'profile',
      'build',
      '--model',
      'llama-3.1-8b-instruct',
      '--gpu',
      'h100-80gb',
      '--tp',
      'x',
      '--out',
      dir,
    ]);
    expect(tp.status).toBe(2);
    expect(tp.stderr).toMatch(/--tp: expected a positive integer/);
    const gpu = cli(['profile', 'build', '--model', 'llama-3.1-8b-instruct', '--gpu', 'b300', '--out', dir]);
    expect(gpu.status).toBe(2);
    expect(gpu.stderr).toMatch(/gpu: unknown GPU "b300"/);
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ architectures: ['MixtralForCausalLM'] }));
    const moe = cli(['profile', 'build', '--model', config, '--gpu', 'h100-80gb', '--out', dir]);
    expect(moe.status).toBe(2);
    expect(moe.stderr).toMatch(/num_hidden_layers|MixtralForCausalLM/);
  });

  it('writes a profile that parses and names its sources (roofline without tables)', () => {
    const r = cli([
      'profile',
      'build',
      '--model',
      'Qwen/Qwen2.5-7B-Instruct',
      '--gpu',
      'h100-80gb',
      '--tp',
      '2',
      '--data',
      join(dir, 'no-data'),
      '--out',
      dir,
    ]);
    expect(r.status, r.stderr).toBe(0);
    const file = join(dir, 'qwen-2.5-7b-instruct@h100-80gb-tp2.json');
    const profile = Profile.parse(JSON.parse(readFileSync(file, 'utf8')));
    expect(profile.source?.kind).toBe('roofline');
    expect(profile.tensorParallelSize).toBe(2);
    expect(profile.engineDefaults).toEqual({ maxNumBatchedTokens: 8192, maxNumSeqs: 1024 });
    expect(profile.forward.lora.fit.note).toMatch(/carried over from qwen-2\.5-7b-instruct@h100-64gb/);
    expect(profile.calibration.notes.join(' ')).toMatch(/KV capacity: vLLM 0\.24\.0 memory arithmetic/);
    // vLLM 0.24 looks no adapter tokenizer up; the calibrated profile's lookup stays behind, its engine pauses do not
    expect(profile.frontend.firstRequestOfAdapter).toBeUndefined();
    expect(profile.pauses?.perHeldAdapterMs).toBeGreaterThan(0);
    const old = join(dir, 'v0.10');
    const r010 = cli([
      'profile',
      'build',
      '--model',
      'qwen-2.5-7b-instruct',
      '--gpu',
      'h100-80gb',
      '--vllm-version',
      '0.10.2',
      '--data',
      join(dir, 'no-data'),
      '--out',
      old,
    ]);
    expect(r010.status, r010.stderr).toBe(0);
    const built010 = Profile.parse(JSON.parse(readFileSync(join(old, 'qwen-2.5-7b-instruct@h100-80gb.json'), 'utf8')));
    expect(built010.frontend.firstRequestOfAdapter?.ms).toBeGreaterThan(100);
    const check = cli([
      'profile',
      'build',
      '--model',
      'qwen-2.5-7b-instruct',
      '--gpu',
      'h100-80gb',
      '--tp',
      '2',
      '--data',
      join(dir, 'no-data'),
      '--out',
      dir,
      '--check',
    ]);
    expect(check.stdout).toMatch(/^same/);
  });
});

describe('profiles from directories', () => {
  it('lays directory profiles over the embedded ones; the Twin workers simulate with them', async () => {
    const { embeddedProfiles, profilesWith } = await import('../../src/profiles/index.js');
    const { parseScenario } = await import('../../src/twin/index.js');
    const { default: simulateTask } = await import('../../src/jobs/simulate.worker.js');
    const shipped = embeddedProfiles().get('llama-3.1-8b-instruct', 'h100-64gb');
    const slower = { ...shipped, forward: { ...shipped.forward, base: { ...shipped.forward.base, constantMs: 60 } } };
    const overrides = join(dir, 'overrides');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(overrides, { recursive: true });
    writeFileSync(join(overrides, 'slow.json'), JSON.stringify(slower));
    const store = profilesWith([overrides]);
    expect(store.get('llama-3.1-8b-instruct', 'h100-64gb').forward.base.constantMs).toBe(60);
    expect(store.get('qwen-2.5-7b-instruct', 'h100-64gb')).toEqual(
      embeddedProfiles().get('qwen-2.5-7b-instruct', 'h100-64gb'),
    );
    const scenario = parseScenario({
      model: 'llama-3.1-8b-instruct',
      gpu: 'h100-64gb',
      engine: { maxLoras: 2 },
      adapters: [{ id: 'a', rank: 8, rate: 2 }],
      durationS: 60,
      seed: 1,
    });
    const embedded = simulateTask({ scenario, profile: embeddedProfiles().get('llama-3.1-8b-instruct', 'h100-64gb') });
    const withSlow = simulateTask({ scenario, profile: store.get('llama-3.1-8b-instruct', 'h100-64gb') });
    expect(withSlow.itlMs!.mean).toBeGreaterThan(embedded.itlMs!.mean * 2);
  });
});

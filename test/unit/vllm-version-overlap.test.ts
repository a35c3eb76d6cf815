import { describe, expect, it } from 'vitest';
import { baseStep, overlappedStep } from '../../src/profiles/build/base-step.js';
import { fitLinearStep, operatingGrid } from '../../src/profiles/build/step-model.js';
import { vllmVersionTraits } from '../../src/profiles/build/vllm-version.js';

/** A GPU step exactly linear in decodes and prefill tokens, so the fits are exact. */
const grid = operatingGrid(2048, 256);
const linearGpu = (constantMs: number) =>
  fitLinearStep(
    grid,
    grid.map((p) => constantMs + 0.05 * p.decodes + (0.2 * p.contextTokens) / 1000 + 0.1 * p.prefillTokens),
  );
const cpu = { constantMs: 5, perDecodeMs: 0.02, note: 'test CPU overhead' };

describe("the vLLM version's step overlap (asynchronous scheduling)", () => {
  it('overlaps the CPU work with the GPU from 0.14 (0.19 on the RTX 4090 run), not on the 0.8.5 fork or 0.13', () => {
    expect(vllmVersionTraits('0.19.0').asyncScheduling).toBe(true);
    expect(vllmVersionTraits('0.14.0').asyncScheduling).toBe(true);
    expect(vllmVersionTraits('0.13.0').asyncScheduling).toBe(false);
    expect(vllmVersionTraits('0.8.5').asyncScheduling).toBe(false);
    expect(vllmVersionTraits('0.1.dev6216+g1125ba0').asyncScheduling).toBe(false);
  });

  it('without overlap a step costs GPU plus CPU; with it, the GPU alone when the GPU is the longer', () => {
    const gpu = linearGpu(15);
    const summed = baseStep(gpu, cpu, 'test');
    expect(summed.constantMs).toBeCloseTo(20, 6);
    expect(summed.perDecodeMs).toBeCloseTo(0.07, 6);
    const overlapped = baseStep(overlappedStep(gpu, cpu, grid), cpu, 'test', true);
    expect(overlapped.constantMs).toBeCloseTo(15, 6);
    expect(overlapped.perDecodeMs).toBeCloseTo(0.05, 6);
    expect(overlapped.perPrefillTokenMs).toBeCloseTo(0.1, 6);
    expect(overlapped.fit.note).toContain('overlapped with the GPU step');
  });

  it('charges the CPU where it is the longer: a GPU step shorter than the CPU overhead costs more than the GPU', () => {
    const gpu = linearGpu(1);
    const step = overlappedStep(gpu, cpu, grid);
    // a single decode: GPU 1.05 ms + KV, CPU 5.02 ms; the refit lies between the two, above the GPU's
    const one = step.constantMs + step.perDecodeMs + (step.perContextKiloTokenMs * 128) / 1000;
    expect(one).toBeGreaterThan(2);
    expect(step.constantMs).toBeGreaterThan(gpu.constantMs);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { calibrate } from '../../src/profiles/calibration/calibrate.js';
import { kvCapacityTokens } from '../../src/profiles/index.js';
import { truth, writeSyntheticTables } from '../helpers/calibration-tables.js';

const dir = mkdtempSync(join(tmpdir(), 'lora-placer-cal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('calibrate', () => {
  writeSyntheticTables(dir);
  const { profiles, warnings } = calibrate({
    dataDir: dir,
    gpu: 'toy-gpu',
    maxModelLen: { 'toy-model': 100_000 },
    mixedShape: { promptMean: 200, outputMean: 200, outputContext: 100 },
  });
  const p = profiles[0]!;

  it('fits one valid profile per model and agrees with the measured start-up failures', () => {
    expect(profiles.map((x) => `${x.model}@${x.gpu}`)).toEqual(['toy-model@toy-gpu']);
    expect(warnings).toEqual([]);
    expect(p.engineDefaults).toEqual({ maxNumBatchedTokens: 2048, maxNumSeqs: 256 });
  });

  it('recovers the KV slope per rank', () => {
    expect(p.kvCapacity.ranks.map((c) => Math.round(c.tokensPerSlot))).toEqual([400, 800]);
    expect(kvCapacityTokens(p, 48, 8)).toBe(truth.kv.noLora - 400 * 48);
  });

  it('recovers the base and LoRA step-time constants', () => {
    const b = p.forward.base;
    expect(b.constantMs).toBeCloseTo(truth.base.c0, 6);
    expect(b.perDecodeMs).toBeCloseTo(truth.base.decode, 8);
    expect(b.perContextKiloTokenMs).toBeCloseTo(truth.base.context, 6);
    expect(b.perPrefillTokenMs).toBeCloseTo(truth.base.prefill, 8);
    const l = p.forward.lora;
    expect(l.enabledMs).toBeCloseTo(truth.lora.enabled, 4);
    expect(l.firstAdapterMs).toBeCloseTo(truth.lora.first, 4);
    expect(l.perSlotMs).toBeCloseTo(truth.lora.slot, 6);
    expect(l.perSlotDecodeMs).toBeCloseTo(truth.lora.slotDecode, 8);
    expect(l.perSlotPrefillTokenMs).toBeCloseTo(truth.lora.slotPrefill, 8);
    expect(l.perAdapterMs).toBeCloseTo(truth.lora.adapter, 6);
    expect(l.rankTileFactor).toBeCloseTo(truth.lora.tile, 6);
    expect(l.fit.rmsRelativeError).toBeLessThan(1e-6);
  });

  it('recovers scheduler, loading and frontend constants', () => {
    expect(p.scheduler.perRunningMs).toBeCloseTo(truth.sched.running, 8);
    expect(p.scheduler.perWaitingMs).toBeCloseTo(truth.sched.waiting, 8);
    expect(p.scheduler.perSkippedMs).toBeCloseTo(truth.sched.skipped, 8);
    expect(p.adapterLoad.diskToCpuMsPerRank * 8).toBeCloseTo(truth.load.firstLoadMs - truth.load.activationMs, 6);
    expect(p.adapterLoad.gpuFromCpu.find((e) => e.maxRank === 32)!.ms).toBe(8);
    expect(p.frontend.ttftOverheadMs).toBeCloseTo(truth.frontendMs, 9);
  });

  it('names a missing table', () => {
    const empty = mkdtempSync(join(tmpdir(), 'lora-placer-cal-empty-'));
    try {
      expect(() =>
        calibrate({ dataDir: empty, gpu: 'g', mixedShape: { promptMean: 1, outputMean: 1, outputContext: 1 } }),
      ).toThrow(/mem_max_table.csv is missing/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

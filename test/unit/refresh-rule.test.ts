import { describe, expect, it } from 'vitest';
import { notWorse } from '../../src/jobs/refresh.js';
import type { PredictorMetrics } from '../../src/ml/bundle.js';
import { loadConfig } from '../../src/config.js';

const metrics = (smape: number, f1: number): PredictorMetrics => ({
  throughput: { smapeResearch: smape, smapeStandard: smape * 2, r2: 0.9 },
  itl: { smapeResearch: 5, smapeStandard: 10 },
  ttft: { smapeResearch: 20, smapeStandard: 40 },
  starved: { accuracy: 0.9, macroF1: f1 },
  rows: 100,
});

describe('refresh: a candidate replaces the served model only if it is not worse', () => {
  it('accepts equal or better, within 1 % of the SMAPE and 0.005 of the macro-F1', () => {
    expect(notWorse(metrics(3, 0.95), metrics(3, 0.95)).ok).toBe(true);
    expect(notWorse(metrics(3.02, 0.946), metrics(3, 0.95)).ok).toBe(true);
    expect(notWorse(metrics(2, 0.99), metrics(3, 0.95)).ok).toBe(true);
  });

  it('rejects a worse throughput or a worse starvation classifier, and says which', () => {
    expect(notWorse(metrics(3.1, 0.95), metrics(3, 0.95))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/throughput/),
    });
    expect(notWorse(metrics(3, 0.94), metrics(3, 0.95))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/starvation/),
    });
  });

  it('replaces a model with other features without comparing', () => {
    expect(notWorse(metrics(9, 0.5), null).ok).toBe(true);
  });
});

describe('service configuration', () => {
  it('has working defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 8080, BODY_LIMIT_BYTES: 8 * 1024 * 1024, REFRESH_INTERVAL_S: 0 });
    expect(c.API_TOKEN).toBeUndefined();
  });

  it('names every bad variable', () => {
    expect(() => loadConfig({ PORT: '99999', LOG_LEVEL: 'loud', BODY_LIMIT_BYTES: '-1' })).toThrow(
      /PORT.*LOG_LEVEL.*BODY_LIMIT_BYTES/,
    );
    expect(() => loadConfig({ API_TOKEN: 'short' })).toThrow(/API_TOKEN: must be at least 8 characters/);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/obs/metrics.js';
import { buildTestApp, smallScenario, smallWorkload } from '../helpers/app.js';

describe('GET /metrics', async () => {
  const app = await buildTestApp();
  afterAll(() => app.close());

  it('exposes lora_placer_* metrics in base units, counted per request', async () => {
    await app.inject({ method: 'POST', url: '/v1/predict', payload: smallScenario() });
    await app.inject({ method: 'POST', url: '/v1/predict', payload: smallScenario() });
    await app.inject({ method: 'POST', url: '/v1/placements', payload: smallWorkload() });
    const r = await app.inject({ url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/plain/);
    const text = r.body;
    expect(text).toContain('lora_placer_predictions_total{model="llama-3.1-8b-instruct",gpu="h100-64gb"} 2');
    expect(text).toContain('lora_placer_placements_total{objective="min-gpus",verified="false"} 1');
    expect(text).toMatch(
      /lora_placer_http_request_duration_seconds_count\{method="POST",route="\/v1\/predict",status_code="200"\} 2/,
    );
    expect(text).toMatch(/lora_placer_placement_duration_seconds_count\{verified="false"\} 1/);
    expect(text).toMatch(/lora_placer_model_age_seconds\{model="qwen-2.5-7b-instruct",gpu="h100-64gb"\} \d/);
    expect(text).toContain('lora_placer_process_cpu_seconds_total');
    const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
    expect(names.every((n) => n.startsWith('lora_placer_'))).toBe(true);
  });
});

describe('per-pool series of pools the store no longer lists (deleted on another replica)', () => {
  const moves = { moves: { count: 3 } };
  function metrics(pools: () => Promise<{ pool: string; desiredReplicas: number; stale: boolean }[]>) {
    return new Metrics({
      models: () => [],
      refreshRunning: () => false,
      pools,
      storeState: async () => 'reachable',
      storeBadRecords: () => [],
      work: () => ({ running: 0, queued: 0 }),
    });
  }
  const poolsIn = (text: string) =>
    [...text.matchAll(/^lora_placer_(?:adapter_moves|pool_observe_errors)_total\{pool="([^"]+)"\}/gm)].map((m) => m[1]);

  it('are dropped at the scrape that finds them gone, not a pool counted while it read the store', async () => {
    let listed!: (pools: { pool: string; desiredReplicas: number; stale: boolean }[]) => void;
    const m = metrics(() => new Promise((resolve) => (listed = resolve)));
    m.countMoves('kept', moves);
    m.countMoves('gone', moves);
    m.countObserveError('gone-too');
    const scrape = m.registry.metrics();
    // counted after the scrape began its read: the read could not list it yet
    m.countMoves('new', moves);
    listed([{ pool: 'kept', desiredReplicas: 1, stale: false }]);
    expect(poolsIn(await scrape).sort()).toEqual(['kept', 'new']);
  });

  it('are all kept while the store cannot be read', async () => {
    const m = metrics(async () => {
      throw new Error('down');
    });
    m.countMoves('a', moves);
    m.countObserveError('b');
    expect(poolsIn(await m.registry.metrics()).sort()).toEqual(['a', 'b']);
  });
});

import { afterAll, describe, expect, it } from 'vitest';
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

import { afterAll, describe, expect, it } from 'vitest';
import { readTraffic } from '../../src/observe/observed-traffic.js';
import { TrafficSource } from '../../src/observe/traffic-source.js';
import { buildTestApp, llama } from '../helpers/app.js';
import { startFakePrometheus } from '../helpers/fake-prometheus.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Gpu = { adapters: { id: string; rate: number }[] };
const placed = (placement: { gpus: Gpu[] }) => [...new Set(placement.gpus.flatMap((g) => g.adapters.map((a) => a.id)))];

describe('an observed adapter whose value a workload refuses', async () => {
  const prometheus = await startFakePrometheus();
  afterAll(() => prometheus.close());
  const options = { url: prometheus.url, timeoutMs: 2000, maxBytes: 1 << 20 };
  const adapters = ['ad-a', 'ad-b', 'ad-c', 'ad-d'].map((id) => ({ id, rank: 8 }));

  it("is dropped and counted by the Workload's own limits, the rest read as usual", async () => {
    prometheus.state.rates = { 'ad-a': 2, 'ad-b': 1, 'ad-c': 1, 'ad-d': 1 };
    prometheus.state.answer = 'out-of-range';
    prometheus.state.outOfRange = {
      // 1e6 req/s and a mean of 1e6 tokens are the limits, still accepted; a mean of 1e-7 is 0 once rounded
      rate: { 'ad-b': '1e308', 'ad-c': '1000000' },
      inputTokens: { 'ad-a': '1e12', 'ad-d': '1e-7' },
      outputTokens: { 'ad-d': '1000000' },
    };
    const reading = await readTraffic(options, TrafficSource.parse({ adapters }));
    expect(Object.fromEntries(reading.adapters)).toEqual({
      'ad-a': { rate: 2, inputTokens: null, outputTokens: 120 },
      'ad-c': { rate: 1_000_000, inputTokens: 400, outputTokens: 120 },
      'ad-d': { rate: 1, inputTokens: null, outputTokens: 1_000_000 },
    });
    expect(reading.droppedSeries).toEqual({ rate: 1, inputTokens: 2, outputTokens: 0 });
  });

  it('leaves the pool planned from the other adapters, showing and counting what was dropped', async () => {
    prometheus.state.rates = { 'ad-a': 2, 'ad-b': 1, 'ad-c': 0.5 };
    prometheus.state.answer = 'out-of-range';
    prometheus.state.outOfRange = { rate: { 'ad-a': '1e308' } };
    const app = await buildTestApp({ prometheus: options, poolStaleS: 60 });
    const pool = async () => (await app.inject({ url: '/v1/pools/p' })).json();
    const dropped = async (reason: string) =>
      Number(
        (await app.inject({ url: '/metrics' })).body
          .split('\n')
          .find((l) => l.startsWith(`lora_placer_observed_series_dropped_total{pool="p",reason="${reason}"}`))
          ?.split(' ')
          .at(-1) ?? 0,
      );
    try {
      const put = await app.inject({
        method: 'PUT',
        url: '/v1/pools/p/source',
        payload: { workload: llama, prometheus: { periodS: 1, graceS: 0, adapters } },
      });
      // before: "invalid workload", the pool not created (and an existing one stale from then on)
      expect(put.statusCode).toBe(200);
      expect(placed(put.json().placement).sort()).toEqual(['ad-b', 'ad-c']);
      expect(put.json().observation).toMatchObject({
        error: null,
        droppedSeries: { rate: 1, inputTokens: 0, outputTokens: 0 },
      });
      expect(await dropped('rate_out_of_range')).toBeGreaterThanOrEqual(1);

      // a token mean out of range: the adapter is planned with the default lengths
      prometheus.state.outOfRange = { inputTokens: { 'ad-b': '1e12' } };
      const changedAt = Date.now();
      for (const deadline = Date.now() + 10_000; ; await sleep(100)) {
        const p = await pool();
        if (Date.parse(p.observation.attemptedAt) > changedAt && p.observation.droppedSeries.inputTokens === 1) break;
        if (Date.now() > deadline) throw new Error('no read with the new answer');
      }
      const after = await pool();
      expect(after.observation).toMatchObject({ error: null, droppedSeries: { rate: 0, inputTokens: 1 } });
      expect(placed(after.placement).sort()).toEqual(['ad-a', 'ad-b', 'ad-c']);
      expect(after.stale).toBe(false);
      expect(await dropped('input_tokens_out_of_range')).toBeGreaterThanOrEqual(1);
      // a deleted pool's series go with it
      await app.inject({ method: 'DELETE', url: '/v1/pools/p' });
      expect(await dropped('rate_out_of_range')).toBe(0);
    } finally {
      await app.close();
    }
  });
});

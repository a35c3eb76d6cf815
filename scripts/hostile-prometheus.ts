// npx tsx scripts/hostile-prometheus.ts [seconds per phase, default 20] [extra series, default 99,990] (after
// npm run build): the built service (dist/main.js) observes a pool, every second, from a fake Prometheus that answers
// (a) 10 MB of nested arrays and (b) the two listed adapters' series and 99,990 of adapters nobody listed;
// /healthz is sampled every 20 ms and the service's RSS every 50 ms.
import { startFakePrometheus, type FakeAnswer } from '../test/helpers/fake-prometheus.js';
import { sampleHealthz, startService } from '../test/helpers/service-process.js';

const phaseS = Number(process.argv[2] ?? 20);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

const fake = await startFakePrometheus();
fake.state.rates = { 'ad-a': 2, 'ad-b': 1 };
fake.state.extraSeries = Number(process.argv[3] ?? 99_990);
/** A fresh service (RSS figures of one answer each): the pool planned from a good answer, then `answer` each period. */
async function phase(answer: FakeAnswer): Promise<string> {
  fake.state.answer = 'vector';
  const service = await startService({ PROMETHEUS_URL: fake.url, POOL_STALE_S: '600', LOG_LEVEL: 'error' }, 60_000, {
    built: true,
  });
  const put = await fetch(`${service.base}/v1/pools/p/source`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      workload: { model: 'llama-3.1-8b-instruct', gpu: 'h100-64gb' },
      prometheus: {
        periodS: 1,
        graceS: 600,
        adapters: [
          { id: 'ad-a', rank: 8 },
          { id: 'ad-b', rank: 16 },
        ],
      },
    }),
  });
  if (put.status !== 200) throw new Error(`PUT source: ${put.status} ${await put.text()}`);
  fake.state.answer = answer;
  const queriesBefore = fake.queries.length;
  const { latenciesMs: latencies, rssPeakBytes: rssPeak } = await sampleHealthz(service, phaseS * 1000);
  const pool = (await (await fetch(`${service.base}/v1/pools/p`)).json()) as {
    observation: { error: string | null; ignoredSeries: number };
  };
  await service.stop();
  latencies.sort((a, b) => a - b);
  const cells = [
    answer,
    fake.queries.length - queriesBefore,
    latencies.length,
    quantile(latencies, 0.5).toFixed(1),
    quantile(latencies, 0.99).toFixed(1),
    latencies.at(-1)!.toFixed(0),
    (rssPeak / 2 ** 20).toFixed(0),
    JSON.stringify(pool.observation.error?.slice(0, 60) ?? null),
  ];
  return `| ${cells.join(' | ')} |`;
}

const rows = [];
for (const answer of ['vector', 'nested', 'many-series'] as const) rows.push(await phase(answer));
process.stdout.write(
  `| answer | queries | /healthz samples | p50 ms | p99 ms | max ms | RSS peak MiB | observation.error |\n` +
    `|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
);
await fake.close();

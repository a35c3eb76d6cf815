import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../helpers/real-parts.js';
import { freePort } from '../../src/shared/free-port.js';
import { llama } from '../helpers/app.js';
import { exited, startService, type ServiceProcess } from '../helpers/service-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A LoRA gateway's exporter: the endpoint picker's request and token counters per target model, growing
 * at rates the test changes while it runs.
 */
function startGatewayExporter(): Promise<{
  server: Server;
  port: number;
  setRates: (rates: Record<string, number>) => void;
}> {
  const counts: Record<string, number> = {};
  let rates: Record<string, number> = {};
  let last = Date.now();
  const advance = () => {
    const now = Date.now();
    for (const [id, rate] of Object.entries(rates)) counts[id] = (counts[id] ?? 0) + (rate * (now - last)) / 1000;
    last = now;
  };
  const server = createServer((_req, res) => {
    advance();
    const lines: string[] = ['# TYPE llm_d_epp_request_total counter'];
    for (const [id, n] of Object.entries(counts)) lines.push(`llm_d_epp_request_total{target_model_name="${id}"} ${n}`);
    for (const [metric, mean] of [
      ['input', 300],
      ['output', 90],
    ] as const) {
      lines.push(`# TYPE llm_d_epp_request_${metric}_tokens histogram`);
      for (const [id, n] of Object.entries(counts)) {
        lines.push(`llm_d_epp_request_${metric}_tokens_bucket{target_model_name="${id}",le="+Inf"} ${n}`);
        lines.push(`llm_d_epp_request_${metric}_tokens_sum{target_model_name="${id}"} ${n * mean}`);
        lines.push(`llm_d_epp_request_${metric}_tokens_count{target_model_name="${id}"} ${n}`);
      }
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        port: (server.address() as { port: number }).port,
        setRates: (next) => {
          advance();
          rates = next;
        },
      }),
    ),
  );
}

describeWith(['prometheus'], 'a pool observed through a real Prometheus scraping a gateway exporter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lora-placer-observe-'));
  let exporter: Awaited<ReturnType<typeof startGatewayExporter>>;
  let prometheus: ChildProcess;
  let service: ServiceProcess;
  let promUrl = '';
  const periodS = 3;
  /** what Prometheus itself answers for an adapter's rate now (its estimate, which the plan must follow) */
  const prometheusRate = async (id: string): Promise<number> => {
    const query = encodeURIComponent(
      `sum by (target_model_name) (rate(llm_d_epp_request_total{target_model_name="${id}"}[5s]))`,
    );
    const answer = (await (await fetch(`${promUrl}/api/v1/query?query=${query}`)).json()) as {
      data: { result: { value: [number, string] }[] };
    };
    return Number(answer.data.result[0]?.value[1] ?? 0);
  };
  beforeAll(async () => {
    exporter = await startGatewayExporter();
    exporter.setRates({ 'ad-a': 2, 'ad-b': 1 });
    const port = await freePort();
    writeFileSync(
      join(dir, 'prometheus.yml'),
      'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gateway\n    static_configs:\n      - ' +
        `targets: ['127.0.0.1:${exporter.port}']\n`,
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    promUrl = `http://127.0.0.1:${port}`;
    for (
      const deadline = Date.now() + 30_000;
      !(await fetch(`${promUrl}/-/ready`).then(
        (r) => r.ok,
        () => false,
      ));
      await sleep(200)
    )
      if (Date.now() > deadline) throw new Error('prometheus not ready');
    service = await startService({ PROMETHEUS_URL: promUrl, POOL_STALE_S: String(4 * periodS) });
    // let the window fill with samples
    await sleep(6000);
  }, 90_000);
  afterAll(async () => {
    await service?.stop();
    if (prometheus && prometheus.exitCode === null) prometheus.kill('SIGKILL');
    if (prometheus) await exited(prometheus);
    exporter?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pool = async (): Promise<any> => (await fetch(`${service.base}/v1/pools/gw`)).json();
  const rateOf = (plan: { placement: { gpus: { adapters: { id: string; rate: number }[] }[] } }, id: string) =>
    plan.placement.gpus
      .flatMap((g) => g.adapters)
      .filter((a) => a.id === id)
      .reduce((sum, a) => sum + a.rate, 0);

  it('plans the observed rates, follows a change within two periods, ' +
    'and keeps the last plan (stale, 503) when Prometheus dies', async () => {
    const putSource = () =>
      fetch(`${service.base}/v1/pools/gw/source`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          workload: llama,
          prometheus: { admitUnknown: true, unknownAdapterRank: 16, windowS: 5, periodS, graceS: 0 },
        }),
      });
    // on a loaded machine Prometheus may not hold two samples in the window yet: "no traffic" is a 503 to retry
    let put = await putSource();
    for (const deadline = Date.now() + 20_000; put.status === 503 && Date.now() < deadline; put = await putSource())
      await sleep(500);
    expect(put.status).toBe(200);
    const first: any = await put.json();
    // rate() over a 5 s window of 1 s scrapes is Prometheus' estimate (scrapes jitter on a loaded machine):
    // the plan holds the order of the exporter's 2 req/s, far from the 30 req/s that follows
    expect(rateOf(first, 'ad-a')).toBeGreaterThan(0.5);
    expect(rateOf(first, 'ad-a')).toBeLessThan(6);
    expect(first.placement.gpus[0].adapters.length).toBeGreaterThan(0);

    exporter.setRates({ 'ad-a': 30, 'ad-b': 1, 'ad-c': 5 });
    // from the moment Prometheus itself reports the new rate, the plan follows within two periods (+1 s tick)
    for (const deadline = Date.now() + 20_000; (await prometheusRate('ad-a')) <= 15; await sleep(100))
      if (Date.now() > deadline) throw new Error('prometheus never saw the new rate');
    const seenAt = Date.now();
    let plan = first;
    while (!(rateOf(plan, 'ad-a') > 15 && rateOf(plan, 'ad-c') > 0) && Date.now() - seenAt < 20_000) {
      await sleep(100);
      plan = await pool();
    }
    const followedS = (Date.now() - seenAt) / 1000;
    expect(rateOf(plan, 'ad-a')).toBeGreaterThan(15);
    expect(followedS).toBeLessThanOrEqual(2 * periodS + 1);

    prometheus.kill('SIGKILL');
    await exited(prometheus);
    const kept = plan.placement;
    for (
      const deadline = Date.now() + 30_000;
      (await fetch(`${service.base}/v1/pools/gw/autoscale`)).status !== 503;
      await sleep(250)
    )
      if (Date.now() > deadline) throw new Error('the plan never went stale');
    const after = await pool();
    expect(after.placement).toEqual(kept);
    expect(after.stale).toBe(true);
    expect(after.observation.error).toMatch(/cannot query Prometheus/);
    expect(await (await fetch(`${service.base}/metrics`)).text()).toMatch(
      /lora_placer_pool_observe_errors_total\{pool="gw"\} [1-9]/,
    );
    expect(service.process.exitCode).toBeNull();
  }, 90_000);
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../helpers/real-parts.js';
import { freePort } from '../../src/shared/free-port.js';
import { smallWorkload } from '../helpers/app.js';

const root = join(import.meta.dirname, '..', '..');
const token = 'integration-token';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const exited = (p: ChildProcess): Promise<number | null> =>
  new Promise((r) => (p.exitCode !== null ? r(p.exitCode) : p.once('exit', (code) => r(code))));

describe('the service as a process, started with its environment', () => {
  let server: ChildProcess;
  let base = '';
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
      cwd: root,
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', API_TOKEN: token },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await until('/readyz', async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined));
  }, 60_000);
  afterAll(() => {
    if (server.exitCode === null) server.kill('SIGKILL');
  });

  it('exits 1 with a message naming the bad variable', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/main.ts')], {
      cwd: root,
      env: { ...process.env, PORT: 'eighty' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/invalid configuration: PORT/);
  });

  it('serves the OpenAPI document and the docs page', async () => {
    expect(((await (await fetch(`${base}/openapi.json`)).json()) as { openapi: string }).openapi).toBe('3.1.0');
    expect((await fetch(`${base}/docs`)).status).toBe(200);
  });

  describeWith(['prometheus', 'promtool'], 'with a real Prometheus scraping it', () => {
    let prometheus: ChildProcess;
    let promBase = '';
    const dir = mkdtempSync(join(tmpdir(), 'lora-placer-prom-'));
    /* biome-ignore lint/suspicious/noDuplicateTestHooks: the hook of the nested describeWith block, which biome
         does not see as a describe */
    beforeAll(async () => {
      const port = await freePort();
      promBase = `http://127.0.0.1:${port}`;
      const target = base.replace('http://', '');
      writeFileSync(
        join(dir, 'prometheus.yml'),
        'global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: lora-placer\n    ' +
          `static_configs:\n      - targets: ['${target}']\n`,
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
      await until('prometheus', async () => ((await fetch(`${promBase}/-/ready`)).status === 200 ? true : undefined));
    }, 60_000);
    // biome-ignore lint/suspicious/noDuplicateTestHooks: as above
    afterAll(async () => {
      prometheus.kill('SIGTERM');
      await exited(prometheus);
      rmSync(dir, { recursive: true, force: true });
    });

    it('passes promtool check metrics', async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    });

    it("reads a pool's desired replicas back through Prometheus", async () => {
      const put = await fetch(`${base}/v1/pools/itest`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(smallWorkload()),
      });
      expect(put.status).toBe(200);
      const gpus = ((await put.json()) as { placement: { gpuCount: number } }).placement.gpuCount;
      const query = encodeURIComponent('lora_placer_desired_replicas{pool="itest"}');
      const value = await until('the scraped gauge', async () => {
        const body = (await (await fetch(`${promBase}/api/v1/query?query=${query}`)).json()) as {
          data?: { result?: { value?: [number, string] }[] };
        };
        const v = body.data?.result?.[0]?.value?.[1];
        return v === undefined ? undefined : Number(v);
      });
      expect(value).toBe(gpus);
    }, 60_000);
  });

  it('shuts down cleanly on SIGTERM', async () => {
    server.kill('SIGTERM');
    expect(await exited(server)).toBe(0);
  });
});

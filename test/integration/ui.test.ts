import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { llama } from '../helpers/app.js';
import { describeWith, partPath } from '../helpers/real-parts.js';
import { startService, type ServiceProcess } from '../helpers/service-process.js';

const root = join(import.meta.dirname, '..', '..');
const screenshot = join(root, 'test-output', 'ui.png');
const token = 'ui-integration-token';

/** Two GPUs' worth of adapters, one hot; ids of the characters adapter names may hold. */
const workload = {
  ...llama,
  adapters: [
    { id: 'support-chat@v2', rank: 16, rate: 30 },
    ...Array.from({ length: 23 }, (_, i) => ({
      id: `tenant-${i}/sql+lora`,
      rank: i % 3 === 0 ? 16 : 8,
      rate: 0.2 + (i % 5) * 0.1,
    })),
  ],
  verify: true,
  options: { verifyDurationS: 600 },
};

/** A small pool outside what the profile was measured on: a rank-64 adapter and 1,000-token prompts. */
const outside = {
  ...llama,
  adapters: Array.from({ length: 8 }, (_, i) => ({ id: `wide-${i}`, rank: i === 2 ? 64 : 16, rate: 0.3 })),
  inputTokens: { mean: 1000 },
};

describeWith(['chromium'], 'the web view in a headless browser', () => {
  let service: ServiceProcess;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  let placement: {
    gpuCount: number;
    gpus: { adapters: { id: string }[]; binding: { summary: string; headroom: number } }[];
    oneFewer: { summary: string };
    totals: { requestsPerSecond: number };
  };

  beforeAll(async () => {
    // the default AUTH_SCOPE: the PUT needs the token, the reads and predictions the page makes do not
    service = await startService({ API_TOKEN: token });
    const put = await fetch(`${service.base}/v1/pools/web-demo`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(workload),
    });
    const answer = await put.text();
    expect(put.status, answer).toBe(200);
    placement = (JSON.parse(answer) as { placement: typeof placement }).placement;
    const second = await fetch(`${service.base}/v1/pools/web-outside`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(outside),
    });
    expect(second.status, await second.text()).toBe(200);
    browser = await puppeteer.launch({
      executablePath: partPath('chromium')!,
      headless: true,
      args: ['--no-sandbox'],
      protocolTimeout: 30_000,
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
  }, 120_000);

  afterAll(async () => {
    const pid = browser?.process()?.pid;
    await browser?.close().catch(() => undefined);
    if (pid !== undefined && browser?.process()?.exitCode === null) process.kill(pid, 'SIGKILL');
    await service?.stop();
  });

  it('loads the pools, shows the PUT placement as GPU cards with what binds each, the traffic, why not one ' +
    'GPU fewer, and charts the --max-loras sweep, with no console errors', async () => {
    await page.goto(`${service.base}/ui`, { waitUntil: 'load', timeout: 30_000 });
    await page.waitForSelector('button.pool-link[data-pool="web-demo"]', { timeout: 15_000 });
    await page.click('button.pool-link[data-pool="web-demo"]');
    await page.waitForSelector('#chart-section:not([hidden])', { timeout: 15_000 });
    await page.waitForFunction("document.body.dataset.state === 'ready'", { timeout: 30_000 });

    const cards = await page.$$eval('.gpu-card', (els) => els.length);
    expect(placement.gpuCount).toBeGreaterThan(1);
    expect(cards).toBe(placement.gpuCount);
    const shownIds = await page.$$eval('.gpu-card .adapter-id', (els) => els.map((e) => e.textContent));
    for (const g of placement.gpus) for (const a of g.adapters.slice(0, 12)) expect(shownIds).toContain(a.id);
    // verified placements say so on every card
    expect(await page.$$eval('.gpu-card .badge.basis', (els) => els.map((e) => e.textContent))).toEqual(
      placement.gpus.map(() => 'verified by the Twin'),
    );
    // every card: its load against what it can carry at the answer's headroom, and what binds it
    const loads = await page.$$eval('.gpu-card .load-text', (els) => els.map((e) => e.textContent ?? ''));
    expect(loads).toHaveLength(placement.gpuCount);
    for (const text of loads) expect(text).toMatch(/ tok\/s it can carry \(headroom [+−]\d+ %, asked for \+10 %\)/);
    expect(await page.$$eval('.gpu-card .binding', (els) => els.map((e) => e.textContent))).toEqual(
      placement.gpus.map((g) => `binds: ${g.binding.summary}`),
    );
    // the summary: the traffic placed and why not one GPU fewer
    const row = (name: string): Promise<string | null> =>
      page.$eval(`#plan-summary dd[data-row="${name}"]`, (e) => e.textContent);
    expect(await row('one GPU fewer')).toBe(placement.oneFewer.summary);
    const rps = Number(placement.totals.requestsPerSecond.toFixed(2));
    expect(await row('traffic')).toMatch(new RegExp(`^${String(rps).replace('.', '\\.')} req/s, \\S+ prompt \\+ `));

    // the chart: Chart.js drew the sweep on the canvas (pixels that are not transparent)
    // (browser code as strings: this project's tsconfig has no DOM types)
    const drawn = (await page.evaluate(`(() => {
      const canvas = document.getElementById('chart');
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted++;
      return { width: canvas.width, height: canvas.height, painted };
    })()`)) as { width: number; height: number; painted: number };
    expect(drawn.width).toBeGreaterThan(300);
    expect(drawn.height).toBeGreaterThan(200);
    expect(drawn.painted).toBeGreaterThan(2000);
    const points = Number(await page.evaluate("document.getElementById('chart-section').dataset.points"));
    expect(points).toBeGreaterThanOrEqual(4);
    expect(await page.$eval('#chart-note', (e) => e.textContent)).toMatch(
      /^Predicted by the distilled predictors \(POST \/v1\/predict/,
    );
    expect(await page.$eval('#chart-status', (e) => e.textContent)).not.toMatch(/failed/);

    mkdirSync(join(root, 'test-output'), { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    process.stdout.write(`web view screenshot: ${screenshot}\n`);
    expect(problems).toEqual([]);
  }, 90_000);

  it('redraws the chart for another GPU chosen as the scenario', async () => {
    const title = "Chart.getChart(document.getElementById('chart')).options.plugins.title.text";
    const before = (await page.evaluate(title)) as string;
    const other = await page.$eval(
      '#chart-gpu',
      (s) =>
        [...(s as unknown as { options: { value: string; selected: boolean }[] }).options].find((o) => !o.selected)!
          .value,
    );
    await page.select('#chart-gpu', other);
    await page.waitForFunction("document.body.dataset.state === 'ready'", { timeout: 30_000 });
    const after = (await page.evaluate(title)) as string;
    expect(after).toMatch(new RegExp(`^GPU ${other} `));
    expect(after).not.toBe(before);
    expect(problems).toEqual([]);
  }, 60_000);

  it("lists a plan's warnings, and none for a plan inside what the profile was measured on", async () => {
    // the demo pool: ranks 8/16, ShareGPT lengths, rates per second
    expect(await page.$eval('#warnings', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);
    await page.click('button.pool-link[data-pool="web-outside"]');
    await page.waitForSelector('#warnings li.warning', { timeout: 15_000 });
    await page.waitForFunction("document.body.dataset.state === 'ready'", { timeout: 30_000 });
    const shown = await page.$$eval('#warnings li.warning', (els) =>
      els.map((e) => ({ code: (e as unknown as { dataset: { code: string } }).dataset.code, text: e.textContent })),
    );
    expect(shown.map((w) => w.code)).toEqual(['LP_WARN_RANK_NOT_MEASURED', 'LP_WARN_PROMPT_LENGTH_NOT_MEASURED']);
    expect(shown[0]!.text).toMatch(/^adapters\.2\.rank: rank 64: .* 8, 16, 32 only LP_WARN_RANK_NOT_MEASURED$/);
    expect(shown[1]!.text).toMatch(/^inputTokens\.mean: a mean prompt of 1,000 tokens/);
    expect(await page.$eval('#warnings', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(false);
    await page.screenshot({ path: join(root, 'test-output', 'ui-warnings.png'), fullPage: true });
    expect(problems).toEqual([]);
  }, 60_000);
});

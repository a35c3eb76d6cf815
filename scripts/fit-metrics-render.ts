// npx tsx scripts/fit-metrics-render.ts [DATA_DIR]
//
// Fits the profile's /metrics render model (frontend.metricsRender, docs/twin-tails.md) on the tail
// calibration runs: ml_test_shared_timeseries.csv.gz holds every poll of the research benchmark's metrics
// checker, which sleeps 2 s between polls, so each poll's interval minus 2 s is how long the server took to
// answer /metrics. The Twin replays each operator-load run of ml_test_shared_real_runs.csv and counts the
// distinct vllm:lora_requests_info label sets recorded by each poll; a least-squares line through
// (label sets, answer time) gives the base and per-label-set cost. Calibration data only: the validation
// runs are not read. Prints the fit and, per workload, real and fitted answer times late in the window.
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { leastSquares } from '../src/shared/least-squares.js';
import { embeddedProfiles } from '../src/profiles/index.js';
import type { Profile } from '../src/profiles/index.js';
import { parseScenario, simulateParsed } from '../src/twin/index.js';
import type { Scrape } from '../src/twin/metrics-scrapes.js';
import { operatorLoadTtftMs, readRealRuns, scenarioOf } from '../src/validation/real-runs.js';

const data = process.argv[2] ?? '../shared/data/vllm-lora';
/** the checker's sleep between polls (benchmarks/lora/concurrent_metrics_checker.py) */
const checkerSleepS = 2;

interface Poll {
  tRelS: number;
  answerMs: number;
}

async function readPolls(file: string, keep: Set<string>): Promise<Map<string, Poll[]>> {
  const rows = createInterface({ input: createReadStream(file).pipe(createGunzip()) });
  const byRun = new Map<string, { t: number; tRel: number }[]>();
  let header: string[] | null = null;
  for await (const line of rows) {
    const cells = line.split(',');
    if (!header) {
      header = cells;
      continue;
    }
    const run = cells[0]!;
    if (!keep.has(run) || cells[header.indexOf('in_window')] !== '1') continue;
    const list = byRun.get(run) ?? [];
    list.push({ t: Number(cells[header.indexOf('time')]), tRel: Number(cells[header.indexOf('t_rel_s')]) });
    byRun.set(run, list);
  }
  const polls = new Map<string, Poll[]>();
  for (const [run, list] of byRun) {
    const out: Poll[] = [];
    for (let i = 0; i + 1 < list.length; i++)
      out.push({ tRelS: list[i]!.tRel, answerMs: (list[i + 1]!.t - list[i]!.t - checkerSleepS) * 1000 });
    polls.set(run, out);
  }
  return polls;
}

/** Label sets the Twin had recorded at each of its scrapes, for a render that costs nothing. */
function twinScrapes(profile: Profile, runScenario: ReturnType<typeof scenarioOf>): Scrape[] {
  const probe: Profile = {
    ...profile,
    frontend: {
      ...profile.frontend,
      metricsRender: { baseMs: 0, perLabelSetMs: 0, perListedAdapterMs: 0, maxMs: 1, source: 'probe' },
    },
  };
  const scrapes: Scrape[] = [];
  const scenario = parseScenario({ ...runScenario, metricsScrapeIntervalS: checkerSleepS });
  simulateParsed(scenario, probe, { observer: { onScrape: (s) => scrapes.push(s) } });
  return scrapes;
}

function scrapeAt(scrapes: Scrape[], t: number): Scrape | undefined {
  let lo = 0;
  let hi = scrapes.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (scrapes[mid]!.startS <= t) lo = mid + 1;
    else hi = mid;
  }
  return scrapes[Math.max(0, lo - 1)];
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
};

async function main(): Promise<void> {
  const runs = readRealRuns(join(data, 'ml_test_shared_real_runs.csv')).filter(
    (r) => r.real && r.real.ttftMs < operatorLoadTtftMs,
  );
  const polls = await readPolls(join(data, 'ml_test_shared_timeseries.csv.gz'), new Set(runs.map((r) => r.key)));
  const profiles = embeddedProfiles();
  /** per run and tenth of the window: median answer time and the Twin's label sets and listed adapters */
  const bins: { run: string; answerMs: number; sets: number; listed: number; changes: number }[] = [];
  for (const run of runs) {
    const list = polls.get(run.key);
    if (!list || list.length < 100 || !profiles.has(run.model, 'h100-64gb')) continue;
    const scrapes = twinScrapes(profiles.get(run.model, 'h100-64gb'), scenarioOf(run, 'h100-64gb', 1));
    const valid = list.filter((p) => p.answerMs >= 0 && p.answerMs < 10_000);
    for (let b = 0; b < 10; b++) {
      const part = valid.slice(Math.floor((b * valid.length) / 10), Math.floor(((b + 1) * valid.length) / 10));
      const at = part.map((p) => scrapeAt(scrapes, p.tRelS));
      bins.push({
        run: run.key,
        answerMs: median(part.map((p) => p.answerMs)),
        sets: median(at.map((s) => s?.labelSets ?? 0)),
        listed: median(at.map((s) => s?.listedAdapters ?? 0)),
        changes: median(at.map((s) => s?.changes ?? 0)),
      });
    }
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const ys = bins.map((b) => b.answerMs);
  const designs: [string, (b: (typeof bins)[number]) => number[]][] = [
    ['base + per label set', (b) => [1, b.sets]],
    ['base + per listed adapter', (b) => [1, b.listed]],
    ['base + per label set + per listed adapter', (b) => [1, b.sets, b.listed]],
    ['base + per change', (b) => [1, b.changes]],
    ['base + per label set + per change', (b) => [1, b.sets, b.changes]],
    ['per label set (no base)', (b) => [b.sets]],
    ['per change (no base)', (b) => [b.changes]],
  ];
  console.log(`runs ${bins.length / 10}, bins ${bins.length} (median answer per tenth of each window)`);
  for (const [name, row] of designs) {
    const fit = leastSquares(bins.map(row), ys);
    const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
    const ssRes = fit.residuals.reduce((a, r) => a + r * r, 0);
    const ssTot = ys.reduce((a, y) => a + (y - mean) ** 2, 0);
    const rel = bins.map((b, i) => Math.abs(fit.predictions[i]! - b.answerMs) / Math.max(b.answerMs, 1));
    console.log(
      `${name}: coefficients ${fit.coefficients.map((c) => c.toExponential(4)).join(', ')}; ` +
        `R2 ${(1 - ssRes / ssTot).toFixed(3)}; median |error| ${(median(rel) * 100).toFixed(1)} %`,
    );
  }
  // the profile's constants (src/twin/metrics-scrapes.ts researchHostRender): the last tenth of each run, where
  // the label sets have grown most, through the origin (the early tenths' answers are mostly the event loop's wait)
  const late = bins.filter((_, i) => i % 10 === 9);
  const lateFit = leastSquares(
    late.map((b) => [b.sets, b.listed]),
    late.map((b) => b.answerMs),
  );
  console.log(
    `last tenth, per label set + per listed adapter (no base): ` +
      `coefficients ${lateFit.coefficients.map((c) => c.toExponential(4)).join(', ')}`,
  );
  console.log('run | label sets | listed adapters | changes | real answer, last tenth (ms)');
  for (let i = 9; i < bins.length; i += 10) {
    const b = bins[i]!;
    const name = b.run.split('/').slice(-3).join('/');
    console.log(`${name} | ${b.sets} | ${b.listed} | ${b.changes} | ${b.answerMs.toFixed(0)}`);
  }
}

await main();

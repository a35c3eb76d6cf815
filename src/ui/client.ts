/**
 * The web view's script, served as /ui/assets/ui.js (an ES module: the page loads it with type="module").
 * It runs in the browser, not in Node: it reads the API with fetch (the token field, when filled, is sent as
 * a bearer token and kept only in the page) and builds the DOM with textContent only, never HTML from data:
 * adapter ids and pool names are user input. Built by src/ui/tsconfig.json (docs/ui.md, "How it is built").
 */
import type { Chart as ChartJs, ChartDataset } from 'chart.js';
import type { GpuPlan, Placement, PoolAnswer, PoolsAnswer, Prediction, Scenario, Slo, TrafficTotals } from './api.js';

declare global {
  interface Window {
    /** Chart.js's UMD build (/ui/assets/chart.umd.min.js, loaded before this module) */
    Chart?: typeof ChartJs;
  }
}

/** predictions the chart asks for at once */
const parallel = 4;
/** at most this many --max-loras values in the chart (one prediction each) */
const maxSweepPoints = 14;
const adaptersShown = 12;

/** the latest pool and chart asked for: answers to earlier ones are dropped */
let seq = 0;
let chartSeq = 0;
let chart: ChartJs | null = null;
let current: PoolAnswer | null = null;

/** An element of the page's markup (src/api/ui/html.ts), which has every id this script asks for. */
function $<T extends HTMLElement = HTMLElement>(id: string): T {
  return document.getElementById(id) as T;
}

type Tag = keyof HTMLElementTagNameMap;
/** text: the element's text; class: its class attribute; data: its data-* attributes; the rest: its properties */
type Props<K extends Tag> = Omit<Partial<HTMLElementTagNameMap[K]>, 'text' | 'dataset'> & {
  text?: string | number | null;
  class?: string;
  data?: Record<string, string | number>;
};
type Child = Node | string | number | null | undefined;

/** An element with text children only: strings become text nodes, never markup. */
function el<K extends Tag>(tag: K, props?: Props<K> | null, children?: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null) continue;
      if (k === 'text') e.textContent = String(v);
      else if (k === 'class') e.className = v as string;
      else if (k === 'data')
        for (const [d, x] of Object.entries(v as Record<string, unknown>)) e.dataset[d] = String(x);
      // a property of this element's type (Props says which), such as type, value, min or colSpan
      else (e as unknown as Record<string, unknown>)[k] = v;
    }
  }
  for (const c of children ?? []) {
    if (c === null || c === undefined) continue;
    e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return e;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function clear(node: Node): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}

function setStatus(id: string, text: string, isError?: boolean): void {
  const n = $(id);
  n.textContent = text || '';
  n.classList.toggle('error', !!isError);
}

function shown(v: number | null | undefined): v is number {
  return v !== null && v !== undefined && Number.isFinite(v);
}

function num(v: number | null | undefined, digits = 0): string {
  if (!shown(v)) return '—';
  return Number(v).toLocaleString('en-US', { maximumFractionDigits: digits });
}

function tokS(v: number | null | undefined): string {
  if (!shown(v)) return '—';
  return v >= 10000 ? `${num(v / 1000, 1)}k` : num(v, 0);
}

function ms(v: number | null | undefined): string {
  if (!shown(v)) return '—';
  if (v >= 10000) return `${num(v / 1000, 1)} s`;
  return `${num(v, v < 10 ? 1 : 0)} ms`;
}

function trafficText(t: TrafficTotals): string {
  return (
    `${num(t.requestsPerSecond, 2)} req/s, ${tokS(t.promptTokensPerSecond)} prompt + ` +
    `${tokS(t.outputTokensPerSecond)} output tokens/s`
  );
}

function pct(v: number): string {
  return `${v >= 0 ? '+' : '−'}${num(Math.abs(100 * v), 0)} %`;
}

/** The service's error code and message, or why it did not answer (status 0). */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** One API call; answers the parsed JSON or throws an ApiError with the service's error code and message. */
async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = $<HTMLInputElement>('token').value;
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let r: Response;
  try {
    r = await fetch(path, {
      method,
      headers,
      body: body === undefined ? null : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (err) {
    throw new ApiError(0, `the service did not answer (${(err as Error | undefined)?.message})`);
  }
  const text = await r.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (!r.ok) {
    const error = (json as { error?: { code: string; message: string } } | null)?.error;
    let msg = error ? `${error.code}: ${error.message}` : `HTTP ${r.status}`;
    if (r.status === 401) msg += ' (enter the API token above, then Reload)';
    throw new ApiError(r.status, msg);
  }
  return json as T;
}

/** Runs the tasks, at most n at a time; a failed task answers null (its error goes to onError). */
async function limited<T>(
  tasks: (() => Promise<T>)[],
  n: number,
  onError?: (err: unknown) => void,
): Promise<(T | null)[]> {
  const out = new Array<T | null>(tasks.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < tasks.length) {
      const i = next++;
      try {
        out[i] = await tasks[i]!();
      } catch (err) {
        out[i] = null;
        if (onError) onError(err);
      }
    }
  }
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(n, tasks.length); w++) workers.push(worker());
  await Promise.all(workers);
  return out;
}

function poolFromHash(): string | null {
  const m = /^#pool=(.+)$/.exec(location.hash);
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

async function loadPools(): Promise<void> {
  document.body.dataset.state = 'loading';
  setStatus('pools-status', 'Loading pools…');
  const table = $<HTMLTableElement>('pools');
  const body = table.tBodies[0]!;
  let answer: PoolsAnswer;
  try {
    answer = await api<PoolsAnswer>('GET', '/v1/pools');
  } catch (err) {
    setStatus('pools-status', `Pools not read: ${(err as Error).message}`, true);
    table.hidden = true;
    document.body.dataset.state = 'error';
    return;
  }
  clear(body);
  const pools = answer.pools || [];
  for (const p of pools) {
    const button = el('button', { type: 'button', class: 'pool-link', text: p.pool, data: { pool: p.pool } });
    button.addEventListener('click', () => {
      selectPool(p.pool);
    });
    const perReplica = p.gpusPerReplica ?? 1;
    body.appendChild(
      el('tr', { data: { pool: p.pool } }, [
        el('td', null, [button]),
        el('td', {
          class: 'num',
          text: perReplica > 1 ? `${p.desiredReplicas} × ${perReplica}` : p.desiredReplicas,
        }),
        el('td', { class: 'num', text: p.lowerBoundReplicas }),
        el('td', null, [
          el('span', { class: p.stale ? 'badge bad' : 'badge ok', text: p.stale ? 'stale' : 'current' }),
        ]),
        el('td', { text: new Date(p.computedAt).toLocaleString() }),
        el('td', { class: 'muted', text: p.modelVersion }),
      ]),
    );
  }
  table.hidden = pools.length === 0;
  setStatus(
    'pools-status',
    pools.length === 0
      ? 'No pools yet: PUT /v1/pools/{pool} with a workload, then Reload.'
      : `${pools.length}${pools.length === 1 ? ' pool' : ' pools'}: choose one.`,
  );
  const wanted = poolFromHash();
  if (wanted && pools.some((p) => p.pool === wanted)) await selectPool(wanted);
  else document.body.dataset.state = 'ready';
}

async function selectPool(name: string): Promise<void> {
  const mine = ++seq;
  document.body.dataset.state = 'loading';
  for (const row of $<HTMLTableElement>('pools').tBodies[0]!.rows) {
    row.setAttribute('aria-current', String(row.dataset.pool === name));
  }
  $('plan-section').hidden = false;
  $('plan-title').textContent = `Pool ${name}`;
  setStatus('plan-status', 'Loading the plan…');
  let plan: PoolAnswer;
  try {
    plan = await api<PoolAnswer>('GET', `/v1/pools/${encodeURIComponent(name)}`);
  } catch (err) {
    if (mine !== seq) return;
    setStatus('plan-status', `Plan not read: ${(err as Error).message}`, true);
    document.body.dataset.state = 'error';
    return;
  }
  if (mine !== seq) return;
  history.replaceState(null, '', `#pool=${encodeURIComponent(name)}`);
  current = plan;
  setStatus('plan-status', '');
  renderPlan(plan);
  const gpus = plan.placement.gpus;
  const gpuSelect = $<HTMLSelectElement>('chart-gpu');
  clear(gpuSelect);
  for (const g of gpus) {
    gpuSelect.appendChild(
      el('option', {
        value: String(g.index),
        text:
          `GPU ${g.index}: its ${plural(g.adapters.length, 'adapter')}` +
          ` at their routed rates (--max-loras ${g.engine.maxLoras} chosen)`,
      }),
    );
  }
  // the chart starts on the GPU with the most adapters: the one whose --max-loras matters most
  let busiest = 0;
  gpus.forEach((g, i) => {
    if (g.adapters.length > gpus[busiest]!.adapters.length) busiest = i;
  });
  gpuSelect.value = String(busiest);
  $('chart-section').hidden = gpus.length === 0;
  if (gpus.length) await drawChart(plan.placement, busiest, ++chartSeq);
  if (mine === seq) document.body.dataset.state = 'ready';
}

function sloText(slo: Slo | null): string {
  if (!slo) return 'none (research rule: throughput only)';
  const parts: string[] = [];
  if (slo.ttftP99Ms !== undefined) parts.push(`TTFT p99 ≤ ${ms(slo.ttftP99Ms)}`);
  if (slo.itlP99Ms !== undefined) parts.push(`ITL p99 ≤ ${ms(slo.itlP99Ms)}`);
  if (slo.ttftMs !== undefined) parts.push(`mean TTFT ≤ ${ms(slo.ttftMs)}`);
  if (slo.itlMs !== undefined) parts.push(`mean ITL ≤ ${ms(slo.itlMs)}`);
  return parts.length ? parts.join(', ') : 'none';
}

function renderPlan(plan: PoolAnswer): void {
  const p = plan.placement;
  const summary = $('plan-summary');
  clear(summary);
  const v = p.verification;
  const rows: ([string, string] | null)[] = [
    ['model', `${p.model} on ${p.gpu}`],
    ['objective', `${p.objective} (every GPU placed to meet the ${p.criterion} criterion)`],
    ['SLO', sloText(p.slo)],
    (p.gpusPerServer ?? 1) > 1
      ? [
          'GPUs',
          `${p.totalGpus} = ${p.serverCount} servers × ${p.gpusPerServer} GPUs (tensor parallel; ` +
            `no placement needs fewer than ${p.lowerBound} servers)`,
        ]
      : ['GPUs', `${p.gpuCount} (no placement needs fewer than ${p.lowerBound})`],
    ['adapters', `${p.routing.length} placed, ${p.unplaced.length} unplaced`],
    p.totals ? ['traffic', trafficText(p.totals)] : null,
    p.oneFewer ? ['one GPU fewer', p.oneFewer.summary] : null,
    [
      'latency',
      v
        ? `verified by the Twin: ${v.simulatedGpus} GPUs simulated in ${v.rounds} rounds, ` +
          `${v.gpusMissingCriterion} missing the criterion, ${v.starvedAdapters} starved adapters` +
          (v.budgetExhausted ? ' (simulation budget exhausted)' : '')
        : 'predicted by the distilled predictors (placed without verify)',
    ],
    [
      'plan',
      `${plan.stale ? 'stale' : 'current'}, computed ${new Date(plan.computedAt).toLocaleString()}, ` +
        `workload updated ${new Date(plan.updatedAt).toLocaleString()}, model ${p.modelVersion}`,
    ],
  ];
  for (const r of rows) {
    if (!r) continue;
    summary.appendChild(el('dt', { text: r[0] }));
    summary.appendChild(el('dd', { text: r[1], data: { row: r[0] } }));
  }
  renderWarnings(p.warnings || []);
  const gpus = $('gpus');
  clear(gpus);
  for (const g of p.gpus) gpus.appendChild(gpuCard(p, g));
  const unplaced = $('unplaced');
  clear(unplaced);
  if (p.unplaced.length) {
    unplaced.appendChild(el('h3', { text: 'Unplaced adapters' }));
    const t = el('table', null, [
      el('thead', null, [
        el('tr', null, [
          el('th', { text: 'adapter' }),
          el('th', { class: 'num', text: 'req/s unserved' }),
          el('th', { text: 'why' }),
        ]),
      ]),
    ]);
    const tb = el('tbody');
    for (const u of p.unplaced) {
      tb.appendChild(
        el('tr', null, [
          el('td', { class: 'adapter-id', text: u.id }),
          el('td', { class: 'num', text: num(u.rate, 3) }),
          el('td', { text: u.reason }),
        ]),
      );
    }
    t.appendChild(tb);
    unplaced.appendChild(t);
  }
}

/** Where the plan extrapolates beyond what its profile was measured on (Placement.warnings), one line each. */
function renderWarnings(warnings: NonNullable<Placement['warnings']>): void {
  const box = $('warnings');
  clear(box);
  box.hidden = warnings.length === 0;
  if (!warnings.length) return;
  box.appendChild(el('h3', { text: 'Outside what the profile was measured on' }));
  box.appendChild(
    el(
      'ul',
      null,
      warnings.map((w) =>
        el('li', { class: 'warning', data: { code: w.code } }, [
          el('code', { text: w.field }),
          `: ${w.message} `,
          el('span', { class: 'muted', text: w.code }),
        ]),
      ),
    ),
  );
}

function latencyRow(name: string, value: number | null, target: number | undefined): HTMLTableRowElement {
  const verdict = target === undefined || value === null ? '' : value <= target ? 'ok' : 'over';
  return el('tr', null, [
    el('td', { text: name }),
    el('td', { class: 'num', text: ms(value) }),
    el('td', { class: 'num muted', text: target === undefined ? '—' : ms(target) }),
    el('td', {
      class: verdict === 'ok' ? 'ok-text' : verdict === 'over' ? 'bad-text' : '',
      text: verdict === 'ok' ? '✓' : verdict === 'over' ? '✗' : '',
    }),
  ]);
}

function gpuCard(p: Placement, g: GpuPlan): HTMLElement {
  const met = g.meets.met;
  const verified = g.verified;
  const slo: Slo = p.slo || {};
  const n = g.adapters.length;
  const e = g.engine;
  const servers = (g.tensorParallelSize ?? 1) > 1;
  const card = el('article', { class: `gpu-card${met ? '' : ' missed'}`, data: { gpu: g.index } }, [
    el('header', null, [
      el('h3', { text: `${servers ? 'Server ' : 'GPU '}${g.index}` }),
      el('span', { class: 'muted', text: servers ? `${g.tensorParallelSize} × ${g.gpu}` : g.gpu }),
      el('span', {
        class: met ? 'badge ok' : 'badge bad',
        text: met ? `meets ${g.meets.criterion}` : `misses ${g.meets.criterion}`,
      }),
      el('span', { class: 'badge basis', text: g.meets.basis === 'twin' ? 'verified by the Twin' : 'predicted' }),
    ]),
    el('div', {
      class: 'flags',
      text: `--max-loras ${e.maxLoras}  --max-cpu-loras ${e.maxCpuLoras}  --max-lora-rank ${e.maxLoraRank}`,
    }),
  ]);
  card.appendChild(loadRow(g));
  if (g.binding)
    card.appendChild(
      el('div', { class: 'text binding', data: { constraint: g.binding.constraint } }, [
        el('strong', { text: 'binds: ' }),
        g.binding.summary,
      ]),
    );
  const slots = el('meter', { min: 0, max: Math.max(n, e.maxLoras, 1), value: Math.min(e.maxLoras, Math.max(n, 1)) });
  card.appendChild(
    el('div', { class: 'row' }, [
      el('span', { class: 'label', text: 'slots' }),
      slots,
      el('div', {
        class: 'text',
        text:
          `${plural(e.maxLoras, 'GPU slot')} for ${plural(n, 'adapter')}` +
          (n > e.maxLoras ? ` (the rest wait in the CPU cache of ${e.maxCpuLoras})` : '') +
          `; rank ≤ ${e.maxLoraRank}; KV cache ${tokS(e.kvCacheTokens)} tokens`,
      }),
    ]),
  );
  const source = verified ? 'verified' : 'predicted';
  const ttft99 = verified ? (verified.ttftMs ? verified.ttftMs.p99 : null) : g.predicted.ttftP99Ms;
  const itl99 = verified ? (verified.itlMs ? verified.itlMs.p99 : null) : g.predicted.itlP99Ms;
  const ttftMean = verified ? (verified.ttftMs ? verified.ttftMs.mean : null) : g.predicted.ttftMs;
  const itlMean = verified ? (verified.itlMs ? verified.itlMs.mean : null) : g.predicted.itlMs;
  card.appendChild(
    el('table', { class: 'latency' }, [
      el('thead', null, [
        el('tr', null, [
          el('th', { text: 'latency' }),
          el('th', { class: 'num', text: source }),
          el('th', { class: 'num', text: 'SLO' }),
          el('th'),
        ]),
      ]),
      el('tbody', null, [
        latencyRow('TTFT p99', ttft99, slo.ttftP99Ms),
        latencyRow('ITL p99', itl99, slo.itlP99Ms),
        latencyRow('TTFT mean', ttftMean, slo.ttftMs),
        latencyRow('ITL mean', itlMean, slo.itlMs),
      ]),
    ]),
  );
  let extra = `starvation probability ${num(g.predicted.starvationProbability, 3)}`;
  if (g.totals) extra += `; ${trafficText(g.totals)}`;
  if (verified)
    extra +=
      `; Twin: ${tokS(verified.throughput.total)} of ${tokS(verified.idealThroughput)} tok/s served` +
      (verified.starved ? ', starved' : '') +
      (verified.memoryError ? `, memory error: ${verified.memoryError}` : '');
  card.appendChild(el('div', { class: 'text muted', text: extra }));
  if (g.meets.failures.length)
    card.appendChild(
      el(
        'ul',
        { class: 'failures' },
        g.meets.failures.map((f) => el('li', { text: f })),
      ),
    );
  const rows = g.adapters
    .slice(0, adaptersShown)
    .map((a) =>
      el('tr', null, [
        el('td', { class: 'adapter-id', text: a.id }),
        el('td', { class: 'num', text: a.rank }),
        el('td', { class: 'num', text: num(a.rate, 3) }),
      ]),
    );
  if (n > adaptersShown)
    rows.push(el('tr', null, [el('td', { class: 'muted', colSpan: 3, text: `… and ${n - adaptersShown} more` })]));
  card.appendChild(
    el('table', { class: 'adapters' }, [
      el('thead', null, [
        el('tr', null, [
          el('th', { text: 'adapter' }),
          el('th', { class: 'num', text: 'rank' }),
          el('th', { class: 'num', text: 'req/s' }),
        ]),
      ]),
      el('tbody', null, rows),
    ]),
  );
  return card;
}

function scenarioOf(p: Placement, g: GpuPlan, engine: Scenario['engine'], rateFactor: number): Scenario {
  const scenario: Scenario = {
    model: p.model,
    gpu: p.gpu,
    engine,
    adapters: g.adapters.map((a) => ({ id: a.id, rank: a.rank, rate: a.rate * rateFactor })),
  };
  // the predictors of the placement's servers, not those of another tensor-parallel size
  if ((g.tensorParallelSize ?? 1) > 1) scenario.tensorParallelSize = g.tensorParallelSize;
  return scenario;
}

/**
 * The GPU's load against what it can carry: its traffic x (1 + headroom), headroom being the answer's (how
 * much its traffic can grow before the binding check fails), the one notion of headroom the page shows.
 */
function loadRow(g: GpuPlan): HTMLElement {
  const load = g.predicted.idealThroughput;
  const meter = el('meter', { class: 'load', min: 0, max: 1, value: 0 });
  let text = `${tokS(load)} tok/s demanded, ${tokS(g.predicted.throughput)} served (predicted)`;
  if (g.binding) {
    const carries = load * Math.max(0, 1 + g.binding.headroom);
    meter.max = Math.max(carries, load, 1);
    meter.value = load;
    meter.low = 0.7 * meter.max;
    meter.high = 0.9 * meter.max;
    meter.optimum = 0;
    text =
      `${tokS(load)} of ${tokS(carries)} tok/s it can carry (headroom ${pct(g.binding.headroom)}, ` +
      `asked for ${pct(g.predicted.headroom)}), ${tokS(g.predicted.throughput)} served (predicted)`;
  }
  return el('div', { class: 'row' }, [
    el('span', { class: 'label', text: 'load' }),
    meter,
    el('div', { class: 'text load-text', text }),
  ]);
}

/** --max-loras values to sweep: powers of two up to twice the adapters (at least 8), and the chosen value. */
function sweepValues(g: GpuPlan): number[] {
  const chosen = g.engine.maxLoras;
  const top = Math.min(4096, Math.max(8, 2 * g.adapters.length, chosen));
  let values: number[] = [];
  for (let m = 1; m <= top; m *= 2) values.push(m);
  values.push(g.adapters.length, chosen);
  values = values.filter((x, i, all) => x >= 1 && x <= 4096 && all.indexOf(x) === i).sort((a, b) => a - b);
  while (values.length > maxSweepPoints) {
    // drop the value farthest from the chosen one, never the chosen one
    const first = values[0]!;
    const last = values[values.length - 1]!;
    const far =
      first === chosen
        ? values.length - 1
        : last === chosen
          ? 0
          : Math.abs(Math.log(first / chosen)) > Math.abs(Math.log(last / chosen))
            ? 0
            : values.length - 1;
    values.splice(far, 1);
  }
  return values;
}

async function drawChart(p: Placement, index: number, mine: number): Promise<void> {
  const g = p.gpus[index]!;
  const values = sweepValues(g);
  $('chart-note').textContent =
    `Predicted by the distilled predictors (POST /v1/predict, ${values.length} calls), not simulated: GPU ` +
    `${g.index}'s ${plural(g.adapters.length, 'adapter')} at the rates routed to it, its --max-lora-rank ` +
    `${g.engine.maxLoraRank}, --max-num-batched-tokens ${g.engine.maxNumBatchedTokens} and --max-num-seqs ` +
    `${g.engine.maxNumSeqs}, the profile's KV capacity at each --max-loras, and the default prompt and output ` +
    "lengths (a plan does not carry the workload's lengths). " +
    'The larger point is the --max-loras the placement chose.';
  const Chart = window.Chart;
  if (typeof Chart !== 'function') {
    setStatus('chart-status', 'The chart library did not load.', true);
    return;
  }
  setStatus('chart-status', `Predicting ${values.length} settings…`);
  let failed: Error | null = null;
  const preds = await limited(
    values.map((m) => {
      const engine = {
        maxLoras: m,
        maxLoraRank: g.engine.maxLoraRank,
        maxNumBatchedTokens: g.engine.maxNumBatchedTokens,
        maxNumSeqs: g.engine.maxNumSeqs,
      };
      return () => api<Prediction>('POST', '/v1/predict', scenarioOf(p, g, engine, 1));
    }),
    parallel,
    (err) => {
      failed = err as Error;
    },
  );
  if (mine !== chartSeq) return;
  const memory = values.filter((_, i) => preds[i]?.memoryError);
  const status: string[] = [];
  // (assigned in the callback above: TypeScript's flow analysis does not see that)
  const failure = failed as Error | null;
  if (failure) status.push(`some predictions failed: ${failure.message}`);
  if (memory.length) status.push(`vLLM would not start (memory) at --max-loras ${memory.join(', ')}`);
  setStatus('chart-status', status.join('; '), !!failure);
  const chosen = values.indexOf(g.engine.maxLoras);
  const radius = values.map((_, i) => (i === chosen ? 7 : 3));
  const series = (field: 'throughput' | 'ttftP99Ms' | 'itlP99Ms'): (number | null)[] =>
    preds.map((r) => {
      const x = r && !r.memoryError ? r[field] : null;
      return x !== null && x > 0 ? x : null;
    });
  const datasets: ChartDataset<'line', (number | null)[]>[] = [
    {
      label: 'throughput (tok/s)',
      data: series('throughput'),
      yAxisID: 'tokens',
      borderColor: '#2563eb',
      backgroundColor: '#2563eb',
      pointRadius: radius,
      borderWidth: 2,
    },
    {
      label: 'TTFT p99 (ms)',
      data: series('ttftP99Ms'),
      yAxisID: 'ms',
      borderColor: '#dc2626',
      backgroundColor: '#dc2626',
      pointRadius: radius,
      borderWidth: 2,
    },
    {
      label: 'ITL p99 (ms)',
      data: series('itlP99Ms'),
      yAxisID: 'ms',
      borderColor: '#16a34a',
      backgroundColor: '#16a34a',
      pointRadius: radius,
      borderWidth: 2,
    },
  ];
  const slo: Slo = p.slo || {};
  const { ttftP99Ms, itlP99Ms } = slo;
  // an SLO is a dashed line in its figure's colour
  const sloLine = (label: string, ms: number, color: string) => ({
    label,
    data: values.map(() => ms),
    yAxisID: 'ms',
    borderColor: color,
    borderDash: [6, 4],
    borderWidth: 1,
    pointRadius: 0,
  });
  if (ttftP99Ms !== undefined) datasets.push(sloLine('TTFT p99 SLO', ttftP99Ms, '#dc2626'));
  if (itlP99Ms !== undefined) datasets.push(sloLine('ITL p99 SLO', itlP99Ms, '#16a34a'));
  if (chart) chart.destroy();
  chart = new Chart($<HTMLCanvasElement>('chart'), {
    type: 'line',
    data: { labels: values.map(String), datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: {
        x: { title: { display: true, text: '--max-loras (adapter slots)' } },
        tokens: {
          type: 'linear',
          position: 'left',
          beginAtZero: true,
          title: { display: true, text: 'throughput, tokens/s' },
        },
        ms: {
          type: 'logarithmic',
          position: 'right',
          grid: { drawOnChartArea: false },
          title: { display: true, text: 'p99 latency, ms (log)' },
        },
      },
      plugins: {
        title: {
          display: true,
          text:
            `GPU ${g.index} (${plural(g.adapters.length, 'adapter')}): predicted, chosen --max-loras ` +
            `${g.engine.maxLoras}`,
        },
        legend: { position: 'bottom' },
      },
    },
  });
  $('chart-section').dataset.points = String(values.length);
}

$('reload').addEventListener('click', () => {
  loadPools();
});
$('token').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') loadPools();
});
$('chart-gpu').addEventListener('change', (ev) => {
  if (!current) return;
  const mine = ++chartSeq;
  document.body.dataset.state = 'loading';
  drawChart(current.placement, Number((ev.target as HTMLSelectElement).value), mine).then(() => {
    if (mine === chartSeq) document.body.dataset.state = 'ready';
  });
});
loadPools();

/**
 * The web view's script (served as /ui/assets/ui.js), kept as a string so `tsc` builds carry it into
 * dist/ and `tsx` runs serve the same text. It runs in the browser, not in Node: it reads the API with
 * fetch (the token field, when filled, is sent as a bearer token and kept only in the page) and builds
 * the DOM with textContent only, never HTML from data: adapter ids and pool names are user input.
 * No template literals in it (this string is one).
 */
export const uiJs = String.raw`'use strict';
(function () {
  /** predictions the chart asks for at once */
  var parallel = 4;
  /** at most this many --max-loras values in the chart (one prediction each) */
  var maxSweepPoints = 14;
  var adaptersShown = 12;

  /** the latest pool and chart asked for: answers to earlier ones are dropped */
  var seq = 0;
  var chartSeq = 0;
  var chart = null;
  var current = null;

  function $(id) { return document.getElementById(id); }

  /** An element with text children only: strings become text nodes, never markup. */
  function el(tag, props, children) {
    var e = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === undefined || v === null) return;
        if (k === 'text') e.textContent = String(v);
        else if (k === 'class') e.className = v;
        else if (k === 'data') Object.keys(v).forEach(function (d) { e.dataset[d] = String(v[d]); });
        else e[k] = v;
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    });
    return e;
  }

  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function setStatus(id, text, isError) {
    var n = $(id);
    n.textContent = text || '';
    n.classList.toggle('error', !!isError);
  }

  function num(v, digits) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    return Number(v).toLocaleString('en-US', { maximumFractionDigits: digits === undefined ? 0 : digits });
  }

  function tokS(v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    return v >= 10000 ? num(v / 1000, 1) + 'k' : num(v, 0);
  }

  function ms(v) {
    if (v === null || v === undefined || !isFinite(v)) return '—';
    if (v >= 10000) return num(v / 1000, 1) + ' s';
    return num(v, v < 10 ? 1 : 0) + ' ms';
  }

  function trafficText(t) {
    return num(t.requestsPerSecond, 2) + ' req/s, ' + tokS(t.promptTokensPerSecond) + ' prompt + ' +
      tokS(t.outputTokensPerSecond) + ' output tokens/s';
  }

  function pct(v) { return (v >= 0 ? '+' : '−') + num(Math.abs(100 * v), 0) + ' %'; }

  function ApiError(status, message) { this.status = status; this.message = message; }

  /** One API call; answers the parsed JSON or throws an ApiError with the service's error code and message. */
  async function api(method, path, body) {
    var headers = { accept: 'application/json' };
    var token = $('token').value;
    if (token) headers.authorization = 'Bearer ' + token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    var r;
    try {
      r = await fetch(path, {
        method: method,
        headers: headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
      });
    } catch (err) {
      throw new ApiError(0, 'the service did not answer (' + (err && err.message) + ')');
    }
    var text = await r.text();
    var json = null;
    try { json = JSON.parse(text); } catch (e) { json = null; }
    if (!r.ok) {
      var msg = json && json.error ? json.error.code + ': ' + json.error.message : 'HTTP ' + r.status;
      if (r.status === 401) msg += ' (enter the API token above, then Reload)';
      throw new ApiError(r.status, msg);
    }
    return json;
  }

  /** Runs the tasks, at most n at a time; a failed task answers null (its error goes to onError). */
  async function limited(tasks, n, onError) {
    var out = new Array(tasks.length);
    var next = 0;
    async function worker() {
      while (next < tasks.length) {
        var i = next++;
        try { out[i] = await tasks[i](); } catch (err) { out[i] = null; if (onError) onError(err); }
      }
    }
    var workers = [];
    for (var w = 0; w < Math.min(n, tasks.length); w++) workers.push(worker());
    await Promise.all(workers);
    return out;
  }

  function poolFromHash() {
    var m = /^#pool=(.+)$/.exec(location.hash);
    if (!m) return null;
    try { return decodeURIComponent(m[1]); } catch (e) { return null; }
  }

  async function loadPools() {
    document.body.dataset.state = 'loading';
    setStatus('pools-status', 'Loading pools…');
    var table = $('pools');
    var body = table.tBodies[0];
    var answer;
    try {
      answer = await api('GET', '/v1/pools');
    } catch (err) {
      setStatus('pools-status', 'Pools not read: ' + err.message, true);
      table.hidden = true;
      document.body.dataset.state = 'error';
      return;
    }
    clear(body);
    var pools = answer.pools || [];
    pools.forEach(function (p) {
      var button = el('button', { type: 'button', class: 'pool-link', text: p.pool, data: { pool: p.pool } });
      button.addEventListener('click', function () { selectPool(p.pool); });
      body.appendChild(el('tr', { data: { pool: p.pool } }, [
        el('td', null, [button]),
        el('td', {
          class: 'num',
          text: p.gpusPerReplica > 1 ? p.desiredReplicas + ' × ' + p.gpusPerReplica : p.desiredReplicas,
        }),
        el('td', { class: 'num', text: p.lowerBoundReplicas }),
        el('td', null, [
          el('span', { class: p.stale ? 'badge bad' : 'badge ok', text: p.stale ? 'stale' : 'current' }),
        ]),
        el('td', { text: new Date(p.computedAt).toLocaleString() }),
        el('td', { class: 'muted', text: p.modelVersion }),
      ]));
    });
    table.hidden = pools.length === 0;
    setStatus(
      'pools-status',
      pools.length === 0
        ? 'No pools yet: PUT /v1/pools/{pool} with a workload, then Reload.'
        : pools.length + (pools.length === 1 ? ' pool' : ' pools') + ': choose one.',
    );
    var wanted = poolFromHash();
    if (wanted && pools.some(function (p) { return p.pool === wanted; })) await selectPool(wanted);
    else document.body.dataset.state = 'ready';
  }

  async function selectPool(name) {
    var mine = ++seq;
    document.body.dataset.state = 'loading';
    Array.prototype.forEach.call($('pools').tBodies[0].rows, function (row) {
      row.setAttribute('aria-current', String(row.dataset.pool === name));
    });
    $('plan-section').hidden = false;
    $('plan-title').textContent = 'Pool ' + name;
    setStatus('plan-status', 'Loading the plan…');
    var plan;
    try {
      plan = await api('GET', '/v1/pools/' + encodeURIComponent(name));
    } catch (err) {
      if (mine !== seq) return;
      setStatus('plan-status', 'Plan not read: ' + err.message, true);
      document.body.dataset.state = 'error';
      return;
    }
    if (mine !== seq) return;
    history.replaceState(null, '', '#pool=' + encodeURIComponent(name));
    current = plan;
    setStatus('plan-status', '');
    renderPlan(plan);
    var gpuSelect = $('chart-gpu');
    clear(gpuSelect);
    plan.placement.gpus.forEach(function (g) {
      gpuSelect.appendChild(
        el('option', {
          value: String(g.index),
          text:
            'GPU ' + g.index + ': its ' + plural(g.adapters.length, 'adapter') +
            ' at their routed rates (--max-loras ' + g.engine.maxLoras + ' chosen)',
        }),
      );
    });
    // the chart starts on the GPU with the most adapters: the one whose --max-loras matters most
    var busiest = 0;
    plan.placement.gpus.forEach(function (g, i) {
      if (g.adapters.length > plan.placement.gpus[busiest].adapters.length) busiest = i;
    });
    gpuSelect.value = String(busiest);
    $('chart-section').hidden = plan.placement.gpus.length === 0;
    if (plan.placement.gpus.length) await drawChart(plan.placement, busiest, ++chartSeq);
    if (mine === seq) document.body.dataset.state = 'ready';
  }

  function sloText(slo) {
    if (!slo) return 'none (research rule: throughput only)';
    var parts = [];
    if (slo.ttftP99Ms !== undefined) parts.push('TTFT p99 ≤ ' + ms(slo.ttftP99Ms));
    if (slo.itlP99Ms !== undefined) parts.push('ITL p99 ≤ ' + ms(slo.itlP99Ms));
    if (slo.ttftMs !== undefined) parts.push('mean TTFT ≤ ' + ms(slo.ttftMs));
    if (slo.itlMs !== undefined) parts.push('mean ITL ≤ ' + ms(slo.itlMs));
    return parts.length ? parts.join(', ') : 'none';
  }

  function renderPlan(plan) {
    var p = plan.placement;
    var summary = $('plan-summary');
    clear(summary);
    var v = p.verification;
    var rows = [
      ['model', p.model + ' on ' + p.gpu],
      ['objective', p.objective + ' (every GPU placed to meet the ' + p.criterion + ' criterion)'],
      ['SLO', sloText(p.slo)],
      p.gpusPerServer > 1
        ? [
            'GPUs',
            p.totalGpus + ' = ' + p.serverCount + ' servers × ' + p.gpusPerServer + ' GPUs (tensor parallel; ' +
              'no placement needs fewer than ' + p.lowerBound + ' servers)',
          ]
        : ['GPUs', p.gpuCount + ' (no placement needs fewer than ' + p.lowerBound + ')'],
      ['adapters', p.routing.length + ' placed, ' + p.unplaced.length + ' unplaced'],
      p.totals ? ['traffic', trafficText(p.totals)] : null,
      p.oneFewer ? ['one GPU fewer', p.oneFewer.summary] : null,
      [
        'latency',
        v
          ? 'verified by the Twin: ' + v.simulatedGpus + ' GPUs simulated in ' + v.rounds + ' rounds, ' +
            v.gpusMissingCriterion + ' missing the criterion, ' + v.starvedAdapters + ' starved adapters' +
            (v.budgetExhausted ? ' (simulation budget exhausted)' : '')
          : 'predicted by the distilled predictors (placed without verify)',
      ],
      [
        'plan',
        (plan.stale ? 'stale' : 'current') + ', computed ' + new Date(plan.computedAt).toLocaleString() +
          ', workload updated ' + new Date(plan.updatedAt).toLocaleString() + ', model ' + p.modelVersion,
      ],
    ];
    rows.forEach(function (r) {
      if (!r) return;
      summary.appendChild(el('dt', { text: r[0] }));
      summary.appendChild(el('dd', { text: r[1], data: { row: r[0] } }));
    });
    renderWarnings(p.warnings || []);
    var gpus = $('gpus');
    clear(gpus);
    p.gpus.forEach(function (g) { gpus.appendChild(gpuCard(p, g)); });
    var unplaced = $('unplaced');
    clear(unplaced);
    if (p.unplaced.length) {
      unplaced.appendChild(el('h3', { text: 'Unplaced adapters' }));
      var t = el('table', null, [
        el('thead', null, [
          el('tr', null, [
            el('th', { text: 'adapter' }),
            el('th', { class: 'num', text: 'req/s unserved' }),
            el('th', { text: 'why' }),
          ]),
        ]),
      ]);
      var tb = el('tbody');
      p.unplaced.forEach(function (u) {
        tb.appendChild(
          el('tr', null, [
            el('td', { class: 'adapter-id', text: u.id }),
            el('td', { class: 'num', text: num(u.rate, 3) }),
            el('td', { text: u.reason }),
          ]),
        );
      });
      t.appendChild(tb);
      unplaced.appendChild(t);
    }
  }

  /** Where the plan extrapolates beyond what its profile was measured on (Placement.warnings), one line each. */
  function renderWarnings(warnings) {
    var box = $('warnings');
    clear(box);
    box.hidden = warnings.length === 0;
    if (!warnings.length) return;
    box.appendChild(el('h3', { text: 'Outside what the profile was measured on' }));
    box.appendChild(
      el('ul', null, warnings.map(function (w) {
        return el('li', { class: 'warning', data: { code: w.code } }, [
          el('code', { text: w.field }),
          ': ' + w.message + ' ',
          el('span', { class: 'muted', text: w.code }),
        ]);
      })),
    );
  }

  function latencyRow(name, value, target) {
    var verdict = target === undefined || value === null || value === undefined ? '' : value <= target ? 'ok' : 'over';
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

  function gpuCard(p, g) {
    var met = g.meets.met;
    var verified = g.verified;
    var slo = p.slo || {};
    var n = g.adapters.length;
    var e = g.engine;
    var card = el('article', { class: 'gpu-card' + (met ? '' : ' missed'), data: { gpu: g.index } }, [
      el('header', null, [
        el('h3', { text: (g.tensorParallelSize > 1 ? 'Server ' : 'GPU ') + g.index }),
        el('span', { class: 'muted', text: g.tensorParallelSize > 1 ? g.tensorParallelSize + ' × ' + g.gpu : g.gpu }),
        el('span', {
          class: met ? 'badge ok' : 'badge bad',
          text: met ? 'meets ' + g.meets.criterion : 'misses ' + g.meets.criterion,
        }),
        el('span', { class: 'badge basis', text: g.meets.basis === 'twin' ? 'verified by the Twin' : 'predicted' }),
      ]),
      el('div', {
        class: 'flags',
        text: '--max-loras ' + e.maxLoras + '  --max-cpu-loras ' + e.maxCpuLoras + '  --max-lora-rank ' + e.maxLoraRank,
      }),
    ]);
    card.appendChild(loadRow(g));
    if (g.binding)
      card.appendChild(el('div', { class: 'text binding', data: { constraint: g.binding.constraint } }, [
        el('strong', { text: 'binds: ' }),
        g.binding.summary,
      ]));
    var slots = el('meter', { min: 0, max: Math.max(n, e.maxLoras, 1), value: Math.min(e.maxLoras, Math.max(n, 1)) });
    card.appendChild(el('div', { class: 'row' }, [
      el('span', { class: 'label', text: 'slots' }), slots,
      el('div', {
        class: 'text',
        text:
          plural(e.maxLoras, 'GPU slot') + ' for ' + plural(n, 'adapter') +
          (n > e.maxLoras ? ' (the rest wait in the CPU cache of ' + e.maxCpuLoras + ')' : '') + '; rank ≤ ' +
          e.maxLoraRank + '; KV cache ' + tokS(e.kvCacheTokens) + ' tokens',
      }),
    ]));
    var source = verified ? 'verified' : 'predicted';
    var ttft99 = verified ? (verified.ttftMs ? verified.ttftMs.p99 : null) : g.predicted.ttftP99Ms;
    var itl99 = verified ? (verified.itlMs ? verified.itlMs.p99 : null) : g.predicted.itlP99Ms;
    var ttftMean = verified ? (verified.ttftMs ? verified.ttftMs.mean : null) : g.predicted.ttftMs;
    var itlMean = verified ? (verified.itlMs ? verified.itlMs.mean : null) : g.predicted.itlMs;
    card.appendChild(el('table', { class: 'latency' }, [
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
    ]));
    var extra = 'starvation probability ' + num(g.predicted.starvationProbability, 3);
    if (g.totals) extra += '; ' + trafficText(g.totals);
    if (verified)
      extra +=
        '; Twin: ' + tokS(verified.throughput.total) + ' of ' + tokS(verified.idealThroughput) + ' tok/s served' +
        (verified.starved ? ', starved' : '') + (verified.memoryError ? ', memory error: ' + verified.memoryError : '');
    card.appendChild(el('div', { class: 'text muted', text: extra }));
    if (g.meets.failures.length)
      card.appendChild(
        el(
          'ul',
          { class: 'failures' },
          g.meets.failures.map(function (f) {
            return el('li', { text: f });
          }),
        ),
      );
    var rows = g.adapters.slice(0, adaptersShown).map(function (a) {
      return el('tr', null, [
        el('td', { class: 'adapter-id', text: a.id }),
        el('td', { class: 'num', text: a.rank }),
        el('td', { class: 'num', text: num(a.rate, 3) }),
      ]);
    });
    if (n > adaptersShown)
      rows.push(
        el('tr', null, [el('td', { class: 'muted', colSpan: 3, text: '… and ' + (n - adaptersShown) + ' more' })]),
      );
    card.appendChild(el('table', { class: 'adapters' }, [
      el('thead', null, [
        el('tr', null, [
          el('th', { text: 'adapter' }),
          el('th', { class: 'num', text: 'rank' }),
          el('th', { class: 'num', text: 'req/s' }),
        ]),
      ]),
      el('tbody', null, rows),
    ]));
    return card;
  }

  function scenarioOf(p, g, engine, rateFactor) {
    var scenario = {
      model: p.model,
      gpu: p.gpu,
      engine: engine,
      adapters: g.adapters.map(function (a) { return { id: a.id, rank: a.rank, rate: a.rate * rateFactor }; }),
    };
    // the predictors of the placement's servers, not those of another tensor-parallel size
    if (g.tensorParallelSize > 1) scenario.tensorParallelSize = g.tensorParallelSize;
    return scenario;
  }

  /**
   * The GPU's load against what it can carry: its traffic x (1 + headroom), headroom being the answer's (how
   * much its traffic can grow before the binding check fails), the one notion of headroom the page shows.
   */
  function loadRow(g) {
    var load = g.predicted.idealThroughput;
    var meter = el('meter', { class: 'load', min: 0, max: 1, value: 0 });
    var text = tokS(load) + ' tok/s demanded, ' + tokS(g.predicted.throughput) + ' served (predicted)';
    if (g.binding) {
      var carries = load * Math.max(0, 1 + g.binding.headroom);
      meter.max = Math.max(carries, load, 1);
      meter.value = load;
      meter.low = 0.7 * meter.max;
      meter.high = 0.9 * meter.max;
      meter.optimum = 0;
      text =
        tokS(load) + ' of ' + tokS(carries) + ' tok/s it can carry (headroom ' + pct(g.binding.headroom) +
        ', asked for ' + pct(g.predicted.headroom) + '), ' + tokS(g.predicted.throughput) + ' served (predicted)';
    }
    return el('div', { class: 'row' }, [
      el('span', { class: 'label', text: 'load' }),
      meter,
      el('div', { class: 'text load-text', text: text }),
    ]);
  }

  /** --max-loras values to sweep: powers of two up to twice the adapters (at least 8), and the chosen value. */
  function sweepValues(g) {
    var top = Math.min(4096, Math.max(8, 2 * g.adapters.length, g.engine.maxLoras));
    var values = [];
    for (var m = 1; m <= top; m *= 2) values.push(m);
    values.push(g.adapters.length, g.engine.maxLoras);
    values = values
      .filter(function (x, i, all) {
        return x >= 1 && x <= 4096 && all.indexOf(x) === i;
      })
      .sort(function (a, b) {
        return a - b;
      });
    while (values.length > maxSweepPoints) {
      // drop the value farthest from the chosen one, never the chosen one
      var far =
        values[0] === g.engine.maxLoras
          ? values.length - 1
          : values[values.length - 1] === g.engine.maxLoras
            ? 0
            : Math.abs(Math.log(values[0] / g.engine.maxLoras)) >
                Math.abs(Math.log(values[values.length - 1] / g.engine.maxLoras))
              ? 0
              : values.length - 1;
      values.splice(far, 1);
    }
    return values;
  }

  async function drawChart(p, index, mine) {
    var g = p.gpus[index];
    var values = sweepValues(g);
    $('chart-note').textContent =
      'Predicted by the distilled predictors (POST /v1/predict, ' + values.length + ' calls), not simulated: GPU ' +
      g.index + "'s " + plural(g.adapters.length, 'adapter') + ' at the rates routed to it, its --max-lora-rank ' +
      g.engine.maxLoraRank + ', --max-num-batched-tokens ' + g.engine.maxNumBatchedTokens + ' and --max-num-seqs ' +
      g.engine.maxNumSeqs + ", the profile's KV capacity at each --max-loras, and the default prompt and output " +
      "lengths (a plan does not carry the workload's lengths). " +
      'The larger point is the --max-loras the placement chose.';
    if (typeof window.Chart !== 'function') {
      setStatus('chart-status', 'The chart library did not load.', true);
      return;
    }
    setStatus('chart-status', 'Predicting ' + values.length + ' settings…');
    var failed = null;
    var preds = await limited(values.map(function (m) {
      var engine = {
        maxLoras: m,
        maxLoraRank: g.engine.maxLoraRank,
        maxNumBatchedTokens: g.engine.maxNumBatchedTokens,
        maxNumSeqs: g.engine.maxNumSeqs,
      };
      return function () { return api('POST', '/v1/predict', scenarioOf(p, g, engine, 1)); };
    }), parallel, function (err) { failed = err; });
    if (mine !== chartSeq) return;
    var memory = values.filter(function (m, i) { return preds[i] && preds[i].memoryError; });
    var status = [];
    if (failed) status.push('some predictions failed: ' + failed.message);
    if (memory.length) status.push('vLLM would not start (memory) at --max-loras ' + memory.join(', '));
    setStatus('chart-status', status.join('; '), !!failed);
    var chosen = values.indexOf(g.engine.maxLoras);
    var radius = values.map(function (_, i) { return i === chosen ? 7 : 3; });
    function series(field) {
      return preds.map(function (r) {
        return r && !r.memoryError && r[field] !== null && r[field] > 0 ? r[field] : null;
      });
    }
    var datasets = [
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
    var slo = p.slo || {};
    if (slo.ttftP99Ms !== undefined)
      datasets.push({
        label: 'TTFT p99 SLO',
        data: values.map(function () {
          return slo.ttftP99Ms;
        }),
        yAxisID: 'ms',
        borderColor: '#dc2626',
        borderDash: [6, 4],
        borderWidth: 1,
        pointRadius: 0,
      });
    if (slo.itlP99Ms !== undefined)
      datasets.push({
        label: 'ITL p99 SLO',
        data: values.map(function () {
          return slo.itlP99Ms;
        }),
        yAxisID: 'ms',
        borderColor: '#16a34a',
        borderDash: [6, 4],
        borderWidth: 1,
        pointRadius: 0,
      });
    if (chart) chart.destroy();
    chart = new window.Chart($('chart'), {
      type: 'line',
      data: { labels: values.map(String), datasets: datasets },
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
              'GPU ' + g.index + ' (' + plural(g.adapters.length, 'adapter') + '): predicted, chosen --max-loras ' +
              g.engine.maxLoras,
          },
          legend: { position: 'bottom' },
        },
      },
    });
    $('chart-section').dataset.points = String(values.length);
  }

  $('reload').addEventListener('click', function () { loadPools(); });
  $('token').addEventListener('keydown', function (ev) { if (ev.key === 'Enter') loadPools(); });
  $('chart-gpu').addEventListener('change', function (ev) {
    if (!current) return;
    var mine = ++chartSeq;
    document.body.dataset.state = 'loading';
    drawChart(current.placement, Number(ev.target.value), mine).then(function () {
      if (mine === chartSeq) document.body.dataset.state = 'ready';
    });
  });
  loadPools();
})();
`;

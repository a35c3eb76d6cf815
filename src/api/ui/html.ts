/**
 * The web view's page: static markup only (no data, no inline script or style, so the page's
 * Content-Security-Policy can be script-src 'self'). src/ui/client.ts fills it from the API; an ES module, it runs
 * after Chart.js (deferred scripts and modules run in document order, once the page is parsed).
 */
export const uiHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lora-placer</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/assets/ui.css">
<script src="/ui/assets/chart.umd.min.js" defer></script>
<script type="module" src="/ui/assets/ui.js"></script>
</head>
<body data-state="loading">
<header>
  <h1>lora-placer</h1>
  <span class="muted">pools, their placements and vLLM LoRA flags</span>
  <span class="spacer"></span>
  <label class="token">API token
    <input id="token" type="password" autocomplete="off" spellcheck="false"
      placeholder="only if the service asks for one">
  </label>
  <button id="reload" type="button">Reload</button>
</header>
<main>
  <section id="pools-section">
    <h2>Pools</h2>
    <p id="pools-status" class="status" role="status">Loading pools…</p>
    <table id="pools" hidden>
      <thead>
        <tr><th>pool</th><th>GPUs</th><th>lower bound</th><th>plan</th><th>computed</th><th>model version</th></tr>
      </thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="plan-section" hidden>
    <h2 id="plan-title"></h2>
    <p id="plan-status" class="status" role="status"></p>
    <dl id="plan-summary" class="summary"></dl>
    <div id="warnings" class="warnings" hidden></div>
    <p class="muted">Each card is one GPU: its adapters, its load (tokens/s demanded) against what it can
      carry, what binds it (the first check of the criterion to fail as its traffic grows) and its headroom
      (how much its traffic can grow before that check fails, by the predictors; the placement asks every GPU
      for at least options.headroom), its adapter slots and rank, and p99 TTFT / ITL against the SLO: verified
      by the Twin when the pool was placed with verify, otherwise predicted.</p>
    <div id="gpus" class="gpus"></div>
    <div id="unplaced"></div>
  </section>
  <section id="chart-section" hidden>
    <h2>Throughput, TTFT and ITL against --max-loras</h2>
    <p id="chart-note" class="muted"></p>
    <label>Scenario <select id="chart-gpu"></select></label>
    <p id="chart-status" class="status" role="status"></p>
    <div class="chart-box"><canvas id="chart" aria-label="throughput, TTFT and ITL against --max-loras"></canvas></div>
  </section>
</main>
</body>
</html>
`;

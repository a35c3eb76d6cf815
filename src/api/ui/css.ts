/** The web view's style sheet (served as /ui/assets/ui.css). */
export const uiCss = `
:root {
  --fg: #1f2933;
  --muted: #616e7c;
  --line: #d9e2ec;
  --bg: #f5f7fa;
  --card: #fff;
  --ok: #1f7a3f;
  --bad: #b42318;
  --accent: #2563eb;
}
* { box-sizing: border-box; }
body {
  margin: 0;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg);
  background: var(--bg);
}
header {
  display: flex;
  align-items: center;
  gap: 12px;
  padding: 10px 20px;
  background: #102a43;
  color: #f0f4f8;
  flex-wrap: wrap;
}
header h1 { font-size: 18px; margin: 0; }
header .muted { color: #bcccdc; }
header .spacer { flex: 1; }
header input { width: 220px; margin-left: 6px; }
main { padding: 12px 20px 40px; max-width: 1600px; }
h2 { font-size: 17px; margin: 18px 0 8px; }
h3 { font-size: 15px; margin: 0; }
.muted { color: var(--muted); }
.status:empty { display: none; }
.status.error { color: var(--bad); font-weight: 600; }
.warnings { border-left: 4px solid #b7791f; background: #fffbea; padding: 6px 12px; margin: 8px 0; }
.warnings h3 { margin: 4px 0; font-size: 14px; }
.warnings ul { margin: 4px 0; padding-left: 18px; }
table { border-collapse: collapse; background: var(--card); }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
#pools tr[aria-current="true"] { background: #e6f0ff; }
button.pool-link {
  border: 0;
  background: none;
  color: var(--accent);
  cursor: pointer;
  font: inherit;
  padding: 0;
  text-decoration: underline;
}
.summary { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0 10px; }
.summary dt { color: var(--muted); }
.summary dd { margin: 0; }
.gpus { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
.gpu-card {
  background: var(--card);
  border: 1px solid var(--line);
  border-left: 5px solid var(--ok);
  border-radius: 6px;
  padding: 10px 12px;
}
.gpu-card.missed { border-left-color: var(--bad); }
.gpu-card header {
  display: flex;
  gap: 8px;
  align-items: baseline;
  padding: 0;
  background: none;
  color: var(--fg);
  flex-wrap: wrap;
}
.badge {
  display: inline-block;
  padding: 0 7px;
  border-radius: 9px;
  font-size: 12px;
  font-weight: 600;
  background: #e4e7eb;
  color: var(--fg);
}
.badge.ok { background: #d3f2dc; color: var(--ok); }
.badge.bad { background: #fde2e1; color: var(--bad); }
.badge.basis { background: #e0e8ff; color: #1d3f9e; }
.flags {
  font: 12px ui-monospace, SFMono-Regular, Menlo, monospace;
  background: #f0f4f8;
  padding: 3px 6px;
  border-radius: 4px;
  margin: 6px 0;
  overflow-wrap: anywhere;
}
.row { display: grid; grid-template-columns: 62px 1fr; gap: 8px; align-items: center; margin: 3px 0; }
.row .label { color: var(--muted); }
meter { width: 100%; height: 14px; }
.row .text { grid-column: 2; font-size: 12px; color: var(--muted); }
.gpu-card table { width: 100%; margin-top: 6px; font-size: 13px; }
.gpu-card th, .gpu-card td { padding: 2px 6px; }
.ok-text { color: var(--ok); font-weight: 600; }
.bad-text { color: var(--bad); font-weight: 600; }
.adapter-id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
.failures { color: var(--bad); margin: 4px 0; padding-left: 18px; }
.chart-box {
  position: relative;
  height: 380px;
  max-width: 1100px;
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 6px;
  padding: 8px;
  margin-top: 8px;
}
`;

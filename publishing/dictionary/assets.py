"""The CSS and JS every page inlines: the dictionary opens from disk with no network at all."""

from __future__ import annotations

CSS = """
:root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --bg: #f5f7fa; --link: #1d4ed8;
  --raw: #64748b; --staging: #d97706; --marts: #2563eb; --kpi: #059669; --config: #7c3aed;
  --meta: #475569; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5; font-size: 14px;
  font-family: "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", "DejaVu Sans",
  system-ui, sans-serif; }
code, pre, .mono { font-family: "DejaVu Sans Mono", ui-monospace, Menlo, Consolas, monospace;
  font-size: 12.5px; }
a { color: var(--link); text-decoration: none; } a:hover { text-decoration: underline; }
header.top { display: flex; gap: 24px; align-items: baseline; padding: 12px 28px;
  background: #102a43; color: #f0f4f8; }
header.top a { color: #fff; font-weight: 600; font-size: 16px; }
header.top .plan { color: #bcccdc; }
header.top nav { margin-left: auto; display: flex; gap: 16px; }
header.top nav a { font-weight: 400; font-size: 14px; color: #d9e2ec; }
main { max-width: 1240px; margin: 0 auto; padding: 8px 28px 40px; }
.crumbs { color: var(--muted); margin: 12px 0 0; font-size: 13px; }
h1 { font-size: 26px; margin: 6px 0 4px; } h1 .en, h2 .en, h3 .en, th .en { color: var(--muted);
  font-weight: 400; }
h1 .en { font-size: 20px; margin-left: 8px; }
h1 code { font-size: 22px; }
h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.facts { display: flex; flex-wrap: wrap; gap: 6px 22px; color: var(--muted); margin: 4px 0 8px; }
.facts b { color: var(--ink); font-weight: 600; }
.desc { font-size: 15px; margin: 8px 0; }
blockquote.clause { margin: 8px 0; padding: 12px 18px; background: #fffbea; border-left: 5px solid #f0b429;
  border-radius: 4px; }
blockquote.clause .where { color: var(--muted); font-size: 13px; margin: 0 0 4px; }
blockquote.clause .quote { font-size: 18px; margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; }
th, td { text-align: left; vertical-align: top; padding: 5px 9px; border-bottom: 1px solid var(--line); }
th { background: var(--bg); font-weight: 600; font-size: 13px; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code.url { overflow-wrap: anywhere; }
tr:hover td { background: #f8fafc; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; color: #fff;
  background: var(--muted); white-space: nowrap; margin: 1px 2px 1px 0; }
.s-achieved { background: #15803d; } .s-on_track { background: #0d9488; } .s-at_risk { background: #d97706; }
.s-off_track { background: #dc2626; } .s-insufficient_data { background: #9aa5b1; }
.s-stale { background: #7c3aed; }
.layer { display: inline-block; min-width: 56px; padding: 0 6px; border-radius: 3px; color: #fff;
  font-size: 12px; text-align: center; background: var(--meta); }
.layer.raw { background: var(--raw); } .layer.staging { background: var(--staging); }
.layer.marts { background: var(--marts); } .layer.kpi { background: var(--kpi); }
.layer.config { background: var(--config); }
.graph { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; padding: 6px;
  background: var(--bg); }
svg.lineage { display: block; max-width: 100%; height: auto; }
svg.lineage text { font-family: "DejaVu Sans Mono", ui-monospace, monospace; }
svg.lineage text.t { font-size: 12px; fill: #fff; font-weight: 600; }
svg.lineage text.s { font-size: 10.5px; fill: #f0f4f8;
  font-family: "Noto Sans CJK SC", "DejaVu Sans", sans-serif; }
svg.lineage .edge { fill: none; stroke: #829ab1; stroke-width: 1.6; }
svg.lineage marker path { fill: #829ab1; }
svg.lineage rect { fill: var(--meta); }
svg.lineage .raw rect { fill: var(--raw); } svg.lineage .staging rect { fill: var(--staging); }
svg.lineage .marts rect { fill: var(--marts); } svg.lineage .kpi rect { fill: var(--kpi); }
svg.lineage .config rect { fill: var(--config); } svg.lineage .kpi-node rect { fill: #102a43; }
svg.lineage a:hover rect { opacity: .85; }
.note { color: var(--muted); font-size: 13px; }
.pending { padding: 10px 14px; background: #fff1f0; border-left: 5px solid #e12d39; border-radius: 4px; }
details { margin: 8px 0; } summary { cursor: pointer; color: var(--link); }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 10px;
  overflow-x: auto; }
input.filter { width: 360px; max-width: 100%; padding: 6px 10px; font-size: 14px; border: 1px solid #bcccdc;
  border-radius: 4px; margin: 10px 0 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px; min-width: 140px; }
.card b { display: block; font-size: 22px; }
footer { max-width: 1240px; margin: 0 auto; padding: 16px 28px 30px; color: var(--muted); font-size: 12px;
  border-top: 1px solid var(--line); }
"""

# Filter the rows of every table.filterable by the words typed (index page only).
FILTER_JS = """
document.querySelectorAll('input.filter').forEach(function (input) {
  input.addEventListener('input', function () {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    document.querySelectorAll('table.filterable tbody tr').forEach(function (row) {
      var text = row.textContent.toLowerCase();
      row.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
    });
  });
});
"""

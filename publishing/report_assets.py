"""The report's stylesheet, inlined into the page: system fonts only (the CJK stack), no url()."""
CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px; color: #1f2933; background: #f6f7f9; font-size: 14px; line-height: 1.5;
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "DejaVu Sans",
  sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 19px; margin: 28px 0 10px; }
h3 { font-size: 16px; margin: 0 0 4px; }
.en { color: #52606d; font-weight: normal; margin-left: .5em; }
h1 .en, h3 .en { display: block; margin-left: 0; font-size: .8em; }
td .en { margin-left: 0; font-size: 12px; }
.muted { color: #616e7c; } code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 11px; color: #7b8794; }
a { color: #1d4ed8; text-decoration: none; } a:hover { text-decoration: underline; }
.summary { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 14px 18px; }
.counts { display: flex; flex-wrap: wrap; gap: 10px 28px; }
.count { display: flex; align-items: center; gap: 8px; } .count b { font-size: 26px; }
.bar { display: flex; height: 10px; border-radius: 5px; overflow: hidden; margin-top: 12px; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px;
  white-space: nowrap; }
.s-achieved { background: #15803d; } .s-on_track { background: #0d9488; } .s-at_risk { background: #d97706; }
.s-off_track { background: #dc2626; } .s-insufficient_data { background: #9aa5b1; }
.s-stale { background: #7c3aed; }
.w-red { background: #dc2626; } .w-yellow { background: #facc15; color: #1f2933; }
.w-green { background: #15803d; } .w-none { background: #9aa5b1; }
#early-warning > p { margin: 4px 0 10px; font-size: 13px; } #early-warning h3 { margin: 18px 0 4px; }
.no-warning { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 10px 14px; }
.backtests { display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: flex-start; }
table.backtest { border-collapse: collapse; font-size: 13px; background: #fff; border: 1px solid #d9e2ec; }
.backtest caption { text-align: left; font-weight: bold; padding: 0 0 4px; }
.backtest th, .backtest td { padding: 2px 10px; border-top: 1px solid #e4e7eb; }
.backtest th { background: #e4e7eb; font-size: 12px; text-align: left; }
.card-warning { margin: 2px 0 0 1em; font-size: 12px; }
table.overview { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #d9e2ec; }
.overview th { position: sticky; top: 0; background: #e4e7eb; text-align: left; font-size: 12px;
  padding: 6px 8px; }
.overview td { padding: 5px 8px; border-top: 1px solid #e4e7eb; vertical-align: top; }
.overview td.reason { font-size: 12px; color: #3e4c59; min-width: 240px; }
.overview td.name { max-width: 250px; }
.num { text-align: right; white-space: nowrap; } .nowrap { white-space: nowrap; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 16px; }
.kpi { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 14px 16px;
  break-inside: avoid; }
.kpi .meta { font-size: 12px; color: #616e7c; margin: 4px 0; }
blockquote { margin: 6px 0; padding: 4px 10px; border-left: 3px solid #cbd2d9; color: #3e4c59;
  background: #f5f7fa; font-size: 13px; }
ul.checkpoints { list-style: none; padding: 0; margin: 6px 0; font-size: 13px; }
ul.checkpoints li { margin: 3px 0; }
.pending, .no-chart { color: #7b8794; font-size: 13px; }
table.estimates { border-collapse: collapse; font-size: 13px; }
.estimates th, .estimates td { padding: 2px 12px; border-bottom: 1px solid #e4e7eb; }
svg.chart { width: 100%; height: auto; display: block; margin-top: 6px; }
svg.chart text { font-family: inherit; font-size: 11px; fill: #52606d; }
svg.chart text.axis-label { font-size: 12px; fill: #323f4b; }
svg.chart text.target-label { font-size: 12px; font-weight: bold; paint-order: stroke;
  stroke: #fff; stroke-width: 3px; }
svg.chart .grid { stroke: #e4e7eb; } svg.chart .zero { stroke: #9aa5b1; }
svg.chart .axis { stroke: #9aa5b1; }
footer { margin-top: 28px; font-size: 12px; }
@media print { body { background: #fff; padding: 0; } .overview th { position: static; } }
"""

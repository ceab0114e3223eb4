"""The KPI report: one self-contained HTML file, in Chinese and English, that opens with no network.

An overview of every checkpoint of the plan (`kpi.kpi_status`) with counts per status, the
year-to-date early warning (`kpi.kpi_early_warning`) with a back-test of its method, then per KPI its
plan text and a chart (`publishing.report_chart`) of the actuals (`kpi.kpi_series`), the required path
and the targets. CSS is inline, charts are inline SVG, there is no script, no image and no web
font: the CJK font stack names fonts the system has (Noto Sans CJK, Source Han Sans, Microsoft YaHei).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from core import yamlio
from publishing.clock import city_time
from publishing.report_assets import CSS
from publishing.report_chart import STATUS_COLOURS, Chart, Target, fmt, render_chart
from publishing.report_text import h, is_relative, number, unit_text
from publishing.report_warning import card_warning, early_warning_section
from publishing.status_words import (
    QUALIFIER_WORDS,
    STATUS_ZH,
    target_symbol,
)
from warehouse.db import as_dicts, connect
from warehouse.errors import WarehouseError
from warehouse.kpi import STATUSES, read_early_warnings, read_kpi_status

DIRECTION_ZH = {"higher_is_better": "越高越好 higher is better",
                "lower_is_better": "越低越好 lower is better"}
PEAK_HORIZON = 2060  # a peak-year view reports 2061 for "no downturn projected before 2060"


@dataclass(frozen=True)
class ReportData:
    checkpoints: list[dict]  # rows of kpi.kpi_status, in catalogue order
    kpis: dict[str, dict]  # config.kpis by kpi_id
    tolerances: dict[tuple[str, int], float]  # `about` half-widths by (kpi_id, checkpoint_year)
    series: dict[str, list[tuple[int, float]]]  # kpi.kpi_series by kpi_id, by year
    data_as_of: dt.datetime | None  # the latest load in meta.load_log
    # the status engine's required path to each KPI's last checkpoint, by year
    # (kpi.kpi_required_path; it runs through the earlier targets): the report draws no path of its own
    paths: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    warnings: list[dict] = field(default_factory=list)  # kpi.kpi_early_warning, `read_early_warnings`


def read_report_data(con: duckdb.DuckDBPyConnection) -> ReportData:
    """Everything the report shows, read from a (read-only) warehouse connection."""
    checkpoints = read_kpi_status(con)  # a clear WarehouseError when the models are not built
    kpis = {r["kpi_id"]: r for r in as_dicts(con.execute("select * from config.kpis order by position"))}
    tolerances = {(r["kpi_id"], int(r["checkpoint_year"])): r["tolerance"] for r in as_dicts(con.execute(
        "select * from config.kpi_checkpoints where tolerance is not null and tolerance > 0"))}
    series: dict[str, list[tuple[int, float]]] = {}
    for kpi_id, year, value in con.execute("select kpi_id, year, value from kpi.kpi_series "
                                           "where value is not null order by kpi_id, year").fetchall():
        series.setdefault(kpi_id, []).append((int(year), float(value)))
    try:
        data_as_of = con.execute("select max(loaded_at) from meta.load_log").fetchone()[0]
    except duckdb.CatalogException:  # a warehouse built from a copy with no load history
        data_as_of = None
    paths: dict[str, list[tuple[int, float]]] = {}
    for kpi_id, year, value in con.execute("""
            select kpi_id, year, expected_value from kpi.kpi_required_path
            qualify checkpoint_year = max(checkpoint_year) over (partition by kpi_id)
            order by kpi_id, year""").fetchall():
        paths.setdefault(kpi_id, []).append((int(year), float(value)))
    return ReportData(checkpoints, kpis, tolerances, series, data_as_of, paths, read_early_warnings(con))


def _kpi(data: ReportData, row: dict) -> dict:
    """The catalogue entry of a checkpoint's KPI, or what the status row knows of it."""
    return data.kpis.get(row["kpi_id"]) or {"kpi_id": row["kpi_id"], "name_zh": row["name_zh"],
                                            "name_en": row["name_en"], "unit": row["unit"]}


def target_label(row: dict, kpi: dict, tolerance: float | None = None) -> str:
    band = f" ± {fmt(tolerance)}" if row["qualifier"] == "about" and tolerance else ""
    return f"{target_symbol(row['qualifier'], kpi.get('direction'))} {fmt(row['target_value'])}{band}"


def build_chart(kpi: dict, rows: list[dict], data: ReportData) -> Chart | None:
    """The chart of one KPI, or None when there is nothing to draw (a target that is a year)."""
    if kpi.get("unit") == "year":
        return None
    series = data.series.get(kpi["kpi_id"], [])
    targets = tuple(Target(
        year=int(r["checkpoint_year"]), value=float(r["target_value"]),
        label=target_label(r, kpi, data.tolerances.get((kpi["kpi_id"], int(r["checkpoint_year"])))),
        status=r["status"], tolerance=data.tolerances.get((kpi["kpi_id"], int(r["checkpoint_year"]))),
        projected=number(r.get("projected_value"))) for r in rows)
    unit = (f"较{int(kpi['base_year'])}年变化 % change vs {int(kpi['base_year'])}" if is_relative(kpi)
            else str(kpi.get("unit") or ""))
    return Chart(title=f"{kpi['name_zh']} {kpi['name_en']}", unit_label=unit, actuals=tuple(series),
                 targets=targets, path=tuple(data.paths.get(kpi["kpi_id"], ())), zero_line=is_relative(kpi),
                 is_share=kpi.get("unit") == "%")


def badge(status: str) -> str:
    label = f'{STATUS_ZH.get(status, "")} {status.replace("_", " ")}'
    return f'<span class="badge s-{h(status)}">{h(label)}</span>'


def _latest(row: dict) -> str:
    if number(row.get("latest_value")) is None:
        return "–"
    return f'{fmt(row["latest_value"])} <span class="muted">({h(row["latest_year"])})</span>'


def _summary(rows: list[dict]) -> str:
    counts = {status: sum(r["status"] == status for r in rows) for status in STATUSES}
    cards = "".join(f'<div class="count"><b style="color:{STATUS_COLOURS[s]}">{n}</b>{badge(s)}</div>'
                    for s, n in counts.items())
    bar = "".join(f'<span class="s-{s}" style="flex:{n}" title="{h(s)}: {n}"></span>'
                  for s, n in counts.items() if n)
    return (f'<section class="summary" id="summary"><div class="counts">{cards}</div>'
            f'<div class="bar">{bar}</div></section>')


def _overview(data: ReportData) -> str:
    extra = any("expected_value" in r for r in data.checkpoints)  # the status engine's path value
    head = ("<th>指标 KPI</th><th>节点<br>Year</th><th>目标 Target</th><th>最新 Latest</th>"
            + ("<th>路径应达<br>Expected</th>" if extra else "")
            + "<th>预测 Projected</th><th>差距 Gap</th><th>状态 Status</th><th>说明 Reason</th>"
            "<th>条款 Section</th>")
    body = []
    for row in data.checkpoints:
        kpi = _kpi(data, row)
        tolerance = data.tolerances.get((row["kpi_id"], int(row["checkpoint_year"])))
        gap = number(row.get("gap"))
        body.append(
            f'<tr id="cp-{h(row["kpi_id"])}-{h(row["checkpoint_year"])}" class="s-row-{h(row["status"])}">'
            f'<td class="name"><a href="#kpi-{h(row["kpi_id"])}">{h(row["name_zh"])}</a><br>'
            f'<span class="en">{h(row["name_en"])}</span> <code>{h(row["kpi_id"])}</code></td>'
            f'<td class="num">{h(row["checkpoint_year"])}</td>'
            f'<td class="nowrap">{h(target_label(row, kpi, tolerance))} {h(unit_text(kpi))}<br>'
            f'<span class="muted">{h(QUALIFIER_WORDS.get(row["qualifier"], row["qualifier"]))}</span></td>'
            f'<td class="num">{_latest(row)}</td>'
            + (f'<td class="num">{fmt(number(row.get("expected_value")))}</td>' if extra else "")
            + f'<td class="num">{fmt(number(row.get("projected_value")))}</td>'
            f'<td class="num">{"–" if gap is None else ("+" if gap > 0 else "") + fmt(gap)}</td>'
            f'<td>{badge(row["status"])}</td><td class="reason">{h(row["status_reason"])}</td>'
            f'<td class="nowrap">{"<br>".join(h(part) for part in str(row["plan_section"]).split(", "))}'
            "</td></tr>")
    return (f'<section id="overview"><h2>节点总览 <span class="en">Every checkpoint of the plan</span></h2>'
            f'<table class="overview"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
            "</section>")


def _peak_estimates(series: list[tuple[int, float]]) -> str:
    """A peak-year KPI: the last estimates of the peak year (a chart would have no path to draw)."""
    if not series:
        return ('<p class="no-chart">暂无达峰年份估计。<span class="en">No estimate of the peak year yet.'
                "</span></p>")
    rows = "".join(f'<tr><td class="num">{year}</td><td class="num">'
                   f'{"2060年后 after 2060" if value > PEAK_HORIZON else int(value)}</td></tr>'
                   for year, value in series[-5:])
    return ('<p class="no-chart">目标是达峰年份本身，每年重新估计，不绘制路径。<br>'
            '<span class="en">The target is the peak year itself, estimated again each year from the '
            "data; there is no path to draw."
            '</span></p><table class="estimates"><tr><th>数据年份 data to</th><th>估计达峰年份 estimated peak'
            f"</th></tr>{rows}</table>")


def _kpi_card(number: int, kpi: dict, rows: list[dict], data: ReportData) -> str:
    chart = build_chart(kpi, rows, data)
    if chart is not None:
        drawing = render_chart(chart)
    else:
        drawing = _peak_estimates(data.series.get(kpi["kpi_id"], []))
    checkpoints = "".join(
        f'<li>{badge(r["status"])} <b>{h(r["checkpoint_year"])}</b> '
        f'{h(target_label(r, kpi, data.tolerances.get((kpi["kpi_id"], int(r["checkpoint_year"])))))} '
        f'{h(unit_text(kpi))} <span class="muted">— {h(r["status_reason"])}</span>{card_warning(r)}</li>'
        for r in rows)
    meta = [f'条款 section {h(kpi.get("section") or rows[0]["plan_section"])}']
    if kpi.get("sector"):
        meta.append(f'领域 sector {h(kpi["sector"])}')
    unit_en = f' ({h(kpi["unit_en"])})' if kpi.get("unit_en") else ""
    meta.append(f'单位 unit {h(kpi.get("unit"))}{unit_en}')
    if kpi.get("direction"):
        meta.append(h(DIRECTION_ZH.get(kpi["direction"], kpi["direction"])))
    quote = f'<blockquote lang="zh-CN">{h(kpi["quote"])}</blockquote>' if kpi.get("quote") else ""
    pending = kpi.get("pending") or ""
    if pending and not any(pending in str(r["status_reason"]) for r in rows):  # else it is said already
        pending = f'<p class="pending">{h(pending)}</p>'
    else:
        pending = ""
    return (f'<article class="kpi" id="kpi-{h(kpi["kpi_id"])}"><h3>{number}. {h(kpi["name_zh"])}'
            f'<span class="en">{h(kpi["name_en"])}</span></h3><p class="meta">{" · ".join(meta)} · '
            f'<code>{h(kpi["kpi_id"])}</code></p>{quote}<ul class="checkpoints">{checkpoints}</ul>'
            f"{pending}{drawing}</article>")


def render_report(data: ReportData, generated_at: dt.datetime, plan: str = "", city: str = "") -> str:
    """The whole page as a string."""
    grouped: dict[str, list[dict]] = {}
    for row in data.checkpoints:
        grouped.setdefault(row["kpi_id"], []).append(row)
    cards = "".join(_kpi_card(n, _kpi(data, rows[0]), rows, data)
                    for n, rows in enumerate(grouped.values(), 1))
    title = f"{city} {plan}".strip() or "碳达峰实施方案"
    as_of = f" · 数据最近加载 data last loaded {city_time(data.data_as_of)}" if data.data_as_of else ""
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{h(title)} · 指标进展报告 KPI report</title>
<style>{CSS}</style>
</head>
<body>
<header><h1>{h(title)} 指标进展报告<span class="en">Carbon-peak plan: progress of every target</span></h1>
<p class="muted">生成于 generated {city_time(generated_at)}{as_of} ·
{len(grouped)} 项指标 KPIs · {len(data.checkpoints)} 个节点 checkpoints</p></header>
<main>
{_summary(data.checkpoints)}
{_overview(data)}
{early_warning_section(data.warnings)}
<section id="kpis"><h2>各项指标 <span class="en">Each KPI: actuals, required path, targets</span></h2>
<p class="muted">实线：实际值；虚线：从基准到目标的所需路径；菱形：目标（颜色为状态）；
点线：近五年趋势预测。<br>
<span class="en">Solid: actual values; dashed: the required path from the base to each target; diamond:
the target, coloured by status; dotted: the five-year trend projected to the checkpoint.</span></p>
<div class="cards">{cards}</div></section>
</main>
<footer class="muted">carbonpeak · kpi.kpi_status, kpi.kpi_series, kpi.kpi_early_warning, config.kpis</footer>
</body>
</html>
"""


def _plan(kpis_file: Path | None) -> tuple[str, str]:
    if kpis_file is None or not kpis_file.is_file():
        return "", ""
    doc = yamlio.safe_load(kpis_file.read_text(encoding="utf-8")) or {}
    return str(doc.get("plan") or ""), str(doc.get("city_zh") or "")


def write_report(con_or_warehouse_path: duckdb.DuckDBPyConnection | Path, out: Path, *,
                 kpis_file: Path | None = None, generated_at: dt.datetime | None = None) -> Path:
    """Write the report to `out` and return it. A path is opened read-only (and closed again).

    `kpis_file` (the city's kpis.yml) gives the plan's title; without it the page has a generic one.
    """
    if isinstance(con_or_warehouse_path, duckdb.DuckDBPyConnection):
        data = read_report_data(con_or_warehouse_path)
    else:
        con = connect(Path(con_or_warehouse_path), read_only=True)
        try:
            data = read_report_data(con)
        finally:
            con.close()
    plan, city = _plan(kpis_file)
    html = render_report(data, generated_at or dt.datetime.now(dt.UTC), plan, city)
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise WarehouseError(f"cannot write the report to `{out}` ({exc.strerror or exc}); "
                             "choose another path with --out") from None
    return out


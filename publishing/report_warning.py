"""The report's year-to-date early warning section (kpi.kpi_early_warning) and its line on a KPI card.

The current warnings with their level, projection and requirement, the method in a sentence, and a
back-test of the method on the years already published. The words are status_words' one table.
"""

from __future__ import annotations

from publishing.report_chart import fmt
from publishing.report_text import h, number, unit_text
from publishing.status_words import WARNING_EN, WARNING_SHORT, WARNING_ZH, target_symbol

WARNING_CLASSES = {1: "w-red", 2: "w-yellow", 3: "w-green"}  # the barometer's colours
BACK_TEST_MONTHS = {6: "Jun", 12: "Dec"}  # the back-test: the projection at mid-year and year end


def months_zh(month: int) -> str:
    """The months of year-to-date data as the model words them: `1月`, `1–6月`."""
    return "1月" if int(month) == 1 else f"1–{int(month)}月"


def required_label(row: dict) -> str:
    """What the plan requires of the year, with its sign: `≤ 660`, `≈ 45`, `≥ 49.7`."""
    if row["required_value"] is None:
        return "–"
    if row["requirement_kind"] == "target":
        symbol = target_symbol(row["qualifier"], row["direction"])
    else:
        symbol = "≤" if row["direction"] == "lower_is_better" else "≥"
    return f"{symbol} {fmt(row['required_value'])}"


def no_warning_reason(rows: list[dict]) -> tuple[str, str]:
    """Why no early warning is current (Chinese, English), given the rows of kpi.kpi_early_warning."""
    if not rows:
        return ("没有按月统计的指标（kpis.yml `year_to_date:`），无从预警。",
                "No KPI has monthly data (kpis.yml `year_to_date:`): there is nothing to project from.")
    return ("暂无当期预警：有月度数据的年份均已公布全年数据，由指标状态按实际值评估。",
            "No warning is current: every year with monthly data already has its published yearly "
            "figure, which the KPI status judges itself.")


def warning_badge(level: int | None) -> str:
    colour = WARNING_CLASSES.get(level, "w-none")
    return f'<span class="badge {colour}">{h(WARNING_SHORT.get(level, "—"))}</span>'


def _method() -> str:
    return ("<p>同比推算：上年数值按今年已有月份较上年同期的变化推算全年；要求为规划路径当年应达值"
            f"（节点年为目标）。{WARNING_SHORT[3]}：可达到要求；{WARNING_SHORT[2]}：达不到但较上年改善；"
            f'{WARNING_SHORT[1]}：达不到且不如上年。<br><span class="en">Same-period projection: last '
            "year's value moved by the change of the months so far on the same months of last year; the "
            "requirement is the plan's path for the year (the target in a checkpoint year). Level 3 "
            "(green): meets it; level 2 (yellow): misses it but improves on last year; level 1 (red): "
            "misses it and does not.</span></p>")


def _current_warning(r: dict) -> str:
    level = r["warning_level"]
    return (f'<tr id="ew-{h(r["kpi_id"])}-{h(r["year"])}"><td>{warning_badge(level)}<br>'
            f'<span class="en">{h(WARNING_ZH.get(level, ""))} {h(WARNING_EN.get(level, ""))}</span></td>'
            f'<td class="name"><a href="#kpi-{h(r["kpi_id"])}">{h(r["name_zh"])}</a><br>'
            f'<span class="en">{h(r["name_en"])}</span></td>'
            f'<td class="nowrap">{h(r["year"])} {h(months_zh(r["through_month"]))}</td>'
            f'<td class="num">{fmt(number(r["projected_value"]))} {h(unit_text(r))}</td>'
            f'<td class="num">{h(required_label(r))}</td><td class="reason">{h(r["warning_reason_zh"])}'
            f'<br><span class="en">{h(r["warning_reason_en"])}</span></td></tr>')


def _current_warnings(warnings: list[dict]) -> str:
    current = [r for r in warnings if r["is_current"]]
    if not current:
        zh, en = no_warning_reason(warnings)
        return f'<p class="no-warning">{h(zh)}<br><span class="en">{h(en)}</span></p>'
    return ('<table class="overview warnings"><thead><tr><th>预警 Level</th><th>指标 KPI</th>'
            "<th>年份 Year</th><th>预计 Projected</th><th>要求 Required</th><th>说明 Reason</th></tr></thead>"
            f'<tbody>{"".join(_current_warning(r) for r in current)}</tbody></table>')


def _back_test_row(year: int, got: dict[int, dict]) -> str:
    cells = []
    for month in BACK_TEST_MONTHS:
        row = got.get(month)
        off = None if row is None else row["projected_value"] - row["actual_value"]
        cells.append('<td class="num">–</td>' if row is None else
                     f'<td class="num">{fmt(row["projected_value"])} '
                     f'<span class="muted">{"+" if off >= 0 else "-"}{fmt(abs(off))}</span></td>')
    actual = next(iter(got.values()))["actual_value"]
    return f'<tr><td class="num">{year}</td>{"".join(cells)}<td class="num">{fmt(actual)}</td></tr>'


def _back_tests(warnings: list[dict]) -> str:
    """Per KPI, each published year projected from January–June and January–December, vs its figure."""
    tested: dict[str, dict[int, dict[int, dict]]] = {}
    kpis: dict[str, dict] = {}
    for r in warnings:
        if None not in (r["actual_value"], r["projected_value"]) and r["through_month"] in BACK_TEST_MONTHS:
            tested.setdefault(r["kpi_id"], {}).setdefault(int(r["year"]), {})[r["through_month"]] = r
            kpis[r["kpi_id"]] = r
    if not tested:
        return ""
    head = "".join(f"<th>{months_zh(m)}推算<br>Jan–{en}</th>" for m, en in BACK_TEST_MONTHS.items())
    tables = "".join(
        f'<table class="backtest" id="bt-{h(k)}"><caption>{h(kpis[k]["name_zh"])}<br><span class="en">'
        f'{h(kpis[k]["name_en"])} ({h(unit_text(kpis[k]))})</span></caption>'
        f'<tr><th>年份 Year</th>{head}<th>实际 Actual</th></tr>'
        f'{"".join(_back_test_row(year, got) for year, got in years.items())}</table>'
        for k, years in tested.items())
    return ('<h3>回测 <span class="en">Back-test: how close the projection came</span></h3>'
            '<p class="muted">往年按1–6月、1–12月数据推算的全年值与公布的全年实际值（灰字为偏差）。<br>'
            '<span class="en">Each published year, projected from January–June and from January–December, '
            "against its published figure (in grey: projected minus actual).</span></p>"
            f'<div class="backtests">{tables}</div>')


def early_warning_section(warnings: list[dict]) -> str:
    return ('<section id="early-warning"><h2>年度目标预警 <span class="en">Year-to-date early warning</span>'
            f"</h2>{_method()}{_current_warnings(warnings)}{_back_tests(warnings)}</section>")


def card_warning(row: dict) -> str:
    """A checkpoint's current early warning, on its KPI's card."""
    if row.get("early_warning_year") is None:
        return ""
    return (f'<div class="card-warning">{warning_badge(row["early_warning_level"])} '
            f'<a href="#early-warning">{h(row["early_warning_year"])} '
            f'{h(months_zh(row["early_warning_through_month"]))} 年度预警 early warning</a> '
            f'<span class="muted">— {h(row["early_warning_reason_zh"])} / '
            f'{h(row["early_warning_reason_en"])}</span></div>')

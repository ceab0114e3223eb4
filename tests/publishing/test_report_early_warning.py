"""The report's year-to-date early warning (年度目标预警): the current warnings, the back-test, the cards.

`warning_warehouse` is the default scenario before the 2025 yearly energy statistics appear (the 2025
warnings are current); in the default scenario every year with monthly data has its figure already.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

from publishing.report import write_report
from publishing.report_chart import fmt
from publishing.status_words import WARNING_EN, WARNING_ZH
from tests.publishing.test_report import GENERATED_AT, KPIS_FILE, kpi_card, text_of
from warehouse.db import as_dicts, connect
from warehouse.errors import WarehouseError

BACK_TESTED = ("nonfossil_energy_share", "energy_intensity_change", "raw_coal_consumption")


def model(warehouse: Path) -> list[dict]:
    con = connect(warehouse, read_only=True)
    try:
        return as_dicts(con.execute("select * from kpi.kpi_early_warning "
                                    "order by kpi_id, year, through_month"))
    finally:
        con.close()


def section(html: str) -> str:
    found = re.search(r'<section id="early-warning">.*?</section>', html, re.DOTALL)
    assert found, "no early-warning section"
    return found.group(0)


def back_test(html: str, kpi_id: str) -> list[list[str]]:
    """The rows of a KPI's back-test table: year, from January–June, from January–December, actual."""
    table = re.search(rf'<table class="backtest" id="bt-{kpi_id}">.*?</table>', html, re.DOTALL).group(0)
    return [[text_of(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            for row in re.findall(r"<tr>(.*?)</tr>", table, re.DOTALL)[1:]]


@pytest.fixture(scope="module")
def warning_report(warning_warehouse, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("warning-report") / "report.html"
    write_report(warning_warehouse, out, kpis_file=KPIS_FILE, generated_at=GENERATED_AT)
    return out.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def default_report(default_warehouse, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("default-report") / "report.html"
    write_report(default_warehouse, out, kpis_file=KPIS_FILE, generated_at=GENERATED_AT)
    return out.read_text(encoding="utf-8")


def test_the_current_warnings_with_level_colour_projection_and_reason(warning_report, warning_warehouse):
    part = section(warning_report)
    current = {r["kpi_id"]: r for r in model(warning_warehouse) if r["is_current"]}
    assert set(current) == set(BACK_TESTED)
    rows = dict(re.findall(r'<tr id="ew-([a-z_]+-\d{4})">(.*?)</tr>', part, re.DOTALL))
    assert set(rows) == {f"{k}-2025" for k in BACK_TESTED}
    coal = rows["raw_coal_consumption-2025"]
    assert '<span class="badge w-red">一级 red</span>' in coal
    text = text_of(coal)
    assert WARNING_ZH[1] in text and WARNING_EN[1] in text
    assert "原煤消费量" in text and "2025 1–12月" in text
    assert abs(current["raw_coal_consumption"]["projected_value"] - 671) < 1
    assert "671 万吨 ≤ 660" in text
    assert current["raw_coal_consumption"]["warning_reason_zh"] in text
    assert current["raw_coal_consumption"]["warning_reason_en"] in text
    assert '<span class="badge w-green">三级 green</span>' in rows["energy_intensity_change-2025"]
    assert "-14.19 % vs 2020 ≤ -14" in text_of(rows["energy_intensity_change-2025"])
    assert "50.6 % ≈ 45" in text_of(rows["nonfossil_energy_share-2025"])
    # the method, stated once, and the colours in the stylesheet
    assert "同比推算：上年数值按今年已有月份较上年同期的变化推算全年" in part
    assert ("Same-period projection: last year's value moved by the change of the months so far"
            in text_of(part))
    assert ".w-red { background: #dc2626; }" in warning_report


def test_the_card_of_a_checkpoint_with_a_warning_carries_it(warning_report, default_report):
    card = kpi_card(warning_report, "raw_coal_consumption")
    warning = re.search(r'<div class="card-warning">.*?</div>', card, re.DOTALL).group(0)
    assert '<span class="badge w-red">一级 red</span>' in warning
    assert "2025 1–12月 年度预警 early warning" in text_of(warning) and "差11，且较上年无改善" in warning
    green = '<span class="badge w-green">三级 green</span>'
    assert green in kpi_card(warning_report, "nonfossil_energy_share")
    assert "card-warning" not in kpi_card(warning_report, "forest_coverage")
    assert '<div class="card-warning">' not in default_report


def test_the_back_test_shows_the_model_s_projections_against_the_figures(warning_report, warning_warehouse):
    rows = model(warning_warehouse)
    for kpi_id in BACK_TESTED:
        published = {(r["year"], r["through_month"]): r for r in rows if r["kpi_id"] == kpi_id
                     and r["actual_value"] is not None and r["projected_value"] is not None}
        years = sorted({year for year, month in published if month in (6, 12)})
        assert years == list(range(2019, 2025)), kpi_id  # 2025 has no published figure here
        table = back_test(warning_report, kpi_id)
        assert [int(r[0]) for r in table] == years
        for (year, mid, end, actual) in table:
            first, last = published[int(year), 6], published[int(year), 12]
            assert mid.split()[0] == fmt(first["projected_value"])
            assert end.split()[0] == fmt(last["projected_value"])
            assert actual == fmt(last["actual_value"])
            off = last["projected_value"] - last["actual_value"]
            assert end.split()[1] == ("+" if off >= 0 else "-") + fmt(abs(off))
    # how close it came: raw coal projected from January–June 2024 was 668.01 against 668
    assert back_test(warning_report, "raw_coal_consumption")[-1][1:] == ["668 +0.0119", "668 -0.0084", "668"]


def test_no_current_warning_says_so_and_why(default_report, default_warehouse):
    part = section(default_report)
    assert not any(r["is_current"] for r in model(default_warehouse))
    assert '<tr id="ew-' not in part
    assert "暂无当期预警：有月度数据的年份均已公布全年数据" in part
    assert ("No warning is current: every year with monthly data already has its published yearly "
            "figure") in part
    # the back-test then reaches 2025, published
    assert back_test(default_report, "raw_coal_consumption")[-1][0] == "2025"
    assert back_test(default_report, "raw_coal_consumption")[-1][3] == "671"


def test_a_warehouse_built_before_the_early_warning_says_to_rebuild(warehouse_copy, tmp_path):
    con = duckdb.connect(str(warehouse_copy))
    try:  # kpi_status as it was then: no early_warning_* columns, no kpi_early_warning
        con.execute("create table kpi.status_then as "
                    "select columns(c -> c not like 'early_warning%') from kpi.kpi_status")
        con.execute("drop view kpi.kpi_status")
        con.execute("alter table kpi.status_then rename to kpi_status")
        con.execute("drop table kpi.kpi_early_warning")
    finally:
        con.close()
    with pytest.raises(WarehouseError, match=r"`kpi.kpi_early_warning` does not exist yet in this "
                                             r"warehouse; run `carbonpeak run` \(or `carbonpeak build`\)"):
        write_report(warehouse_copy, tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()

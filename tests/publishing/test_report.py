"""The KPI report: one HTML file, opened in headless Chromium with networking off.

It shows every checkpoint of the plan, with a chart per KPI, and loads nothing from anywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from flows.settings import PROJECT_ROOT
from publishing.report import write_report
from publishing.report_chart import fmt
from tests.browser import chromium, png_pixels
from warehouse.db import connect
from warehouse.errors import WarehouseError
from warehouse.kpi import read_kpi_status

KPIS_FILE = PROJECT_ROOT / "config" / "mianyang" / "kpis.yml"
GENERATED_AT = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
# Anything a browser would fetch: elements that load, src/href that leave the page, CSS url()/@import.
REMOTE_LOAD = re.compile(r"<(?:script|link|img|iframe|object|embed|video|audio|source)\b"
                         r"""|\bsrc\s*=|\bhref\s*=\s*(?!["']?#)|url\(|@import""", re.IGNORECASE)






def text_of(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).replace("&amp;", "&").strip()


def checkpoint_rows(html: str) -> dict[str, str]:
    """The visible text of each overview row, by its id `cp-<kpi_id>-<year>`."""
    return {m.group(1): text_of(m.group(2))
            for m in re.finditer(r'<tr id="(cp-[a-z0-9_]+-\d{4})"[^>]*>(.*?)</tr>', html, re.DOTALL)}


def kpi_card(html: str, kpi_id: str) -> str:
    card = re.search(rf'<article class="kpi" id="kpi-{kpi_id}">.*?</article>', html, re.DOTALL)
    assert card, f"no card for `{kpi_id}`"
    return card.group(0)


def line_points(card: str, kind: str) -> str:
    found = re.search(rf'<polyline class="{kind}"[^>]*data-points="([^"]*)"', card)
    return found.group(1) if found else ""


@pytest.fixture(scope="module")
def status(default_warehouse) -> list[dict]:
    con = connect(default_warehouse, read_only=True)
    try:
        return read_kpi_status(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def report(default_warehouse, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "site" / "report.html"
    assert write_report(default_warehouse, out, kpis_file=KPIS_FILE, generated_at=GENERATED_AT) == out
    return out


def test_the_report_shows_every_checkpoint_as_the_status_table_has_it(report, status):
    html = report.read_text(encoding="utf-8")
    rows = checkpoint_rows(html)
    assert len(status) == 41 and len(rows) == 41
    for r in status:
        text = rows[f"cp-{r['kpi_id']}-{r['checkpoint_year']}"]
        assert r["name_zh"] in text and r["name_en"] in text and str(r["checkpoint_year"]) in text
        assert r["status"].replace("_", " ") in text, (r["kpi_id"], r["status"], text)
    # targets as the plan states them, and values from the data
    assert "≈ 45 ± 0.9 %" in rows["cp-nonfossil_energy_share-2025"]  # 左右: 2 % of the target
    assert "&gt; 30 % 超过 more than" in rows["cp-cement_benchmark_capacity_share-2025"]
    assert "力争 ≥ 450 万千瓦" in rows["cp-clean_power_capacity-2030"]
    assert "≤ -14 % vs 2020" in rows["cp-energy_intensity_change-2025"]
    assert "≥ 56.5 %" in rows["cp-forest_coverage-2025"] and "56.13 (2024)" in rows["cp-forest_coverage-2025"]
    assert "≤ 660 万吨" in rows["cp-raw_coal_consumption-2025"] and "671 (2025)" in rows[
        "cp-raw_coal_consumption-2025"]
    # the counts at the top are the table's
    summary = text_of(re.search(r'<section class="summary".*?</section>', html, re.DOTALL).group(0))
    for name in ("achieved", "on_track", "at_risk", "off_track", "insufficient_data", "stale"):
        count = sum(r["status"] == name for r in status)
        assert re.search(rf"\b{count} \S+ {name.replace('_', ' ')}\b", summary), (name, count, summary)
    assert "《绵阳市碳达峰实施方案》" in html and "generated 2026-03-01 16:00 北京时间 (UTC+8)" in html
    assert "data last loaded 20" in html  # meta.load_log's latest load


def test_nothing_is_loaded_from_anywhere(report):
    html = report.read_text(encoding="utf-8")
    assert not REMOTE_LOAD.findall(html)
    # not even as text: the default scenario has no failing source whose error would quote a URL
    assert "http://" not in html and "https://" not in html
    assert "<style>" in html and html.count("<svg") == 33


def test_a_chart_per_kpi_with_actuals_the_required_path_and_the_targets(report, default_warehouse):
    html = report.read_text(encoding="utf-8")
    con = connect(default_warehouse, read_only=True)
    try:
        series = {(k, y): v for k, y, v in con.execute("select * from kpi.kpi_series").fetchall()}
        paths = con.execute("""
            select kpi_id, string_agg(year || ':' || expected_value, ' ' order by year)
            from kpi.kpi_required_path p
            where checkpoint_year = (select max(checkpoint_year) from kpi.kpi_required_path
                                     where kpi_id = p.kpi_id)
            group by kpi_id""").fetchall()
    finally:
        con.close()
    engine = {k: " ".join(f"{p.split(':')[0]}:{fmt(float(p.split(':')[1]))}" for p in text.split())
              for k, text in paths}

    def actuals(kpi_id: str, since: int) -> str:
        return " ".join(f"{y}:{fmt(v)}" for (k, y), v in sorted(series.items()) if k == kpi_id and y >= since)

    # the path drawn is the status engine's (kpi.kpi_required_path), year by year, for every KPI
    for kpi_id, points in engine.items():
        assert line_points(kpi_card(html, kpi_id), "path") == points, kpi_id
    # a relative KPI: the path runs from 0 at its base year to the target, at a constant yearly rate
    card = kpi_card(html, "energy_intensity_change")
    assert line_points(card, "path").startswith("2020:0 2021:-2.97")
    assert line_points(card, "path").endswith(" 2025:-14")
    assert line_points(card, "actual") == actuals("energy_intensity_change", 2015) != ""
    assert line_points(card, "actual").endswith(" 2025:-14.59")
    # a level with two targets: from the 2020 value through both, a projection to the later one
    card = kpi_card(html, "clean_power_capacity")
    path = line_points(card, "path")
    assert path.startswith(f"2020:{fmt(series['clean_power_capacity', 2020])} ")
    assert " 2025:210 " in path and path.endswith(" 2030:450") and len(path.split()) == 11
    assert line_points(card, "projection") == "2025:218.7 2030:272.4"
    assert 'data-points="2025:210"' in card and 'data-points="2030:450"' in card
    # ten years of actuals before the latest one
    assert line_points(card, "actual") == actuals("clean_power_capacity", 2015)
    assert len(line_points(card, "actual").split()) == 11
    # a base year long ago: the actuals reach back to it too (if the CO2 inventory is there)
    card = kpi_card(html, "carbon_intensity_change_2005")
    assert line_points(card, "path").startswith("2005:0 ") and line_points(card, "path").endswith(" 2030:-70")
    assert line_points(card, "actual") == actuals("carbon_intensity_change_2005", 2005)
    # a target that is a year has no chart, the latest estimates instead
    card = kpi_card(html, "carbon_peak")
    assert "<svg" not in card
    estimates = sorted((y, v) for (k, y), v in series.items() if k == "carbon_peak")
    for year, value in estimates[-5:]:
        shown = "2060年后 after 2060" if value > 2060 else str(int(value))
        assert f'<td class="num">{year}</td><td class="num">{shown}</td>' in card


def test_text_is_escaped(warehouse_copy, tmp_path):
    con = connect(warehouse_copy)
    try:
        con.execute("""update config.kpis set name_en = '<script>alert("x")</script> & co',
                       quote = '</blockquote><img src=x>' where kpi_id = 'forest_coverage'""")
        html = write_report(con, tmp_path / "report.html").read_text(encoding="utf-8")
    finally:
        con.close()
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    assert "&lt;/blockquote&gt;&lt;img src=x&gt;" in html


def test_a_missing_warehouse_says_what_to_do(tmp_path):
    with pytest.raises(WarehouseError, match=r"does not exist yet; run `carbonpeak run`"):
        write_report(tmp_path / "nothing.duckdb", tmp_path / "report.html")
    assert not (tmp_path / "report.html").exists()


def test_it_opens_offline_in_chromium_and_shows_every_checkpoint(report, status, tmp_path):
    dom = chromium(report, tmp_path / "profile", "--dump-dom").stdout
    rows = checkpoint_rows(dom)
    for r in status:
        text = rows[f"cp-{r['kpi_id']}-{r['checkpoint_year']}"]
        assert r["name_zh"] in text and str(r["checkpoint_year"]) in text
    assert dom.count('<svg class="chart"') == 33

    shot = tmp_path / "report.png"
    chromium(report, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000")
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    # A blank page compresses to a few KB with a handful of byte values; the report has hundreds.
    assert shot.stat().st_size > 50_000 and len(set(pixels)) > 128

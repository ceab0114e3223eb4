"""A city whose departments' files have every quirk (tests/config/lanxi) loads by config alone.

Its KPIs equal the values computed here by hand from the files' own numbers.
"""

from __future__ import annotations

import os

import openpyxl
import pytest
from openpyxl.styles import Alignment

from flows.settings import PROJECT_ROOT
from warehouse.db import connect

LANXI = PROJECT_ROOT / "tests" / "config" / "lanxi"

# county: land km², coverage % in 2024 and 2025, stock 万m³
FOREST = {"城关区": (1013.5, 30.15, 31.40, 120.5), "北山县": (2480.25, 55.00, 55.80, 860.0),
          "临江县": (1706.0, 41.25, 42.10, 402.75)}
# facility: county, monthly tonnes received, recycled share, incinerated share
FACILITIES = {"城东资源化中心": ("城关区", 12345.6, 0.30, 0.30), "北山焚烧厂": ("北山县", 8200.0, 0.05, 0.70),
              "临江填埋场": ("临江县", 4100.4, 0.02, 0.0)}


def fmt(x: float, pct: bool = False) -> str:
    return f"{x:,.2f}" + ("%" if pct else "")


def write_forest_csv(folder, year: int) -> None:
    col = 1 if year == 2024 else 2
    lines = [f"岚溪市{year}年森林资源统计表", "单位：平方公里，%，万立方米",
             "区县,土地面积,森林覆盖率,森林蓄积量"]
    for county, row in FOREST.items():
        stock = "１２０．５" if county == "城关区" else f"{row[3]:,}"  # full-width digits, as typed
        lines.append(f'{county},"{fmt(row[0])}",{fmt(row[col], pct=True)},"{stock}"')
    land = sum(r[0] for r in FOREST.values())
    coverage = sum(r[0] * r[col] for r in FOREST.values()) / land
    lines.append(f'合计,"{fmt(land)}",{fmt(coverage, pct=True)},"{sum(r[3] for r in FOREST.values()):,}"')
    lines.append("注：森林覆盖率含灌木林地。")
    (folder / f"岚溪市{year}年森林资源统计表.csv").write_bytes("\r\n".join(lines).encode("gb18030"))


def write_waste_xlsx(folder, year: int, month: int) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = f"{month}月"
    sheet.append(["岚溪市生活垃圾处理台账"])
    sheet.append(["设施", None, "处理量（吨）", None, None, None])
    sheet.append(["名称", "区县", "进场量", "资源化利用量", "焚烧处理量", "填埋处理量"])
    sheet.merge_cells("A2:B2")
    sheet.merge_cells("C2:F2")
    sheet["C2"].alignment = Alignment(horizontal="center")
    totals = [0.0] * 4
    for name, (county, received, recycled, incinerated) in FACILITIES.items():
        values = [received, received * recycled, received * incinerated,
                  received * (1 - recycled - incinerated)]
        totals = [t + v for t, v in zip(totals, values, strict=True)]
        sheet.append([name, county, *[fmt(v) for v in values]])  # text cells: "12,345.60"
    sheet.append(["合计", None, *[fmt(v) for v in totals]])
    book.save(folder / f"生活垃圾处理台账{year}年{month:02d}月.xlsx")


@pytest.fixture
def lanxi_landing(tmp_path, monkeypatch):
    forest, waste = tmp_path / "forest", tmp_path / "waste"
    forest.mkdir()
    waste.mkdir()
    for year in (2024, 2025):
        write_forest_csv(forest, year)
    for month in range(1, 13):
        write_waste_xlsx(waste, 2025, month)
        os.utime(waste / f"生活垃圾处理台账2025年{month:02d}月.xlsx", (1e9 + month, 1e9 + month))
    warehouse = tmp_path / "lanxi.duckdb"
    monkeypatch.setenv("CARBONPEAK_CONFIG_DIR", str(LANXI))
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("CARBONPEAK_AS_OF", "2026-03-01")
    monkeypatch.setenv("LANXI_FORESTRY_LANDING", str(forest))
    monkeypatch.setenv("LANXI_WASTE_LANDING", str(waste))
    return warehouse


def test_quirky_files_load_by_configuration_alone(prefect_harness, lanxi_landing):
    from flows.run_all import run_all

    state = run_all(return_state=True)
    assert state.is_completed(), state.message
    rows = {(r["kpi_id"], r["checkpoint_year"]): r for r in state.result()}

    # by hand: forest area = land × coverage; coverage = Σ forest / Σ land
    land = sum(r[0] for r in FOREST.values())
    coverage_2025 = 100 * sum(r[0] * r[2] / 100 for r in FOREST.values()) / land
    assert rows[("forest_coverage", 2025)]["latest_value"] == pytest.approx(round(coverage_2025, 2))
    assert rows[("forest_coverage", 2025)]["latest_year"] == 2025
    assert rows[("forest_coverage", 2025)]["status"] == "achieved"  # 46.55 % ≥ 40 %

    # by hand: recycled / received over the twelve monthly workbooks: Lanxi's kpis.yml names the
    # `recycling_only` definition (Mianyang's counts incineration too)
    received = sum(f[1] for f in FACILITIES.values())
    recycled = sum(f[1] * f[2] for f in FACILITIES.values())
    waste = rows[("domestic_waste_recycling_share", 2025)]
    assert waste["latest_value"] == pytest.approx(round(100 * recycled / received, 2))
    assert waste["status"] == "off_track"  # 17.0 % < 60 %
    assert "口径：资源化利用量仅含回收利用量" in waste["status_reason"]
    assert "recycling only, not incineration" in waste["status_reason"]
    # the KPI only Lanxi declares: its view was generated from kpis.yml alone
    incinerated = sum(f[1] * f[3] for f in FACILITIES.values())
    own = rows[("waste_incineration_share", 2025)]
    assert own["latest_value"] == pytest.approx(round(100 * incinerated / received, 2), abs=0.01)
    assert (own["latest_year"], own["status"]) == (2025, "achieved")  # 38.3 % ≥ 30 %

    con = connect(lanxi_landing, read_only=True)
    try:
        forest = con.execute("select year, county_name, land_area_ha, forest_area_ha, stock_volume_m3 "
                             "from raw.forestry__forest_resources where county_name = '城关区' "
                             "order by year").fetchall()
        months = con.execute("select count(distinct month), min(year), max(year), sum(other_t) "
                             "from raw.city_management__domestic_waste").fetchone()
        quarantined = con.execute("select count(*) from meta.quarantine").fetchone()[0]
    finally:
        con.close()
    # km² → ha with the separator gone; the year from the file name; 万m³ from full-width digits
    assert forest[0][:3] == (2024, "城关区", pytest.approx(101350.0))
    assert forest[1][3] == pytest.approx(101350.0 * 31.40 / 100)
    assert forest[0][4] == pytest.approx(1205000.0)
    assert months == (12, 2025, 2025, 0.0)  # month from the sheet name, a constant column
    assert quarantined == 0


def test_a_landing_only_city_starts_no_demo_source_and_is_judged_today(lanxi_landing, monkeypatch):
    from cli.common import embedded_sources
    from flows.settings import Settings

    monkeypatch.delenv("CARBONPEAK_AS_OF")
    with embedded_sources() as started:
        assert started == []  # every dataset arrives in a landing folder
        assert Settings.from_env().as_of is None  # today, not the demo snapshot's date
    monkeypatch.delenv("LANXI_WASTE_LANDING")  # now one department has neither URL nor folder
    with embedded_sources() as started:
        assert started == ["city_management"]

"""The file-based demo sources: the forestry CSV (GB18030) and the waste ledger workbook (XLSX)."""

from __future__ import annotations

import io
from collections import defaultdict

import openpyxl
import pandas as pd
import pytest

from source_server.forestry_data import COUNTIES, forest_resources_csv, forest_resources_rows
from source_server.waste_data import industrial_waste_ledger_xlsx, industrial_waste_rows

FOREST_YEARS = list(range(2005, 2025))
WASTE_YEARS = list(range(2015, 2026))


# --- forestry CSV ------------------------------------------------------------------------------

def _csv_lines() -> list[str]:
    text = forest_resources_csv().decode("gb18030")
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


def test_forest_csv_is_gb18030_not_utf8():
    data = forest_resources_csv()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("gb18030").startswith("绵阳市分县森林资源统计表\r\n")
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_forest_csv_layout():
    lines = _csv_lines()
    assert lines[0] == "绵阳市分县森林资源统计表"
    assert lines[1] == "单位：公顷，%，万立方米"
    assert lines[2] == "年份,区县,土地面积,森林面积,森林覆盖率,森林蓄积量"
    body = lines[3:-1]
    assert len(body) == len(FOREST_YEARS) * (len(COUNTIES) + 1)
    assert lines[-1].startswith("注：森林覆盖率=森林面积/土地面积×100")
    assert "synthetic demo data" in lines[-1]
    first_year = [line.split(",") for line in body[:10]]
    assert [f[1] for f in first_year] == [*COUNTIES, "合计"]
    assert body[0].startswith("2005,涪城区,57930.00,")
    assert body[-1].startswith("2024,合计,")  # 2025 is not yet published


def _csv_totals() -> dict[int, list[str]]:
    return {int(f[0]): f for f in (line.split(",") for line in _csv_lines()[3:-1]) if f[1] == "合计"}


def test_forest_totals_are_sums_of_counties():
    totals = _csv_totals()
    assert sorted(totals) == FOREST_YEARS
    by_year: dict[int, list[dict]] = defaultdict(list)
    for row in forest_resources_rows():
        by_year[row["year"]].append(row)
    for year, fields in totals.items():
        rows = by_year[year]
        assert [r["county"] for r in rows] == COUNTIES
        land, forest, coverage, stock = (float(x) for x in fields[2:])
        assert land == pytest.approx(sum(r["land_area_ha"] for r in rows), abs=0.05)
        assert forest == pytest.approx(sum(r["forest_area_ha"] for r in rows), abs=0.05)
        assert stock == pytest.approx(sum(r["stock_volume_10k_m3"] for r in rows), abs=0.05)
        assert coverage == round(forest / land * 100, 2)
        for r in rows:
            assert r["forest_coverage_pct"] == round(r["forest_area_ha"] / r["land_area_ha"] * 100, 2)


def test_forest_coverage_anchors_and_land_area():
    totals = _csv_totals()
    coverage = {year: float(f[4]) for year, f in totals.items()}
    assert coverage[2024] == 56.13
    assert coverage[2015] == 52.73
    assert coverage[2016] == 53.01
    assert coverage[2017] == 53.86
    assert coverage[2008] == 45.63
    assert coverage[2005] == pytest.approx(44.0, abs=0.3)
    land = float(totals[2024][2])
    assert land == pytest.approx(2_020_000, rel=0.005)  # 2.02 万km²
    stock = {year: float(f[5]) for year, f in totals.items()}
    assert stock[2005] == pytest.approx(7200, rel=0.02)
    assert 9500 < stock[2024] < 10000  # below the plan's 2025 target of 1.00 亿m³


def test_forest_rows_match_csv_text():
    county_lines = [line for line in _csv_lines()[3:-1] if ",合计," not in line]
    rows = forest_resources_rows()
    assert len(rows) == len(county_lines) == len(FOREST_YEARS) * len(COUNTIES)
    for row, line in zip(rows, county_lines, strict=True):
        f = line.split(",")
        assert (int(f[0]), f[1]) == (row["year"], row["county"])
        assert [float(x) for x in f[2:]] == [row["land_area_ha"], row["forest_area_ha"],
                                             row["forest_coverage_pct"], row["stock_volume_10k_m3"]]


def test_forest_csv_parses_with_pandas():
    df = pd.read_csv(io.BytesIO(forest_resources_csv()), encoding="gb18030", header=2)
    assert list(df.columns) == ["年份", "区县", "土地面积", "森林面积", "森林覆盖率", "森林蓄积量"]
    counties = df[(df["区县"] != "合计") & ~df["年份"].astype(str).str.startswith("注")]
    assert len(counties) == len(FOREST_YEARS) * len(COUNTIES)
    per_year = counties.groupby(counties["年份"].astype(int))["区县"].nunique()
    assert per_year.to_dict() == {year: 9 for year in FOREST_YEARS}


# --- waste ledger XLSX ---------------------------------------------------------------------------

def test_waste_xlsx_is_deterministic():
    assert industrial_waste_ledger_xlsx() == industrial_waste_ledger_xlsx()


def test_waste_xlsx_headers_and_merges():
    data = industrial_waste_ledger_xlsx()
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["工业固废台账"]
    ws = wb["工业固废台账"]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:K1", "A2:D2", "E2:H2", "I2:K2"} <= merged
    assert ws["A1"].value == "绵阳市工业固体废物及危险废物管理台账"
    assert (ws["A2"].value, ws["E2"].value, ws["I2"].value) == (
        "基本信息", "一般工业固体废物（吨）", "危险废物（吨）")
    assert [c.value for c in ws[3]] == ["年份", "月份", "区县", "企业名称", "产生量", "综合利用量",
                                        "处置量", "贮存量", "产生量", "利用量", "处置量"]
    assert ws.cell(row=ws.max_row, column=1).value.startswith("注：综合利用率=综合利用量/产生量×100")

    df = pd.read_excel(io.BytesIO(data), sheet_name="工业固废台账", header=[1, 2], engine="openpyxl")
    assert isinstance(df.columns, pd.MultiIndex)
    flat = ["_".join(str(level) for level in col) for col in df.columns]
    assert "基本信息_年份" in flat
    assert "危险废物（吨）_利用量" in flat
    assert "一般工业固体废物（吨）_综合利用量" in flat
    df.columns = flat
    body = df[~df["基本信息_年份"].astype(str).str.startswith("注")]
    assert len(body) == len(WASTE_YEARS) * 12 * 25  # 24 enterprises + 合计 per month
    assert (body["基本信息_区县"] == "合计").sum() == len(WASTE_YEARS) * 12


def test_waste_sheet_matches_rows_and_month_totals():
    wb = openpyxl.load_workbook(io.BytesIO(industrial_waste_ledger_xlsx()))
    ws = wb["工业固废台账"]
    lines = [list(r) for r in ws.iter_rows(min_row=4, max_row=ws.max_row - 1, values_only=True)]
    enterprise_lines = [line for line in lines if line[2] != "合计"]
    rows = industrial_waste_rows()
    keys = list(rows[0])
    assert len(enterprise_lines) == len(rows) == len(WASTE_YEARS) * 12 * 24
    assert [dict(zip(keys, line, strict=True)) for line in enterprise_lines] == rows

    sums: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0] * 7)
    for line in enterprise_lines:
        acc = sums[(line[0], line[1])]
        for i, value in enumerate(line[4:]):
            acc[i] += value
    totals = [line for line in lines if line[2] == "合计"]
    assert [(t[0], t[1]) for t in totals] == [(y, m) for y in WASTE_YEARS for m in range(1, 13)]
    for t in totals:
        assert t[3] is None
        assert t[4:] == pytest.approx(sums[(t[0], t[1])], abs=0.05)


def test_waste_balances_per_row():
    for r in industrial_waste_rows():
        assert r["solid_disposed_t"] + r["solid_stored_t"] == pytest.approx(
            r["solid_generated_t"] - r["solid_utilized_t"], abs=0.011)
        assert r["hazardous_disposed_t"] == pytest.approx(
            r["hazardous_generated_t"] - r["hazardous_utilized_t"], abs=0.011)
        assert min(r[k] for k in list(r)[4:]) >= 0


def _yearly_rates() -> dict[int, dict[str, float]]:
    acc: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in industrial_waste_rows():
        for key in ("solid_generated_t", "solid_utilized_t", "hazardous_generated_t",
                    "hazardous_utilized_t"):
            acc[r["year"]][key] += r[key]
    return {
        year: {
            "solid_t": a["solid_generated_t"],
            "hazardous_t": a["hazardous_generated_t"],
            "solid_pct": a["solid_utilized_t"] / a["solid_generated_t"] * 100,
            "hazardous_pct": a["hazardous_utilized_t"] / a["hazardous_generated_t"] * 100,
        }
        for year, a in acc.items()
    }


def test_waste_city_rates_follow_anchors():
    rates = _yearly_rates()
    assert sorted(rates) == WASTE_YEARS
    assert rates[2024]["hazardous_pct"] == pytest.approx(60.33, abs=0.05)
    assert rates[2024]["solid_pct"] == pytest.approx(98.54, abs=0.05)
    assert rates[2015]["solid_pct"] == pytest.approx(92.0, abs=0.5)
    assert rates[2025]["solid_pct"] == pytest.approx(98.6, abs=0.1)
    assert rates[2015]["hazardous_pct"] == pytest.approx(55.0, abs=0.5)
    assert rates[2025]["hazardous_pct"] == pytest.approx(60.5, abs=0.1)
    assert rates[2015]["solid_t"] == pytest.approx(5.0e6, rel=0.02)
    assert rates[2025]["solid_t"] == pytest.approx(6.2e6, rel=0.02)
    assert rates[2015]["hazardous_t"] == pytest.approx(60_000, rel=0.02)
    assert rates[2025]["hazardous_t"] == pytest.approx(110_000, rel=0.02)


def test_waste_enterprises_cover_all_counties():
    rows = industrial_waste_rows()
    assert len({r["enterprise"] for r in rows}) == 24
    assert {r["county"] for r in rows} == set(COUNTIES)

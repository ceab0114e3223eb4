"""Demo sources of 住建局, 经信局 and 机关事务管理局: layout, determinism, calibration.

住建局 publishes building projects (JSON) and construction waste (CSV), 经信局 a cement report
(XLSX), 机关事务管理局 public-institution statistics (XLSX).

Why ~410 lines: three departments' demo data, each total checked against its parts.
"""

from __future__ import annotations

import io
import itertools
import re
from collections import defaultdict

import openpyxl
import pandas as pd
import pytest

from source_server import buildings_data, industry_data, public_institutions_data
from source_server.buildings_data import (
    building_projects_json_records,
    construction_waste_csv,
    construction_waste_rows,
)
from source_server.energy_data import interpolate
from source_server.industry_data import cement_report_rows, cement_report_xlsx
from source_server.public_institutions_data import public_institutions_rows, public_institutions_xlsx

COUNTIES = ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县", "平武县"]
YEARS = list(range(2018, 2026))
MONTHS = list(range(1, 13))
PP = 0.5  # tolerance of a calibrated share, percentage points


def test_files_dicts():
    assert buildings_data.FILES == {"construction_waste_monthly.csv": construction_waste_csv}
    assert industry_data.FILES == {"cement_clinker_monthly.xlsx": cement_report_xlsx}
    assert public_institutions_data.FILES == {"public_institutions_energy.xlsx": public_institutions_xlsx}
    assert buildings_data.DATASETS == {"building_projects": building_projects_json_records}
    for module in (buildings_data, industry_data, public_institutions_data):
        assert isinstance(module.REAL_ANCHORS, dict)
        for build in module.FILES.values():
            assert build() == build()  # same bytes on every call


# --- 住建局: building projects (JSON) ------------------------------------------------------------

PROJECT_KEYS = ["project_id", "county", "permit_year", "completion_year", "use", "floor_area_m2",
                "is_urban", "is_prefabricated", "energy_standard", "green_star",
                "is_government_funded", "has_energy_monitoring", "is_large"]


def _projects_by_year() -> dict[int, list[dict]]:
    by_year: dict[int, list[dict]] = defaultdict(list)
    for project in building_projects_json_records():
        by_year[project["permit_year"]].append(project)
    return by_year


def _share(projects: list[dict], flag, base=lambda p: True) -> float:
    """Floor-area share (%) of the `base` projects that have `flag`."""
    pool = [p for p in projects if base(p)]
    total = sum(p["floor_area_m2"] for p in pool)
    return sum(p["floor_area_m2"] for p in pool if flag(p)) / total * 100


def test_projects_are_deterministic_plain_records():
    records = building_projects_json_records()
    assert records == building_projects_json_records()
    assert len({p["project_id"] for p in records}) == len(records)
    by_year = _projects_by_year()
    assert sorted(by_year) == YEARS
    for year, projects in by_year.items():
        assert 120 <= len(projects) <= 200
        for k, p in enumerate(projects, start=1):
            assert list(p) == PROJECT_KEYS
            assert p["project_id"] == f"MY-{year}-{k:04d}"
            assert re.fullmatch(r"MY-\d{4}-\d{4}", p["project_id"])
            assert p["county"] in COUNTIES
            assert p["use"] in ("住宅", "公共建筑", "工业建筑")
            assert isinstance(p["floor_area_m2"], float) and p["floor_area_m2"] > 0
            for key in ("is_urban", "is_prefabricated", "is_government_funded",
                        "has_energy_monitoring", "is_large"):
                assert isinstance(p[key], bool)
            assert p["energy_standard"] in ("65%", "72%")
            assert p["green_star"] in (None, 0, 1, 2, 3)
            completion = p["completion_year"]
            assert completion is None or year < completion <= 2025
    assert {p["county"] for p in records} == set(COUNTIES)


def test_project_rules():
    records = building_projects_json_records()
    for p in records:
        expected_large = ((p["use"] == "住宅" and p["floor_area_m2"] >= 150_000)
                          or (p["use"] == "公共建筑"
                              and (p["floor_area_m2"] >= 20_000 or p["is_government_funded"])))
        assert p["is_large"] == expected_large
        if p["is_large"]:
            assert p["is_urban"]
        if not p["is_urban"]:
            assert p["green_star"] is None
        if p["use"] == "工业建筑":
            assert p["energy_standard"] == "65%"
            assert not p["is_government_funded"] and not p["has_energy_monitoring"]
        if p["permit_year"] < 2021:
            assert p["energy_standard"] == "65%"
    # most projects complete 2–3 years after the permit
    done = [p["completion_year"] - p["permit_year"] for p in records
            if p["completion_year"] is not None and p["permit_year"] <= 2021]
    assert sum(1 for d in done if d in (2, 3)) / len(done) > 0.75
    assert all(p["completion_year"] is None for p in records if p["permit_year"] == 2025)
    assert sum(p["completion_year"] is None for p in records if p["permit_year"] <= 2021) > 0  # stalled


def test_building_shares_follow_anchor_paths():
    by_year = _projects_by_year()

    def civil(p: dict) -> bool:
        return p["use"] in ("住宅", "公共建筑")

    def green(p: dict) -> bool:
        return p["green_star"] is not None

    def starred(p: dict) -> bool:
        return (p["green_star"] or 0) >= 1

    def large_public(p: dict) -> bool:
        return p["use"] == "公共建筑" and (p["is_large"] or p["is_government_funded"])

    paths = {
        "prefab": ({2018: 8.0, 2022: 20.0, 2025: 33.0},
                   lambda ps: _share(ps, lambda p: p["is_prefabricated"])),
        "72%": ({2018: 0.0, 2020: 0.0, 2021: 35.0, 2025: 96.0},
                lambda ps: _share(ps, lambda p: p["energy_standard"] == "72%", civil)),
        "green": ({2018: 70.0, 2024: 100.0, 2025: 100.0},
                  lambda ps: _share(ps, green, lambda p: p["is_urban"])),
        "star": ({2018: 20.0, 2025: 42.0}, lambda ps: _share(ps, starred, green)),
        "large one star": ({2018: 60.0, 2025: 100.0},
                           lambda ps: _share(ps, starred, lambda p: p["is_large"])),
        "monitoring": ({2018: 75.0, 2025: 97.0},
                       lambda ps: _share(ps, lambda p: p["has_energy_monitoring"], large_public)),
    }
    values = {name: {y: measure(by_year[y]) for y in YEARS} for name, (_a, measure) in paths.items()}
    for name, (anchors, _measure) in paths.items():
        for year in YEARS:
            assert values[name][year] == pytest.approx(interpolate(anchors, year), abs=PP), (name, year)
    assert values["prefab"][2022] == pytest.approx(20.0, abs=PP)  # the real "仅为20%"
    assert values["prefab"][2025] < 40  # 力争 40 %: missed
    assert all(values["72%"][y] == 0 for y in (2018, 2019, 2020))
    assert values["72%"][2025] < 100  # 全部: missed narrowly
    assert values["green"][2024] == values["green"][2025] == 100  # achieved
    assert values["star"][2025] >= 40  # achieved
    assert values["large one star"][2025] == 100  # achieved
    assert values["monitoring"][2025] < 100  # missed
    # new floor area is a few million m² a year
    for projects in by_year.values():
        assert 3e6 < sum(p["floor_area_m2"] for p in projects) < 9e6


# --- 住建局: construction waste (CSV) ------------------------------------------------------------

def _waste_lines() -> list[str]:
    text = construction_waste_csv().decode("utf-8")
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


def test_waste_csv_encoding_and_layout():
    data = construction_waste_csv()
    assert not data.startswith(b"\xef\xbb\xbf")  # no BOM
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = _waste_lines()
    assert lines[0] == "绵阳市建筑垃圾产生及资源化利用情况"
    assert lines[1] == "单位：万吨"
    assert lines[2] == "年份,月份,区县,产生量,资源化利用量"
    assert lines[-1].startswith("注：") and "synthetic demo data" in lines[-1]
    body = lines[3:-1]
    assert len(body) == len(YEARS) * 12 * 10
    assert [line.split(",")[2] for line in body[:10]] == [*COUNTIES, "合计"]
    assert body[0].startswith("2018,1,涪城区,")
    assert body[-1].startswith("2025,12,合计,")


def test_waste_csv_matches_rows_and_totals():
    rows = construction_waste_rows()
    assert list(rows[0]) == ["year", "month", "county", "generated_10kt", "recycled_10kt"]
    body = [line.split(",") for line in _waste_lines()[3:-1]]
    county_lines = [f for f in body if f[2] != "合计"]
    assert len(rows) == len(county_lines) == len(YEARS) * 12 * 9
    for row, f in zip(rows, county_lines, strict=True):
        assert (int(f[0]), int(f[1]), f[2]) == (row["year"], row["month"], row["county"])
        assert (float(f[3]), float(f[4])) == (row["generated_10kt"], row["recycled_10kt"])
        assert re.fullmatch(r"\d+\.\d\d", f[3]) and re.fullmatch(r"\d+\.\d\d", f[4])
        assert 0 <= row["recycled_10kt"] <= row["generated_10kt"]
    sums: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in rows:
        acc = sums[(row["year"], row["month"])]
        acc[0] += row["generated_10kt"]
        acc[1] += row["recycled_10kt"]
    totals = [f for f in body if f[2] == "合计"]
    assert [(int(f[0]), int(f[1])) for f in totals] == [(y, m) for y in YEARS for m in MONTHS]
    for f in totals:
        assert [float(f[3]), float(f[4])] == pytest.approx(sums[(int(f[0]), int(f[1]))], abs=0.005)


def test_waste_csv_parses_with_pandas():
    df = pd.read_csv(io.BytesIO(construction_waste_csv()), header=2)
    assert list(df.columns) == ["年份", "月份", "区县", "产生量", "资源化利用量"]
    body = df[~df["年份"].astype(str).str.startswith("注")]
    assert len(body) == len(YEARS) * 12 * 10
    counties = body[body["区县"] != "合计"]
    assert counties.groupby(counties["年份"].astype(int))["区县"].nunique().to_dict() == {
        y: 9 for y in YEARS}


def test_waste_recycling_rate_and_volume():
    acc: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in construction_waste_rows():
        acc[row["year"]][0] += row["generated_10kt"]
        acc[row["year"]][1] += row["recycled_10kt"]
    rate = {year: r / g * 100 for year, (g, r) in acc.items()}
    for year in YEARS:
        assert rate[year] == pytest.approx(interpolate({2018: 35.0, 2025: 61.0}, year), abs=PP)
        assert 520 < acc[year][0] < 680  # ~600 万吨 a year
    assert rate[2025] >= 60  # achieved
    assert all(rate[y] < rate[y + 1] for y in YEARS[:-1])


# --- 经信局: cement report (XLSX) ----------------------------------------------------------------

CEMENT_SHEET = "水泥熟料生产情况"
CEMENT_HEADER = ["年份", "月份", "企业名称", "熟料产能（吨/日）", "熟料产量（吨）", "综合能耗（吨标准煤）",
                 "单位产品综合能耗（千克标准煤/吨）", "是否达到标杆水平"]
CEMENT_FLAT = ["企业信息_年份", "企业信息_月份", "企业信息_企业名称", "企业信息_熟料产能（吨/日）",
               "熟料生产_熟料产量（吨）", "熟料生产_综合能耗（吨标准煤）",
               "能效_单位产品综合能耗（千克标准煤/吨）", "能效_是否达到标杆水平"]


def test_cement_xlsx_headers_and_merges():
    wb = openpyxl.load_workbook(io.BytesIO(cement_report_xlsx()))
    assert wb.sheetnames == [CEMENT_SHEET]
    ws = wb[CEMENT_SHEET]
    merged = {str(r) for r in ws.merged_cells.ranges}
    footnote_row = ws.max_row
    assert {"A1:H1", "A2:D2", "E2:F2", "G2:H2", f"A{footnote_row}:H{footnote_row}"} <= merged
    assert ws["A1"].value == "绵阳市水泥熟料生产企业能耗月报"
    assert (ws["A2"].value, ws["E2"].value, ws["G2"].value) == ("企业信息", "熟料生产", "能效")
    assert [c.value for c in ws[3]] == CEMENT_HEADER
    footnote = ws.cell(row=footnote_row, column=1).value
    assert footnote.startswith("注：") and "synthetic demo data" in footnote


def test_cement_xlsx_parses_with_pandas():
    df = pd.read_excel(io.BytesIO(cement_report_xlsx()), sheet_name=CEMENT_SHEET, header=[1, 2],
                       engine="openpyxl")
    assert isinstance(df.columns, pd.MultiIndex)
    flat = ["_".join(str(level) for level in col) for col in df.columns]
    assert flat == CEMENT_FLAT
    df.columns = flat
    body = df[~df["企业信息_年份"].astype(str).str.startswith("注")]
    assert len(body) == len(YEARS) * 12 * 9  # 8 producers + 合计 per month
    assert (body["企业信息_企业名称"] == "合计").sum() == len(YEARS) * 12
    producers = body[body["企业信息_企业名称"] != "合计"]
    assert set(producers["能效_是否达到标杆水平"]) == {"是", "否"}


def test_cement_sheet_matches_rows_and_month_totals():
    ws = openpyxl.load_workbook(io.BytesIO(cement_report_xlsx()))[CEMENT_SHEET]
    lines = [list(r) for r in ws.iter_rows(min_row=4, max_row=ws.max_row - 1, values_only=True)]
    rows = cement_report_rows()
    keys = ["year", "month", "producer", "capacity_tpd", "clinker_t", "energy_tce",
            "energy_kgce_per_t", "is_benchmark"]
    assert list(rows[0]) == keys
    producer_lines = [line for line in lines if line[2] != "合计"]
    assert len(producer_lines) == len(rows) == len(YEARS) * 12 * 8
    assert [dict(zip(keys, line, strict=True)) for line in producer_lines] == rows
    totals = [line for line in lines if line[2] == "合计"]
    assert [(t[0], t[1]) for t in totals] == [(y, m) for y in YEARS for m in MONTHS]
    by_month: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for row in rows:
        by_month[(row["year"], row["month"])].append(row)
    for t in totals:
        month_rows = by_month[(t[0], t[1])]
        assert t[3] == sum(r["capacity_tpd"] for r in month_rows)
        assert t[4] == sum(r["clinker_t"] for r in month_rows)
        assert t[5] == pytest.approx(sum(r["energy_tce"] for r in month_rows), abs=0.05)
        assert t[6] == round(t[5] * 1000 / t[4], 1)
        assert t[7] is None


def test_cement_rows_are_consistent():
    rows = cement_report_rows()
    producers = {r["producer"]: r["capacity_tpd"] for r in rows}
    assert len(producers) == 8
    assert all(name.endswith("某某水泥有限公司") for name in producers)
    assert all(2500 <= capacity <= 6000 for capacity in producers.values())
    for r in rows:
        assert isinstance(r["clinker_t"], int) and r["clinker_t"] > 0
        assert r["energy_kgce_per_t"] == round(r["energy_tce"] * 1000 / r["clinker_t"], 1)
        assert r["is_benchmark"] == ("是" if r["energy_kgce_per_t"] <= 100 else "否")
        assert 95 <= r["energy_kgce_per_t"] <= 125
        assert r["energy_kgce_per_t"] <= 128  # GB 16780 limit for existing lines


def test_cement_energy_and_benchmark_capacity_targets():
    rows = cement_report_rows()
    acc: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        acc[r["year"]][0] += r["clinker_t"]
        acc[r["year"]][1] += r["energy_tce"]
    average = {year: e * 1000 / c for year, (c, e) in acc.items()}
    assert average[2020] == pytest.approx(112.0, rel=0.002)
    assert average[2025] == pytest.approx(108.0, rel=0.002)
    change = (average[2025] / average[2020] - 1) * 100
    assert change == pytest.approx(-3.6, abs=PP)
    assert change <= -3  # achieved
    for year in YEARS[1:]:
        assert average[year] / average[year - 1] - 1 == pytest.approx(-0.008, abs=0.002)

    capacity = sum({r["producer"]: r["capacity_tpd"] for r in rows}.values())
    share = {year: sum(r["capacity_tpd"] for r in rows
                       if r["year"] == year and r["month"] == 12 and r["is_benchmark"] == "是")
             / capacity * 100 for year in YEARS}
    assert share[2018] == 0
    assert share[2025] == pytest.approx(27.0, abs=PP)
    assert share[2025] <= 30  # missed
    assert all(share[y] <= share[y + 1] for y in YEARS[:-1])


# --- 机关事务管理局: public institutions (XLSX) --------------------------------------------------

PUBLIC_SHEET = "公共机构能源资源消费统计"
PUBLIC_HEADER = ["年份", "区县", "机构类型", "机构数", "建筑面积", "用能人数", "综合能耗", "二氧化碳排放"]
TYPES = ["党政机关", "教育", "卫生", "其他"]


def test_public_xlsx_headers_and_merges():
    wb = openpyxl.load_workbook(io.BytesIO(public_institutions_xlsx()))
    assert wb.sheetnames == [PUBLIC_SHEET]
    ws = wb[PUBLIC_SHEET]
    footnote_row = ws.max_row
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {"A1:H1", "A2:H2", f"A{footnote_row}:H{footnote_row}"} <= merged
    assert ws["A1"].value == "绵阳市公共机构能源资源消费统计表"
    assert ws["A2"].value == "单位：平方米，人，吨标准煤，吨二氧化碳"
    assert [c.value for c in ws[3]] == PUBLIC_HEADER
    footnote = ws.cell(row=footnote_row, column=1).value
    assert footnote.startswith("注：") and "synthetic demo data" in footnote


def test_public_xlsx_parses_with_pandas():
    df = pd.read_excel(io.BytesIO(public_institutions_xlsx()), sheet_name=PUBLIC_SHEET, header=2,
                       engine="openpyxl")
    assert list(df.columns) == PUBLIC_HEADER
    body = df[~df["年份"].astype(str).str.startswith("注")]
    assert len(body) == len(YEARS) * 37
    assert (body["区县"] == "合计").sum() == len(YEARS)
    cells = body[body["区县"] != "合计"]
    assert set(cells["机构类型"]) == set(TYPES)
    assert cells.groupby(cells["年份"].astype(int)).size().to_dict() == {y: 36 for y in YEARS}


def test_public_sheet_matches_rows_and_totals():
    ws = openpyxl.load_workbook(io.BytesIO(public_institutions_xlsx()))[PUBLIC_SHEET]
    lines = [list(r) for r in ws.iter_rows(min_row=4, max_row=ws.max_row - 1, values_only=True)]
    rows = public_institutions_rows()
    keys = ["year", "county", "institution_type", "institutions", "floor_area_m2", "staff",
            "energy_tce", "co2_t"]
    assert list(rows[0]) == keys
    cell_lines = [line for line in lines if line[1] != "合计"]
    assert len(cell_lines) == len(rows) == len(YEARS) * 36
    assert [dict(zip(keys, line, strict=True)) for line in cell_lines] == rows
    assert [(r["county"], r["institution_type"]) for r in rows[:36]] == [
        (c, t) for c in COUNTIES for t in TYPES]
    totals = [line for line in lines if line[1] == "合计"]
    assert [t[0] for t in totals] == YEARS
    for t in totals:
        year_rows = [r for r in rows if r["year"] == t[0]]
        assert t[2] is None
        assert t[3:6] == [sum(r[k] for r in year_rows) for k in ("institutions", "floor_area_m2", "staff")]
        assert t[6:] == pytest.approx([sum(r[k] for r in year_rows) for k in ("energy_tce", "co2_t")],
                                      abs=0.01)


def test_public_ratios_against_2020():
    acc: dict[int, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in public_institutions_rows():
        for key in ("floor_area_m2", "staff", "energy_tce", "co2_t"):
            acc[r["year"]][key] += r[key]
    base = acc[2020]
    assert base["floor_area_m2"] == pytest.approx(9.5e6, rel=0.002)
    assert base["staff"] == pytest.approx(160_000, rel=0.002)
    assert base["energy_tce"] == pytest.approx(230_000, rel=0.002)
    for year in YEARS[1:]:
        assert acc[year]["floor_area_m2"] / acc[year - 1]["floor_area_m2"] == pytest.approx(1.015, abs=0.001)

    def change(year: int, num: str, den: str) -> float:
        return (acc[year][num] / acc[year][den] / (base[num] / base[den]) - 1) * 100

    per_area, per_person, co2_area = (change(2025, "energy_tce", "floor_area_m2"),
                                      change(2025, "energy_tce", "staff"),
                                      change(2025, "co2_t", "floor_area_m2"))
    assert per_area == pytest.approx(-6.8, abs=PP) and per_area <= -6  # achieved
    assert per_person == pytest.approx(-5.2, abs=PP) and per_person > -6  # missed
    assert co2_area == pytest.approx(-7.9, abs=PP) and co2_area <= -7  # achieved
    factors = [acc[y]["co2_t"] / acc[y]["energy_tce"] for y in YEARS]
    assert factors[YEARS.index(2020)] == pytest.approx(2.3, abs=0.01)
    assert all(a > b for a, b in itertools.pairwise(factors))  # electricity gets cleaner

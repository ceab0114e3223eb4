"""Deterministic yearly energy statistics of public institutions (机关事务管理局), 2018–2025, as XLSX.

The government offices administration (机关事务管理局) compiles the yearly 公共机构能源资源消费统计:
per county and institution type (党政机关, 教育, 卫生, 其他) the number of institutions, their
building floor area, the people using energy there (用能人数), the total energy use and the CO₂
emitted, with a 合计 row per year.

Nothing about Mianyang's public institutions was found (see `shared/notes/mianyang-facts.md`),
so everything here is synthetic and `REAL_ANCHORS` is empty. City totals come from anchor paths:

* floor area ~9.5 million m² in 2020, +1.5 % a year; energy ~230,000 tce in 2020;
* energy per m² 2025 −6.8 % against 2020 (plan: −6 %, achieved);
* energy per person 2025 −5.2 % against 2020 (plan: −6 %, missed), so staff grows ~160,000 →
  ~169,000;
* CO₂ per m² 2025 −7.9 % against 2020 (plan: −7 %, achieved): CO₂ ≈ 2.30 tCO₂/tce in 2020,
  falling slightly as grid electricity gets cleaner.

Cells are county share × type share × type intensity with small deterministic wiggles, then each
quantity is rescaled per year so the counties add up to the city totals. The workbook bytes are
reproducible (fixed document date and zip timestamps).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from openpyxl import Workbook

from source_server.energy_data import interpolate
from source_server.xlsx import deterministic_xlsx, report_workbook

FIRST_YEAR = 2018
LAST_YEAR = 2025
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
BASE_YEAR = 2020

# No real figure was found for Mianyang's public institutions: every series is synthetic.
REAL_ANCHORS: dict[str, float] = {}

SHEET_NAME = "公共机构能源资源消费统计"
TITLE = "绵阳市公共机构能源资源消费统计表"
UNITS = "单位：平方米，人，吨标准煤，吨二氧化碳"
HEADER = ["年份", "区县", "机构类型", "机构数", "建筑面积", "用能人数", "综合能耗", "二氧化碳排放"]
TOTAL_LABEL = "合计"
FOOTNOTE = ("注：综合能耗按当量值折算；二氧化碳排放含外购电力间接排放。"
            "数据为演示用合成数据（synthetic demo data）。")
# Fixed document timestamp: the same bytes come out on every call.
FIXED_TIMESTAMP = datetime.datetime(2026, 3, 2, 9, 0)

COUNTIES = ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县",
            "平武县"]
TYPES = ["党政机关", "教育", "卫生", "其他"]

# --- city totals (synthetic) --------------------------------------------------------------------
AREA_2020_M2 = 9_500_000.0
AREA_GROWTH = 0.015  # a year
ENERGY_2020_TCE = 230_000.0
STAFF_2020 = 160_000.0
# Energy per m² and energy per person as an index, 2020 = 1 (2025: −6.8 % and −5.2 %).
ENERGY_PER_AREA_INDEX = {2018: 1.025, 2020: 1.0, 2025: 0.932}
ENERGY_PER_PERSON_INDEX = {2018: 1.02, 2020: 1.0, 2025: 0.948}
# tCO₂ per tce; 2025 is set so CO₂ per m² comes out at −7.9 % (0.921 / 0.932 of the 2020 factor).
CO2_PER_TCE = {2018: 2.31, 2020: 2.30, 2025: 2.30 * 0.921 / 0.932}

# --- split by county and type (synthetic) --------------------------------------------------------
# County share of the floor area (the city-level institutions sit in 涪城).
COUNTY_AREA_SHARE = {
    "涪城区": 0.30, "游仙区": 0.11, "安州区": 0.07, "江油市": 0.14, "三台县": 0.13, "盐亭县": 0.06,
    "梓潼县": 0.06, "北川羌族自治县": 0.06, "平武县": 0.07,
}
# County energy per m² relative to the others (air conditioning in the main urban area; heating in
# the mountain counties).
COUNTY_ENERGY_FACTOR = {
    "涪城区": 1.08, "游仙区": 1.02, "安州区": 0.97, "江油市": 1.02, "三台县": 0.93, "盐亭县": 0.92,
    "梓潼县": 0.93, "北川羌族自治县": 1.00, "平武县": 1.03,
}
# Type share of the floor area; energy per m², people per m² and CO₂ per tce relative to the mean;
# floor area per institution, m² (growing 1 % a year as small units merge).
TYPE_AREA_SHARE = {"党政机关": 0.20, "教育": 0.48, "卫生": 0.17, "其他": 0.15}
TYPE_ENERGY_FACTOR = {"党政机关": 1.05, "教育": 0.70, "卫生": 1.90, "其他": 0.95}
TYPE_STAFF_FACTOR = {"党政机关": 1.60, "教育": 0.80, "卫生": 1.20, "其他": 1.00}
TYPE_CO2_FACTOR = {"党政机关": 1.00, "教育": 0.99, "卫生": 1.02, "其他": 1.00}  # 卫生 burns more gas
TYPE_AREA_PER_INSTITUTION_M2 = {"党政机关": 2_200.0, "教育": 4_500.0, "卫生": 3_000.0, "其他": 1_800.0}
AREA_PER_INSTITUTION_GROWTH = 0.01

ROW_KEYS = ["year", "county", "institution_type", "institutions", "floor_area_m2", "staff",
            "energy_tce", "co2_t"]


def _wiggle(year: int, k: int) -> float:
    """Small deterministic relative deviation in [-0.005, 0.005] for item number `k`."""
    return ((year * 7 + k * 13) % 11 - 5) / 1000


def city_totals(year: int) -> dict[str, float]:
    """Unrounded city totals of one year: floor area, staff, energy and CO₂."""
    area = AREA_2020_M2 * (1 + AREA_GROWTH) ** (year - BASE_YEAR)
    energy = area * ENERGY_2020_TCE / AREA_2020_M2 * interpolate(ENERGY_PER_AREA_INDEX, year)
    staff = energy / (ENERGY_2020_TCE / STAFF_2020 * interpolate(ENERGY_PER_PERSON_INDEX, year))
    return {"floor_area_m2": area, "staff": staff, "energy_tce": energy,
            "co2_t": energy * interpolate(CO2_PER_TCE, year)}


def _rescaled(raw: list[float], total: float) -> list[float]:
    factor = total / sum(raw)
    return [value * factor for value in raw]


def _year_rows(year: int) -> list[dict]:
    """The 36 county × type rows of one year, numbers rounded as published."""
    totals = city_totals(year)
    cells = [(county, kind) for county in COUNTIES for kind in TYPES]
    area = _rescaled([COUNTY_AREA_SHARE[c] * TYPE_AREA_SHARE[t] * (1 + 4 * _wiggle(year, k))
                      for k, (c, t) in enumerate(cells)], totals["floor_area_m2"])
    staff = _rescaled([a * TYPE_STAFF_FACTOR[t] * (1 + 4 * _wiggle(year, k + 5))
                       for a, (_c, t), k in zip(area, cells, range(len(cells)), strict=True)],
                      totals["staff"])
    energy = _rescaled([a * TYPE_ENERGY_FACTOR[t] * COUNTY_ENERGY_FACTOR[c] * (1 + 4 * _wiggle(year, k + 9))
                        for a, (c, t), k in zip(area, cells, range(len(cells)), strict=True)],
                       totals["energy_tce"])
    co2 = _rescaled([e * TYPE_CO2_FACTOR[t] for e, (_c, t) in zip(energy, cells, strict=True)],
                    totals["co2_t"])
    growth = (1 + AREA_PER_INSTITUTION_GROWTH) ** (year - BASE_YEAR)
    return [
        {"year": year, "county": c, "institution_type": t,
         "institutions": max(1, round(area[k] / (TYPE_AREA_PER_INSTITUTION_M2[t] * growth))),
         "floor_area_m2": round(area[k]), "staff": round(staff[k]),
         "energy_tce": round(energy[k], 2), "co2_t": round(co2[k], 2)}
        for k, (c, t) in enumerate(cells)
    ]


def public_institutions_rows() -> list[dict]:
    """County × type rows (no 合计 rows), 2018–2025, with the numbers exactly as in the sheet."""
    return [row for year in YEARS for row in _year_rows(year)]


def _sheet_lines() -> list[list[object]]:
    """Body lines of the sheet: county × type rows with a 合计 row after each year."""
    lines: list[list[object]] = []
    for year in YEARS:
        rows = _year_rows(year)
        lines.extend([row[key] for key in ROW_KEYS] for row in rows)
        lines.append([year, TOTAL_LABEL, None]
                     + [sum(r[key] for r in rows) for key in ("institutions", "floor_area_m2", "staff")]
                     + [round(sum(r[key] for r in rows), 2) for key in ("energy_tce", "co2_t")])
    return lines


def _workbook() -> Workbook:
    return report_workbook(
        sheet=SHEET_NAME, title=TITLE, unit_line=UNITS, header=HEADER, lines=_sheet_lines(),
        footnote=FOOTNOTE, is_total=lambda line: line[1] == TOTAL_LABEL,
        number_formats={4: "0", 5: "0", 6: "0", 7: "0.00", 8: "0.00"},
        widths=[8, 16, 10, 10, 14, 12, 14, 14],
        creator="绵阳市机关事务管理局", timestamp=FIXED_TIMESTAMP)


def public_institutions_xlsx() -> bytes:
    """The yearly statistics workbook, byte-for-byte identical on every call."""
    return deterministic_xlsx(_workbook(), FIXED_TIMESTAMP)


# The published files of the department.
FILES: dict[str, Callable[[], bytes]] = {"public_institutions_energy.xlsx": public_institutions_xlsx}

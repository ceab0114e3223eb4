"""Deterministic monthly energy report of the cement-clinker producers (经信局), 2018–2025, as XLSX.

The economy and information-technology bureau (经济和信息化局) collects a monthly report from the
clinker producers: capacity, clinker output, total energy use and energy per tonne of clinker, and
whether the producer is at the efficiency benchmark (能效标杆水平). One row per producer per month,
a 合计 row after each month.

Real: the thresholds only (`REAL_ANCHORS`, source: `shared/notes/mianyang-facts.md`): GB 16780
limits for 可比熟料综合能耗 and the NDRC benchmark level for cement clinker, 100 kgce/t, which sets
the 是/否 flag. No Mianyang cement output or energy figure was found, so everything else is
synthetic: the eight producers are invented (their names carry 某某 on purpose; three of them share
their names with the cement works of the waste ledger), and

* the city production-weighted energy per tonne falls ~0.8 % a year: 113.8 (2018) → 112.0 (2020)
  → 108.0 kgce/t (2025), −3.6 % against 2020 where the plan asks for −3 %: achieved;
* the capacity share at the benchmark (producers flagged 是 in December) rises from 0 % (2018–2020)
  to 10.7 % (2021, the 游仙 line) and 26.9 % (2023 on, the 安州 line): the plan's ">30 %" is missed.

Each producer follows its own trajectory; every year the producers that are not at the benchmark
are rescaled by one common factor so that the city average lands on the anchor path. Monthly
values add a start-stop penalty in the low months (错峰生产) and a small deterministic wiggle.
The workbook bytes are reproducible (fixed document date and zip timestamps).
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable

from openpyxl import Workbook

from source_server.energy_data import interpolate
from source_server.xlsx import deterministic_xlsx, report_workbook

FIRST_YEAR = 2018
LAST_YEAR = 2025
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
MONTHS = range(1, 13)

# Real figures: thresholds the synthetic series are measured against (not series values).
REAL_ANCHORS = {
    "GB 16780 可比熟料综合能耗 limit, existing lines ≥ 4000 t/d, kgce/t": 128.0,
    "GB 16780 advanced value (先进值), lines ≥ 4000 t/d, kgce/t": 114.0,
    "GB 16780 advanced value (先进值), lines 2000–4000 t/d, kgce/t": 120.0,
    "NDRC benchmark level (标杆水平) for cement clinker, kgce/t": 100.0,
    "NDRC base level (基准水平) for cement clinker, kgce/t": 117.0,
}
BENCHMARK_KGCE_PER_T = 100.0  # a producer is 是 (at the benchmark) when its month value is ≤ this

SHEET_NAME = "水泥熟料生产情况"
TITLE = "绵阳市水泥熟料生产企业能耗月报"
GROUPS = [("企业信息", "A2:D2"), ("熟料生产", "E2:F2"), ("能效", "G2:H2")]
HEADER = ["年份", "月份", "企业名称", "熟料产能（吨/日）", "熟料产量（吨）", "综合能耗（吨标准煤）",
          "单位产品综合能耗（千克标准煤/吨）", "是否达到标杆水平"]
TOTAL_LABEL = "合计"
YES, NO = "是", "否"
FOOTNOTE = ("注：单位产品综合能耗=综合能耗×1000/熟料产量；标杆水平按100千克标准煤/吨判定。"
            "数据为演示用合成数据（synthetic demo data）。")
# Fixed document timestamp: the same bytes come out on every call.
FIXED_TIMESTAMP = datetime.datetime(2026, 1, 20, 9, 0)

# City production-weighted clinker energy, kgce/t (synthetic; −0.8 %/yr, −3.6 % 2020 → 2025).
CITY_ENERGY_KGCE_PER_T = {2018: 113.8, 2020: 112.0, 2025: 108.0}
# Clinker demand: city utilisation of capacity by year (synthetic: the construction slump).
YEAR_UTILISATION = {2018: 0.90, 2020: 0.88, 2021: 0.93, 2023: 0.84, 2025: 0.80}
# Month utilisation relative to the year (staggered winter shutdowns 错峰生产, the flood season).
MONTH_UTILISATION = [0.70, 0.45, 0.90, 0.95, 0.95, 0.88, 0.80, 0.82, 0.92, 0.96, 0.95, 0.85]
# Extra energy per tonne in low months (kiln starts and stops): +START_STOP_PENALTY × (1 − month util).
START_STOP_PENALTY = 0.03

# --- producers (all invented) --------------------------------------------------------------------
# name, county, clinker capacity t/d, own utilisation factor, energy trajectory kgce/t (before the
# yearly rescaling), first year at the benchmark (None = never). The benchmark lines are the newest
# (游仙, rebuilt 2020–21) and a retrofitted 5000 t/d line (安州, 2023); the small old 江油 and 三台
# lines are near the GB 16780 limits.
PRODUCERS: list[tuple[str, str, int, float, dict[int, float], int | None]] = [
    ("江油某某水泥有限公司", "江油市", 6000, 1.00, {2018: 109.0, 2025: 103.5}, None),
    ("江油含增某某水泥有限公司", "江油市", 4500, 0.95, {2018: 115.0, 2025: 110.0}, None),
    ("江油二郎庙某某水泥有限公司", "江油市", 2500, 0.85, {2018: 121.5, 2025: 116.5}, None),
    ("四川某某水泥有限公司", "安州区", 5000, 1.00,
     {2018: 107.0, 2022: 103.5, 2023: 97.0, 2025: 96.0}, 2023),
    ("安州某某水泥有限公司", "安州区", 3000, 0.90, {2018: 119.0, 2025: 113.0}, None),
    ("北川某某水泥有限公司", "北川羌族自治县", 4000, 0.95, {2018: 112.0, 2025: 107.0}, None),
    ("三台某某水泥有限公司", "三台县", 2500, 0.85, {2018: 121.0, 2025: 115.5}, None),
    ("游仙某某水泥有限公司", "游仙区", 3300, 1.00,
     {2018: 104.0, 2020: 102.5, 2021: 96.5, 2025: 95.5}, 2021),
]

ROW_KEYS = ["year", "month", "producer", "capacity_tpd", "clinker_t", "energy_tce",
            "energy_kgce_per_t", "is_benchmark"]


def _wiggle(year: int, k: int) -> float:
    """Small deterministic relative deviation in [-0.005, 0.005] for item number `k`."""
    return ((year * 7 + k * 13) % 11 - 5) / 1000


def _at_benchmark(producer: tuple, year: int) -> bool:
    first = producer[5]
    return first is not None and year >= first


def _year_raw(year: int) -> list[list[tuple[int, float]]]:
    """(clinker t, energy kgce/t) per producer and month, before the yearly rescaling."""
    out = []
    for k, (_name, _county, capacity, util, trajectory, _first) in enumerate(PRODUCERS):
        level = interpolate(trajectory, year)
        months = []
        for month in MONTHS:
            days = calendar.monthrange(year, month)[1]
            month_util = MONTH_UTILISATION[month - 1]
            clinker = round(capacity * days * interpolate(YEAR_UTILISATION, year) * month_util * util
                            * (1 + 4 * _wiggle(year * 12 + month, k)))
            energy = (level * (1 + START_STOP_PENALTY * (1 - month_util))
                      * (1 + 0.6 * _wiggle(year + month, k + 3)))
            months.append((clinker, energy))
        out.append(months)
    return out


def cement_report_rows() -> list[dict]:
    """Producer rows (no 合计 rows), ordered by year, month, producer; values as in the sheet."""
    rows = []
    for year in YEARS:
        raw = _year_raw(year)
        fixed = sum(c * e for k, p in enumerate(PRODUCERS) if _at_benchmark(p, year) for c, e in raw[k])
        free = sum(c * e for k, p in enumerate(PRODUCERS) if not _at_benchmark(p, year)
                   for c, e in raw[k])
        clinker_total = sum(c for months in raw for c, _e in months)
        # One factor for the producers not at the benchmark: the city average lands on the anchor.
        factor = (interpolate(CITY_ENERGY_KGCE_PER_T, year) * clinker_total - fixed) / free
        for month in MONTHS:
            for k, producer in enumerate(PRODUCERS):
                clinker, energy = raw[k][month - 1]
                if not _at_benchmark(producer, year):
                    energy *= factor
                energy_tce = round(clinker * energy / 1000, 1)
                per_t = round(energy_tce * 1000 / clinker, 1)
                rows.append({
                    "year": year, "month": month, "producer": producer[0],
                    "capacity_tpd": producer[2], "clinker_t": clinker, "energy_tce": energy_tce,
                    "energy_kgce_per_t": per_t,
                    "is_benchmark": YES if per_t <= BENCHMARK_KGCE_PER_T else NO,
                })
    return rows


def _report_lines() -> list[list[object]]:
    """Body lines of the sheet: producer rows with a 合计 row after each month."""
    lines: list[list[object]] = []
    rows = cement_report_rows()
    for start in range(0, len(rows), len(PRODUCERS)):
        month_rows = rows[start:start + len(PRODUCERS)]
        lines.extend([row[key] for key in ROW_KEYS] for row in month_rows)
        clinker = sum(r["clinker_t"] for r in month_rows)
        energy = round(sum(r["energy_tce"] for r in month_rows), 1)
        lines.append([month_rows[0]["year"], month_rows[0]["month"], TOTAL_LABEL,
                      sum(r["capacity_tpd"] for r in month_rows), clinker, energy,
                      round(energy * 1000 / clinker, 1), None])
    return lines


def _workbook() -> Workbook:
    return report_workbook(
        sheet=SHEET_NAME, title=TITLE, groups=GROUPS, header=HEADER, wrap_header=True,
        lines=_report_lines(), footnote=FOOTNOTE, is_total=lambda line: line[2] == TOTAL_LABEL,
        number_formats={4: "0", 5: "0", 6: "0.0", 7: "0.0"},
        widths=[8, 6, 30, 14, 14, 16, 18, 12],
        creator="绵阳市经济和信息化局", timestamp=FIXED_TIMESTAMP)


def cement_report_xlsx() -> bytes:
    """The monthly report workbook, byte-for-byte identical on every call."""
    return deterministic_xlsx(_workbook(), FIXED_TIMESTAMP)


# The published files of the department.
FILES: dict[str, Callable[[], bytes]] = {"cement_clinker_monthly.xlsx": cement_report_xlsx}

"""Deterministic monthly industrial solid & hazardous waste ledger (生态环境局), 2015–2025, as XLSX.

The eco-environment department keeps a ledger (台账) with one row per enterprise per month and a
合计 row after each month. Yearly city totals are built from anchor points and linear interpolation
between them; the 2024 utilisation rates are real published figures (`REAL_ANCHORS`, source:
`shared/notes/mianyang-facts.md`), everything else is synthetic. The 24 enterprises are invented
(their names carry 某某 on purpose); each has a constant size factor, and its monthly amounts are
yearly city total × enterprise share × month weight, rounded to 2 decimals.

The workbook bytes are reproducible: the document properties carry a fixed date and the zip
entries a fixed timestamp, so every call returns the same bytes.
"""

from __future__ import annotations

import datetime

from openpyxl import Workbook

from source_server.energy_data import interpolate
from source_server.xlsx import deterministic_xlsx, report_workbook

FIRST_YEAR = 2015
LAST_YEAR = 2025
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
MONTHS = range(1, 13)

# Real figures the synthetic series pass through (to 0.05 percentage points after rounding).
REAL_ANCHORS = {
    "general industrial solid-waste utilisation rate 2024, %": 98.54,
    "hazardous-waste utilisation rate 2024, %": 60.33,
}

SHEET_NAME = "工业固废台账"
TITLE = "绵阳市工业固体废物及危险废物管理台账"
GROUPS = [("基本信息", "A2:D2"), ("一般工业固体废物（吨）", "E2:H2"), ("危险废物（吨）", "I2:K2")]
HEADER = ["年份", "月份", "区县", "企业名称", "产生量", "综合利用量", "处置量", "贮存量",
          "产生量", "利用量", "处置量"]
TOTAL_LABEL = "合计"
FOOTNOTE = "注：综合利用率=综合利用量/产生量×100。数据为演示用合成数据（synthetic demo data）。"
# Fixed document timestamp: the same bytes come out on every call.
FIXED_TIMESTAMP = datetime.datetime(2026, 2, 15, 9, 0)

# --- yearly city totals ----------------------------------------------------------------------
# General industrial solid waste generated, t. Synthetic: ~5.0 million t (2015) → ~6.2 million t (2025).
SOLID_GENERATED_T = {2015: 5_000_000.0, 2020: 5_560_000.0, 2025: 6_200_000.0}
# Its utilisation rate (综合利用量/产生量), %. 2024 is real; the others are synthetic.
SOLID_UTILISATION_PCT = {2015: 92.0, 2018: 95.6, 2021: 97.7, 2024: 98.54, 2025: 98.6}
# Share of the non-utilised solid waste that is disposed of; the rest is stored (synthetic).
SOLID_DISPOSED_SHARE = 0.7
# Hazardous waste generated, t. Synthetic: ~60,000 t (2015) → ~110,000 t (2025).
HAZARDOUS_GENERATED_T = {2015: 60_000.0, 2020: 82_000.0, 2025: 110_000.0}
# Hazardous utilisation rate (利用量/产生量), %. 2024 is real (far below the plan's 85 % target);
# the others are synthetic. The rest of the hazardous waste is disposed of.
HAZARDOUS_UTILISATION_PCT = {2015: 55.0, 2020: 58.5, 2024: 60.33, 2025: 60.5}

# Month weights (mild seasonality: a Spring Festival dip in February, a year-end push in
# December); normalised to sum to 1 over the year. Synthetic.
_RAW_MONTH_WEIGHTS = [0.96, 0.80, 1.00, 1.01, 1.02, 1.01, 0.98, 0.98, 1.01, 1.02, 1.04, 1.10]
MONTH_WEIGHTS = [w / sum(_RAW_MONTH_WEIGHTS) for w in _RAW_MONTH_WEIGHTS]

# --- enterprises (all invented) ----------------------------------------------------------------
# name, county, solid size factor, hazardous size factor, solid non-utilisation propensity,
# hazardous non-utilisation propensity. Size factors set each enterprise's share of the city total;
# a propensity > 1 means the enterprise utilises less of its waste than the city average
# (e.g. phosphogypsum, steel slag), < 1 more (cement kilns absorb almost everything).
ENTERPRISES: list[tuple[str, str, float, float, float, float]] = [
    ("绵阳某某电子科技有限公司", "涪城区", 0.6, 3.0, 1.0, 1.3),
    ("绵阳某某热电有限公司", "涪城区", 5.0, 0.3, 0.8, 0.9),
    ("绵阳某某汽车零部件有限公司", "涪城区", 0.8, 2.0, 0.9, 1.1),
    ("绵阳某某新材料有限公司", "涪城区", 1.0, 1.5, 1.2, 1.0),
    ("绵阳某某化工有限公司", "游仙区", 1.2, 4.0, 1.5, 0.8),
    ("游仙某某食品有限公司", "游仙区", 0.5, 0.1, 0.6, 1.0),
    ("游仙某某机械制造有限公司", "游仙区", 0.7, 1.2, 0.9, 1.2),
    ("四川某某水泥有限公司", "安州区", 7.0, 0.2, 0.3, 0.7),
    ("安州某某磷化工有限公司", "安州区", 6.0, 2.5, 2.6, 0.9),
    ("安州某某建材有限公司", "安州区", 2.0, 0.2, 0.5, 0.8),
    ("江油某某特钢有限公司", "江油市", 9.0, 3.5, 1.1, 0.7),
    ("江油某某发电有限公司", "江油市", 8.0, 0.4, 0.9, 0.9),
    ("江油某某水泥有限公司", "江油市", 6.5, 0.2, 0.3, 0.7),
    ("江油某某铝业有限公司", "江油市", 3.0, 2.0, 1.4, 1.1),
    ("江油某某化工有限公司", "江油市", 2.0, 3.0, 1.6, 0.9),
    ("三台某某食品有限公司", "三台县", 0.8, 0.1, 0.6, 1.0),
    ("三台某某化工有限公司", "三台县", 1.5, 2.5, 1.5, 1.0),
    ("盐亭某某建材有限公司", "盐亭县", 1.5, 0.2, 0.5, 0.8),
    ("盐亭某某纺织有限公司", "盐亭县", 0.6, 0.5, 1.0, 1.2),
    ("梓潼某某酒业有限公司", "梓潼县", 0.6, 0.1, 0.5, 1.0),
    ("梓潼某某新能源材料有限公司", "梓潼县", 0.9, 1.8, 1.3, 1.1),
    ("北川某某水泥有限公司", "北川羌族自治县", 4.0, 0.2, 0.3, 0.7),
    ("北川某某矿业有限公司", "北川羌族自治县", 3.5, 0.6, 2.0, 1.0),
    ("平武某某矿业有限公司", "平武县", 3.0, 0.5, 2.2, 1.0),
]

ROW_KEYS = ["year", "month", "county", "enterprise", "solid_generated_t", "solid_utilized_t",
            "solid_disposed_t", "solid_stored_t", "hazardous_generated_t", "hazardous_utilized_t",
            "hazardous_disposed_t"]


def _wiggle(year: int, k: int) -> float:
    """Small deterministic relative deviation in [-0.005, 0.005] for enterprise number `k`."""
    return ((year * 7 + k * 13) % 11 - 5) / 1000


def _shares(factors: list[float], year: int, salt: int) -> list[float]:
    """Enterprise shares of one year: constant size factors with a small yearly wiggle, sum 1."""
    raw = [f * (1 + 4 * _wiggle(year, k + salt)) for k, f in enumerate(factors)]
    total = sum(raw)
    return [r / total for r in raw]


def _non_utilised_fractions(shares: list[float], propensity: list[float],
                            city_fraction: float) -> list[float]:
    """Per-enterprise fraction of its waste not utilised, so that the city fraction comes out exactly.

    Enterprise k leaves `city_fraction × p_k / Σ(share_j × p_j)` of its waste unused; weighted by
    the shares this adds up to `city_fraction`.
    """
    norm = sum(s * p for s, p in zip(shares, propensity, strict=True))
    return [min(1.0, city_fraction * p / norm) for p in propensity]


def industrial_waste_rows() -> list[dict]:
    """Enterprise rows (no 合计 rows), ordered by year, month, enterprise; values as in the sheet."""
    rows = []
    for year in YEARS:
        solid_total = interpolate(SOLID_GENERATED_T, year)
        hazardous_total = interpolate(HAZARDOUS_GENERATED_T, year)
        solid_shares = _shares([e[2] for e in ENTERPRISES], year, 0)
        hazardous_shares = _shares([e[3] for e in ENTERPRISES], year, 5)
        solid_unused = _non_utilised_fractions(
            solid_shares, [e[4] for e in ENTERPRISES],
            1 - interpolate(SOLID_UTILISATION_PCT, year) / 100)
        hazardous_unused = _non_utilised_fractions(
            hazardous_shares, [e[5] for e in ENTERPRISES],
            1 - interpolate(HAZARDOUS_UTILISATION_PCT, year) / 100)
        for month in MONTHS:
            weight = MONTH_WEIGHTS[month - 1]
            for k, (name, county, *_factors) in enumerate(ENTERPRISES):
                solid_gen = round(solid_total * solid_shares[k] * weight, 2)
                solid_used = round(solid_gen * (1 - solid_unused[k]), 2)
                solid_left = round(solid_gen - solid_used, 2)
                solid_disposed = round(solid_left * SOLID_DISPOSED_SHARE, 2)
                haz_gen = round(hazardous_total * hazardous_shares[k] * weight, 2)
                haz_used = round(haz_gen * (1 - hazardous_unused[k]), 2)
                rows.append({
                    "year": year, "month": month, "county": county, "enterprise": name,
                    "solid_generated_t": solid_gen, "solid_utilized_t": solid_used,
                    "solid_disposed_t": solid_disposed,
                    "solid_stored_t": round(solid_left - solid_disposed, 2),
                    "hazardous_generated_t": haz_gen, "hazardous_utilized_t": haz_used,
                    "hazardous_disposed_t": round(haz_gen - haz_used, 2),
                })
    return rows


def _ledger_lines() -> list[list[object]]:
    """Body lines of the sheet: enterprise rows with a 合计 row after each month."""
    lines: list[list[object]] = []
    month_rows: list[dict] = []
    value_keys = ROW_KEYS[4:]
    for row in industrial_waste_rows() + [None]:  # None flushes the last month
        if month_rows and (row is None or (row["year"], row["month"]) != (
                month_rows[0]["year"], month_rows[0]["month"])):
            first = month_rows[0]
            lines.append([first["year"], first["month"], TOTAL_LABEL, None]
                         + [round(sum(r[key] for r in month_rows), 2) for key in value_keys])
            month_rows = []
        if row is not None:
            lines.append([row[key] for key in ROW_KEYS])
            month_rows.append(row)
    return lines


def _workbook() -> Workbook:
    return report_workbook(
        sheet=SHEET_NAME, title=TITLE, groups=GROUPS, header=HEADER, lines=_ledger_lines(),
        footnote=FOOTNOTE, is_total=lambda line: line[2] == TOTAL_LABEL,
        number_formats={col: "0.00" for col in range(5, len(HEADER) + 1)},
        widths=[8, 6, 16, 30, 12, 12, 12, 12, 12, 12, 12],
        creator="绵阳市生态环境局", timestamp=FIXED_TIMESTAMP)


def industrial_waste_ledger_xlsx() -> bytes:
    """The ledger workbook, byte-for-byte identical on every call."""
    return deterministic_xlsx(_workbook(), FIXED_TIMESTAMP)

"""Deterministic demo files of the urban waste departments: 城管, 住建, 水务局 and 发改委, 2018–2025.

Four files, each in the shape its department would publish:

* `domestic_waste_ledger_xlsx` — 城管 monthly ledger (台账) of the domestic-waste facilities, one row per
  facility per month and a 合计 row after each month, as XLSX.
* `waste_sorting_csv` — 住建/城管 yearly waste-sorting coverage of urban communities per county,
  UTF-8 CSV.
* `sewage_sludge_csv` — 水务局 yearly sludge generation and safe disposal per wastewater plant,
  GB18030 CSV.
* `industrial_parks_csv` — 发改委 yearly list of the provincial-level (省级以上) industrial parks and
  their circular-retrofit (循环化改造) status, UTF-8 CSV with a BOM.

Real (`REAL_ANCHORS`, source: `shared/notes/mianyang-facts.md`): the three waste-to-energy (WtE)
plants, their design capacities and start dates (涪城 循环经济产业园 2 × 500 t/d from ~2016, 三台
1000 t/d from 2021-02, 江油 phase 1 750 t/d from 2025-06); the 100 % domestic-waste safe-treatment
rate of 2024 (every tonne in the ledger goes to a sanitary facility: incineration, sanitary landfill,
sorting or kitchen-waste treatment); the 9 parks on the provincial list that all completed the
circular retrofit by 2025. Everything else is synthetic: the tonnages, the sorting coverage, the
sludge figures, the facility, plant and park names (they carry 某某 on purpose) and the timing of each
park's retrofit. Yearly city figures are anchor points with linear interpolation between them
(`interpolate`); facilities, counties and plants get constant size factors with small deterministic
wiggles, scaled so that the city figures come out as set.

The calibrated KPIs (what the default scenario gives in 2025):

* domestic-waste resource-recovery share, (资源化利用量 + 焚烧处理量) / 进场量 (WtE counts as
  recovery): 38 % (2018) → 58.5 % (2025), against a 2025 target of about 60 % (missed), rising
  about 2.5 points a year at the end (2030 target 65 %);
* waste-sorting coverage of urban communities: 12 % (2019) → 78 % (2025), about 10–11 points a year
  (2030 target 100 %: on track);
* sludge safe-disposal rate: 88 % (2018) → 96.2 % (2025) (target 95 %: achieved);
* eligible provincial-level parks with completed circular retrofit: 1 of 9 (2018) → 9 of 9 (2025)
  (target all: achieved).

With the city receiving only ~1600–2000 t/d, the 38 % → 58.5 % share means the WtE plants run well
below their design capacity (涪城 about 55–65 %; the county plants ramp up slowly and stay at a
quarter of theirs or less: "吃不饱"), while the two sanitary landfills still take 40–60 % of the waste.

The workbook bytes are reproducible: the document properties carry a fixed date and the zip entries
a fixed timestamp, so every call returns the same bytes. The CSV builders are pure text.

Why ~470 lines: the numbers are the content: four departments' files generated together
so the facility ledgers add up to the yearly totals.
"""

from __future__ import annotations

import calendar
import datetime
from collections.abc import Callable

from openpyxl import Workbook

from source_server.energy_data import interpolate
from source_server.xlsx import deterministic_xlsx, report_workbook

MONTHS = range(1, 13)
COUNTIES = ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县", "平武县"]
TOTAL_LABEL = "合计"

# Real figures the synthetic data respect.
REAL_ANCHORS = {
    "WtE plant 涪城 (循环经济产业园) phase 1 design capacity from ~2016, t/d": 1000,
    "WtE plant 三台 design capacity from 2021-02 (trial firing), t/d": 1000,
    "WtE plant 江油 phase 1 design capacity from 2025-06, t/d": 750,
    "domestic-waste safe-treatment rate 2024, %": 100.0,
    "provincial-list industrial parks that completed circular retrofit by 2025": 9,
}


def _wiggle(year: int, k: int) -> float:
    """Small deterministic relative deviation in [-0.005, 0.005] for item number `k`."""
    return ((year * 7 + k * 13) % 11 - 5) / 1000


def _line(fields: list[object], decimals: int = 2) -> str:
    """One CSV line; floats get `decimals` places, a field is quoted only if it needs to be."""
    out = []
    for field in fields:
        text = f"{field:.{decimals}f}" if isinstance(field, float) else str(field)
        if any(ch in text for ch in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out)


def _csv_text(lines: list[str]) -> str:
    return "\r\n".join(lines) + "\r\n"


# ================================================================================================
# 1. Domestic-waste facility ledger (城管), monthly, XLSX
# ================================================================================================

LEDGER_FIRST_YEAR = 2018
LEDGER_LAST_YEAR = 2025
LEDGER_YEARS = range(LEDGER_FIRST_YEAR, LEDGER_LAST_YEAR + 1)

LEDGER_SHEET = "生活垃圾处理台账"
LEDGER_TITLE = "绵阳市生活垃圾处理设施运行台账"
LEDGER_GROUPS = [("设施信息", "A2:D2"), ("处理量（吨）", "E2:I2")]
LEDGER_HEADER = ["年份", "月份", "设施名称", "所在区县", "进场量", "资源化利用量", "焚烧处理量",
                 "填埋处理量", "其他处理量"]
LEDGER_FOOTNOTE = ("注：资源化利用比例=资源化利用量/进场量×100（焚烧发电计入资源化利用，即按"
                   "（资源化利用量+焚烧处理量）/进场量×100计算）；进场量=资源化利用量+焚烧处理量+"
                   "填埋处理量+其他处理量。数据为演示用合成数据（synthetic demo data）。")
LEDGER_ROW_KEYS = ["year", "month", "facility", "county", "received_t", "recycled_t", "incinerated_t",
                   "landfilled_t", "other_t"]
# Fixed document timestamp: the same bytes come out on every call.
LEDGER_TIMESTAMP = datetime.datetime(2026, 1, 20, 9, 0)

# City waste received by all facilities, t/d (yearly average). Synthetic: ~1600 → ~2000.
RECEIVED_T_PER_DAY = {2018: 1600.0, 2025: 2000.0}
# Resource-recovery share (资源化利用量 + 焚烧处理量) / 进场量, %. Synthetic. The kitchen-waste plant
# (2020) and the 三台 WtE plant (2021-02) give steps; about +2.6 points a year from 2021 on.
RECOVERY_SHARE_PCT = {2018: 38.0, 2020: 42.5, 2021: 48.0, 2025: 58.5}
# Intake of the two sorting centres together and of the kitchen-waste plant, t/d. Synthetic.
SORTING_INTAKE_T_PER_DAY = {2018: 40.0, 2025: 120.0}
KITCHEN_INTAKE_T_PER_DAY = {2020: 60.0, 2025: 120.0}
# Share of a sorting centre's / the kitchen-waste plant's intake that is recovered (资源化利用); the
# residue is shipped out (其他处理量). Synthetic.
SORTING_RECOVERED = 0.86
KITCHEN_RECOVERED = 0.90
# Share of the landfilled waste going to the central landfill (the rest to the county one). Synthetic.
CENTRAL_LANDFILL_SHARE = {2018: 0.70, 2025: 0.55}

# Per-day month factors (Spring Festival and summer fruit peaks, an autumn low). Synthetic.
MONTH_FACTORS = [1.06, 1.08, 0.97, 0.96, 0.98, 1.00, 1.03, 1.03, 0.99, 0.98, 0.95, 0.97]

INCINERATION, LANDFILL, SORTING, KITCHEN = "incineration", "landfill", "sorting", "kitchen"
# name (invented), county, kind, size (design capacity in t/d for a WtE plant, share of its kind
# otherwise), first month of operation. The WtE capacities and start months are real.
FACILITIES: list[tuple[str, str, str, float, tuple[int, int]]] = [
    ("绵阳某某循环经济产业园生活垃圾焚烧发电厂", "涪城区", INCINERATION, 1000.0, (2016, 1)),
    ("三台某某生活垃圾焚烧发电厂", "三台县", INCINERATION, 1000.0, (2021, 2)),
    ("江油某某生活垃圾焚烧发电厂", "江油市", INCINERATION, 750.0, (2025, 6)),
    ("绵阳市某某生活垃圾卫生填埋场", "游仙区", LANDFILL, 1.0, (2005, 1)),
    ("盐亭县某某生活垃圾卫生填埋场", "盐亭县", LANDFILL, 1.0, (2008, 1)),
    ("绵阳某某再生资源分拣中心", "涪城区", SORTING, 0.6, (2015, 1)),
    ("游仙某某可回收物分拣中心", "游仙区", SORTING, 0.4, (2017, 1)),
    ("绵阳某某餐厨垃圾处理厂", "涪城区", KITCHEN, 1.0, (2020, 1)),
]
# Nominal intake of each WtE plant while operating, t/d: only the ratios count, the year's burnt
# tonnage is set by the recovery share. 涪城 runs at about 55–65 % of its design capacity; the
# county plants ramp up slowly as the rural collection network (村收集、镇转运) reaches them.
# Synthetic.
WTE_NOMINAL_T_PER_DAY = {
    "绵阳某某循环经济产业园生活垃圾焚烧发电厂": {2018: 570.0, 2020: 620.0, 2024: 660.0, 2025: 650.0},
    "三台某某生活垃圾焚烧发电厂": {2021: 110.0, 2024: 232.0, 2025: 245.0},
    "江油某某生活垃圾焚烧发电厂": {2025: 110.0},  # trial operation in its first months
}


def _operates(facility: tuple, year: int, month: int) -> bool:
    return (year, month) >= facility[4]


def _month_weights(year: int) -> list[float]:
    """Each month's share of the year's waste: days in the month × month factor, sum 1."""
    raw = [calendar.monthrange(year, m)[1] * MONTH_FACTORS[m - 1] for m in MONTHS]
    total = sum(raw)
    return [r / total for r in raw]


def _row(year: int, month: int, facility: tuple, recycled: float = 0.0, incinerated: float = 0.0,
         landfilled: float = 0.0, other: float = 0.0) -> dict:
    """One ledger row; 进场量 is the exact 2-decimal sum of the four treatment columns."""
    return {"year": year, "month": month, "facility": facility[0], "county": facility[1],
            "received_t": round(recycled + incinerated + landfilled + other, 2),
            "recycled_t": recycled, "incinerated_t": incinerated, "landfilled_t": landfilled,
            "other_t": other}


def _ledger_year(year: int) -> list[dict]:
    """The facility rows of one year, ordered by month, then as in `FACILITIES`."""
    weights = _month_weights(year)
    days = 366 if calendar.isleap(year) else 365
    received = interpolate(RECEIVED_T_PER_DAY, year) * days
    by_month: dict[int, dict[int, dict]] = {m: {} for m in MONTHS}

    # Sorting centres and the kitchen-waste plant: intake from their own series.
    for k, facility in enumerate(FACILITIES):
        kind, size = facility[2], facility[3]
        if kind not in (SORTING, KITCHEN):
            continue
        series, recovered = ((SORTING_INTAKE_T_PER_DAY, SORTING_RECOVERED) if kind == SORTING
                             else (KITCHEN_INTAKE_T_PER_DAY, KITCHEN_RECOVERED))
        yearly = interpolate(series, year) * days * size
        for month in MONTHS:
            if not _operates(facility, year, month):
                continue
            intake = yearly * weights[month - 1] * (1 + _wiggle(year * 12 + month, k))
            by_month[month][k] = _row(year, month, facility, recycled=round(intake * recovered, 2),
                                      other=round(intake * (1 - recovered), 2))
    recycled = sum(r["recycled_t"] for rows in by_month.values() for r in rows.values())

    # WtE plants: together they burn what the recovery share leaves after the recycled tonnes,
    # spread over plant-months by nominal intake × month weight.
    incinerated = interpolate(RECOVERY_SHARE_PCT, year) / 100 * received - recycled
    raw = {}
    for k, facility in enumerate(FACILITIES):
        if facility[2] != INCINERATION:
            continue
        for month in MONTHS:
            if _operates(facility, year, month):
                raw[(k, month)] = (interpolate(WTE_NOMINAL_T_PER_DAY[facility[0]], year)
                                   * weights[month - 1] * (1 + 4 * _wiggle(year * 12 + month, k)))
    raw_total = sum(raw.values())
    for (k, month), value in raw.items():
        by_month[month][k] = _row(year, month, FACILITIES[k],
                                  incinerated=round(incinerated * value / raw_total, 2))

    # Landfills: whatever else the city received that month.
    central = interpolate(CENTRAL_LANDFILL_SHARE, year)
    landfills = [k for k, f in enumerate(FACILITIES) if f[2] == LANDFILL]
    for month in MONTHS:
        rest = received * weights[month - 1] - sum(r["received_t"] for r in by_month[month].values())
        first = round(rest * central * (1 + _wiggle(year * 12 + month, landfills[0])), 2)
        by_month[month][landfills[0]] = _row(year, month, FACILITIES[landfills[0]], landfilled=first)
        by_month[month][landfills[1]] = _row(year, month, FACILITIES[landfills[1]],
                                             landfilled=round(rest - first, 2))
    return [by_month[m][k] for m in MONTHS for k in sorted(by_month[m])]


def domestic_waste_ledger_rows() -> list[dict]:
    """Facility rows (no 合计 rows), ordered by year, month, facility; values as in the sheet."""
    return [row for year in LEDGER_YEARS for row in _ledger_year(year)]


def _ledger_lines() -> list[list[object]]:
    """Body lines of the sheet: facility rows with a 合计 row after each month."""
    lines: list[list[object]] = []
    value_keys = LEDGER_ROW_KEYS[4:]
    rows = domestic_waste_ledger_rows()
    for year in LEDGER_YEARS:
        for month in MONTHS:
            month_rows = [r for r in rows if (r["year"], r["month"]) == (year, month)]
            lines.extend([r[key] for key in LEDGER_ROW_KEYS] for r in month_rows)
            lines.append([year, month, TOTAL_LABEL, None]
                         + [round(sum(r[key] for r in month_rows), 2) for key in value_keys])
    return lines


def _ledger_workbook() -> Workbook:
    return report_workbook(
        sheet=LEDGER_SHEET, title=LEDGER_TITLE, groups=LEDGER_GROUPS, header=LEDGER_HEADER,
        lines=_ledger_lines(), footnote=LEDGER_FOOTNOTE, is_total=lambda line: line[2] == TOTAL_LABEL,
        number_formats={col: "0.00" for col in range(5, len(LEDGER_HEADER) + 1)},
        widths=[8, 6, 40, 16, 12, 14, 12, 12, 12],
        creator="绵阳市城市管理行政执法局", timestamp=LEDGER_TIMESTAMP)


def domestic_waste_ledger_xlsx() -> bytes:
    """The ledger workbook, byte-for-byte identical on every call."""
    return deterministic_xlsx(_ledger_workbook(), LEDGER_TIMESTAMP)


# ================================================================================================
# 2. Waste-sorting coverage of urban communities (住建 / 城管), yearly, UTF-8 CSV
# ================================================================================================

SORTING_YEARS = range(2019, 2026)
SORTING_TITLE = "绵阳市城市生活垃圾分类覆盖情况"
SORTING_UNITS = "单位：个，%"
SORTING_HEADER = ["年份", "区县", "城市社区总数", "已实施分类社区数", "覆盖率"]
SORTING_FOOTNOTE = ("注：覆盖率=已实施分类社区数/城市社区总数×100；合计行覆盖率按全市社区数计算。"
                    "数据为演示用合成数据（synthetic demo data）。")

# City coverage Σ implemented / Σ communities, %. Synthetic: 12 % (2019) → 78 % (2025).
SORTING_COVERAGE_PCT = {2019: 12.0, 2025: 78.0}
# Urban communities per county in 2019 and new communities a year (urbanisation), and how far
# ahead of the city average the county is (the urban districts 涪城 and 游仙 ran the pilots).
# All synthetic.
COMMUNITIES: dict[str, tuple[int, float, float]] = {
    "涪城区": (110, 2.0, 1.25),
    "游仙区": (60, 1.0, 1.20),
    "安州区": (25, 0.5, 0.90),
    "江油市": (60, 1.0, 1.00),
    "三台县": (40, 0.5, 0.80),
    "盐亭县": (18, 0.0, 0.60),
    "梓潼县": (15, 0.0, 0.65),
    "北川羌族自治县": (12, 0.0, 0.55),
    "平武县": (10, 0.0, 0.50),
}


def _apportion(total: int, weights: list[float], caps: list[int]) -> list[int]:
    """Integers adding up to `total`, proportional to `weights`, each at most its cap.

    Items whose quota exceeds their cap are fixed at the cap and the rest is shared again; the
    remaining units go to the largest fractional parts (largest-remainder method).
    """
    fixed: dict[int, int] = {}
    while True:
        free = [i for i in range(len(weights)) if i not in fixed]
        left = total - sum(fixed.values())
        norm = sum(weights[i] for i in free)
        quotas = {i: left * weights[i] / norm for i in free}
        over = [i for i in free if quotas[i] > caps[i]]
        if not over:
            break
        for i in over:
            fixed[i] = caps[i]
    counts = {i: int(q) for i, q in quotas.items()}
    order = sorted(quotas, key=lambda i: (-(quotas[i] - counts[i]), i))
    for i in order[:left - sum(counts.values())]:
        counts[i] += 1
    counts.update(fixed)
    return [counts[i] for i in range(len(weights))]


def _sorting_year(year: int) -> list[dict]:
    totals = [base + int(growth * (year - SORTING_YEARS[0])) for base, growth, _ in COMMUNITIES.values()]
    implemented_total = round(interpolate(SORTING_COVERAGE_PCT, year) / 100 * sum(totals))
    weights = [t * lead * (1 + 4 * _wiggle(year, k))
               for k, (t, (_, _, lead)) in enumerate(zip(totals, COMMUNITIES.values(), strict=True))]
    implemented = _apportion(implemented_total, weights, totals)
    return [
        {"year": year, "county": county, "communities_total": t, "communities_sorting": n,
         "coverage_pct": round(n / t * 100, 1)}
        for county, t, n in zip(COMMUNITIES, totals, implemented, strict=True)
    ]


def waste_sorting_rows() -> list[dict]:
    """County rows (no 合计 rows), 2019–2025, with the numbers exactly as written in the CSV."""
    return [row for year in SORTING_YEARS for row in _sorting_year(year)]


def waste_sorting_csv() -> bytes:
    """The coverage table: UTF-8 without BOM, CRLF, title and unit lines on top."""
    lines = [SORTING_TITLE, SORTING_UNITS, _line(SORTING_HEADER)]
    for year in SORTING_YEARS:
        rows = _sorting_year(year)
        for row in rows:
            lines.append(_line([year, row["county"], row["communities_total"],
                                row["communities_sorting"], row["coverage_pct"]], decimals=1))
        total = sum(r["communities_total"] for r in rows)
        sorting = sum(r["communities_sorting"] for r in rows)
        lines.append(_line([year, TOTAL_LABEL, total, sorting, round(sorting / total * 100, 1)],
                           decimals=1))
    lines.append(SORTING_FOOTNOTE)
    return _csv_text(lines).encode("utf-8")


# ================================================================================================
# 3. Sewage sludge (水务局), yearly per wastewater plant, GB18030 CSV
# ================================================================================================

SLUDGE_YEARS = range(2018, 2026)
SLUDGE_TITLE = "绵阳市城镇污水处理厂污泥处置情况"
SLUDGE_UNITS = "单位：吨（含水率80%）"
SLUDGE_HEADER = ["年份", "污水处理厂", "所在区县", "污泥产生量", "无害化处置量"]
SLUDGE_FOOTNOTE = ("注：污泥无害化处置率=无害化处置量/污泥产生量×100。"
                   "数据为演示用合成数据（synthetic demo data）。")

# City sludge generated (80 % moisture), t. Synthetic: ~95,000 t (2018) → ~135,000 t (2025).
SLUDGE_T = {2018: 95_000.0, 2021: 112_000.0, 2025: 135_000.0}
# City safe-disposal rate Σ 无害化处置量 / Σ 污泥产生量, %. Synthetic: 88 → 96.2 (target 95).
SLUDGE_SAFE_PCT = {2018: 88.0, 2021: 93.0, 2025: 96.2}
# name (invented), county, size factor, propensity not to dispose safely (the central plants send
# their sludge to co-incineration; small county plants lag behind). Synthetic.
SLUDGE_PLANTS: list[tuple[str, str, float, float]] = [
    ("绵阳某某第一污水处理厂", "涪城区", 2.2, 0.5),
    ("绵阳某某第二污水处理厂", "涪城区", 1.6, 0.6),
    ("绵阳某某新区污水处理厂", "游仙区", 1.0, 0.7),
    ("游仙某某污水处理厂", "游仙区", 0.8, 0.9),
    ("安州某某污水处理厂", "安州区", 0.7, 1.1),
    ("江油某某城区污水处理厂", "江油市", 1.3, 0.9),
    ("江油某某工业园区污水处理厂", "江油市", 0.6, 1.2),
    ("三台某某污水处理厂", "三台县", 0.9, 1.3),
    ("盐亭某某污水处理厂", "盐亭县", 0.45, 1.8),
    ("梓潼某某污水处理厂", "梓潼县", 0.4, 1.7),
    ("北川某某污水处理厂", "北川羌族自治县", 0.35, 2.0),
    ("平武某某污水处理厂", "平武县", 0.25, 2.2),
]


def _sludge_year(year: int) -> list[dict]:
    raw = [p[2] * (1 + 4 * _wiggle(year, k)) for k, p in enumerate(SLUDGE_PLANTS)]
    shares = [r / sum(raw) for r in raw]
    total = interpolate(SLUDGE_T, year)
    unsafe = 1 - interpolate(SLUDGE_SAFE_PCT, year) / 100
    norm = sum(s * p[3] for s, p in zip(shares, SLUDGE_PLANTS, strict=True))
    rows = []
    for share, (name, county, _size, propensity) in zip(shares, SLUDGE_PLANTS, strict=True):
        sludge = round(total * share, 2)
        rows.append({"year": year, "plant": name, "county": county, "sludge_t": sludge,
                     "safely_disposed_t": round(sludge * (1 - min(1.0, unsafe * propensity / norm)), 2)})
    return rows


def sewage_sludge_rows() -> list[dict]:
    """Plant rows (no 合计 rows), 2018–2025, with the numbers exactly as written in the CSV."""
    return [row for year in SLUDGE_YEARS for row in _sludge_year(year)]


def sewage_sludge_csv() -> bytes:
    """The sludge table: GB18030, CRLF, title and unit lines on top, a 合计 row per year."""
    lines = [SLUDGE_TITLE, SLUDGE_UNITS, _line(SLUDGE_HEADER)]
    for year in SLUDGE_YEARS:
        rows = _sludge_year(year)
        for row in rows:
            lines.append(_line([year, row["plant"], row["county"], row["sludge_t"],
                                row["safely_disposed_t"]]))
        lines.append(_line([year, TOTAL_LABEL, "", round(sum(r["sludge_t"] for r in rows), 2),
                            round(sum(r["safely_disposed_t"] for r in rows), 2)]))
    lines.append(SLUDGE_FOOTNOTE)
    return _csv_text(lines).encode("gb18030")


# ================================================================================================
# 4. Provincial-level industrial parks and their circular retrofit (发改委), yearly, UTF-8 BOM CSV
# ================================================================================================

PARK_YEARS = range(2018, 2026)
PARK_TITLE = "绵阳市省级以上园区循环化改造情况"
PARK_UNITS = "单位：个"
PARK_HEADER = ["年份", "园区名称", "园区级别", "是否具备改造条件", "是否完成循环化改造"]
PARK_FOOTNOTE = ("注：循环化改造完成率=完成循环化改造园区数/具备改造条件园区数×100；"
                 "具备改造条件的园区即列入省级循环化改造名单的园区。"
                 "数据为演示用合成数据（synthetic demo data）。")
YES, NO = "是", "否"

# name (invented), level, year the retrofit was completed (None: not eligible). Real: 9 parks on the
# provincial list, all completed by 2025. The names, levels and completion years are synthetic.
PARKS: list[tuple[str, str, int | None]] = [
    ("绵阳某某经济技术开发区", "国家级", 2018),
    ("绵阳某某高新技术产业开发区", "国家级", 2019),
    ("游仙某某经济开发区", "省级", 2021),
    ("安州某某经济开发区", "省级", 2023),
    ("江油某某经济开发区", "省级", 2020),
    ("江油某某高新技术产业园区", "省级", 2024),
    ("三台某某经济开发区", "省级", 2022),
    ("盐亭某某经济开发区", "省级", 2024),
    ("梓潼某某经济开发区", "省级", 2025),
    ("北川某某经济开发区", "省级", None),
    ("平武某某工业园区", "省级", None),
]


def industrial_parks_rows() -> list[dict]:
    """Park rows, one per year and park, with the values exactly as written in the CSV."""
    return [
        {"year": year, "park": name, "level": level,
         "is_eligible": NO if completed is None else YES,
         "is_retrofitted": YES if completed is not None and year >= completed else NO}
        for year in PARK_YEARS
        for name, level, completed in PARKS
    ]


def industrial_parks_csv() -> bytes:
    """The park list: UTF-8 with a BOM, CRLF, title and unit lines on top."""
    lines = [PARK_TITLE, PARK_UNITS, _line(PARK_HEADER)]
    for row in industrial_parks_rows():
        lines.append(_line([row["year"], row["park"], row["level"], row["is_eligible"],
                            row["is_retrofitted"]]))
    lines.append(PARK_FOOTNOTE)
    return _csv_text(lines).encode("utf-8-sig")


# File name → builder of its bytes, and → its data rows (the `*_rows()` twins).
FILES: dict[str, Callable[[], bytes]] = {
    "domestic_waste_ledger.xlsx": domestic_waste_ledger_xlsx,
    "waste_sorting_coverage.csv": waste_sorting_csv,
    "sewage_sludge_disposal.csv": sewage_sludge_csv,
    "industrial_parks_circular_retrofit.csv": industrial_parks_csv,
}
ROWS: dict[str, Callable[[], list[dict]]] = {
    "domestic_waste_ledger.xlsx": domestic_waste_ledger_rows,
    "waste_sorting_coverage.csv": waste_sorting_rows,
    "sewage_sludge_disposal.csv": sewage_sludge_rows,
    "industrial_parks_circular_retrofit.csv": industrial_parks_rows,
}

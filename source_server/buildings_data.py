"""Deterministic data of the housing and construction department (住建局), 2018–2025.

Two sources:

* the permit / completion system (施工许可与竣工验收), one record per building project, served as a
  paginated JSON API (`building_projects_json_records`);
* a monthly construction-waste table by county (`construction_waste_csv`), UTF-8 CSV with a title and
  a unit line on top and a 合计 row after each month.

Real: only the prefabricated share of new construction, "仅为20%" as of 2022 (`REAL_ANCHORS`,
source: `shared/notes/mianyang-facts.md`). Mianyang publishes no other building statistics, so
everything else is synthetic. The projects are invented: counts, uses, floor areas and flags come
from integer hash formulas (no random numbers), and each yearly floor-area share is met by an
exact subset-sum over the projects' floor areas (candidates in a fixed hash order), so every share
lands within ~0.1 percentage point of its anchor path:

* prefabricated share of new floor area: 8 % (2018) → 20 % (2022, real) → 33 % (2025);
  the plan's "力争 40 %" is missed;
* new civil (住宅 + 公共建筑) floor area to the 72 % energy-saving standard: none before 2021,
  35 % (2021) → 96 % (2025); "全部" is missed narrowly (industrial buildings stay on "65%");
* urban new floor area built to the green-building standard (green_star not null): 70 % (2018) →
  100 % (2024, 2025); achieved. Rural projects are never built to it (green_star null);
* star-rated (green_star ≥ 1) share of green floor area: 20 % (2018) → 42 % (2025); achieved;
* large new buildings (住宅 ≥ 150,000 m², 公共建筑 ≥ 20,000 m², government-funded 公共建筑; all
  urban) rated one star or better: 60 % (2018) → 100 % (2025); achieved;
* new large public buildings with an energy-monitoring system: 75 % (2018) → 97 % (2025); missed.

Construction waste: ~560–640 万吨 a year (peak 2021); the recycling rate (资源化利用量/产生量)
rises 35 % (2018) → 61 % (2025) against the plan's 60 %: achieved. All synthetic.

Why ~340 lines: the numbers are the content: a deterministic department's worth of data,
kept in one file so its totals can be checked against each other.
"""

from __future__ import annotations

from collections.abc import Callable

from source_server.energy_data import interpolate

FIRST_YEAR = 2018
LAST_YEAR = 2025
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
MONTHS = range(1, 13)

# Real figures the synthetic series pass through (to 0.5 percentage points after selection).
REAL_ANCHORS = {
    "prefabricated share of new construction (装配式) 2022, %": 20.0,
}

COUNTIES = ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县",
            "平武县"]
USES = ["住宅", "公共建筑", "工业建筑"]
CIVIL_USES = ("住宅", "公共建筑")

# --- building projects -------------------------------------------------------------------------
# Projects permitted (新开工) per year. Synthetic: a peak in 2021, then the property slump.
PROJECTS_PER_YEAR = {2018: 150, 2019: 165, 2020: 160, 2021: 190, 2022: 172, 2023: 150, 2024: 136,
                     2025: 124}
# Share of each county in the number of projects (synthetic: the main urban districts build most).
COUNTY_PROJECT_WEIGHT = {
    "涪城区": 0.26, "游仙区": 0.16, "安州区": 0.10, "江油市": 0.15, "三台县": 0.11, "盐亭县": 0.06,
    "梓潼县": 0.06, "北川羌族自治县": 0.05, "平武县": 0.05,
}
# Probability that a (not large) project of the county is in a town (城镇) rather than rural.
URBAN_PROBABILITY = {
    "涪城区": 0.97, "游仙区": 0.85, "安州区": 0.80, "江油市": 0.85, "三台县": 0.75, "盐亭县": 0.70,
    "梓潼县": 0.70, "北川羌族自治县": 0.75, "平武县": 0.65,
}
# Project mix by count: 住宅 55 %, 公共建筑 30 %, 工业建筑 15 % (synthetic).
USE_CUMULATIVE = [(0.55, "住宅"), (0.85, "公共建筑"), (1.00, "工业建筑")]
# Floor-area ranges, m² (synthetic). Large residential estates (≥ 150,000 m²) are rare.
LARGE_RESIDENTIAL_PROBABILITY = 0.03
RESIDENTIAL_LARGE_M2 = (150_000.0, 60_000.0)  # (minimum, span)
RESIDENTIAL_URBAN_M2 = (15_000.0, 85_000.0)
RESIDENTIAL_RURAL_M2 = (3_000.0, 15_000.0)
LARGE_PUBLIC_PROBABILITY = 0.12
PUBLIC_LARGE_M2 = (20_000.0, 25_000.0)
PUBLIC_M2 = (2_000.0, 15_000.0)
INDUSTRIAL_M2 = (5_000.0, 45_000.0)
# Government-funded shares (public: schools, hospitals, offices; residential: 保障性住房).
GOVERNMENT_FUNDED_PUBLIC = 0.40
GOVERNMENT_FUNDED_RESIDENTIAL = 0.05
# Size thresholds of the plan's "大型新建建筑", m².
LARGE_RESIDENTIAL_M2 = 150_000.0
LARGE_PUBLIC_M2 = 20_000.0
# Years from permit to completion: 1 (5 %), 2 (50 %), 3 (33 %), 4 (12 %); 1.5 % stall (烂尾).
COMPLETION_CUMULATIVE = [(0.05, 1), (0.55, 2), (0.88, 3), (1.00, 4)]
STALLED_PROBABILITY = 0.015
DATA_AS_OF_YEAR = 2025  # completions after this year are not yet known (null)
# Public buildings outside the monitoring rule that install monitoring anyway.
VOLUNTARY_MONITORING_PROBABILITY = 0.15
# Star level of a star-rated project: one star 70 %, two stars 23 %, three stars 7 %.
STAR_CUMULATIVE = [(0.70, 1), (0.93, 2), (1.00, 3)]
# Floor-area step of the share calibration, m² (shares land within a few 10 m² steps).
SELECTION_UNIT_M2 = 10.0

# Yearly floor-area shares, % (all synthetic except the 2022 prefab point).
PREFAB_SHARE_PCT = {2018: 8.0, 2022: 20.0, 2025: 33.0}
STANDARD_72_SHARE_PCT = {2018: 0.0, 2020: 0.0, 2021: 35.0, 2025: 96.0}  # of civil floor area
GREEN_STANDARD_SHARE_PCT = {2018: 70.0, 2024: 100.0, 2025: 100.0}  # of urban floor area
STAR_RATED_SHARE_PCT = {2018: 20.0, 2025: 42.0}  # of green floor area
LARGE_ONE_STAR_SHARE_PCT = {2018: 60.0, 2025: 100.0}  # of large-building floor area
MONITORING_SHARE_PCT = {2018: 75.0, 2025: 97.0}  # of large-public-building floor area

PROJECT_KEYS = ["project_id", "county", "permit_year", "completion_year", "use", "floor_area_m2",
                "is_urban", "is_prefabricated", "energy_standard", "green_star",
                "is_government_funded", "has_energy_monitoring", "is_large"]


def _wiggle(year: int, k: int) -> float:
    """Small deterministic relative deviation in [-0.005, 0.005] for item number `k`."""
    return ((year * 7 + k * 13) % 11 - 5) / 1000


def _unit(year: int, k: int, salt: int) -> float:
    """A deterministic number in [0, 1) for item `k` of `year` (the splitmix64 integer mixer)."""
    x = (year * 1_000_003 + k * 7_919 + salt * 104_729) % 2**64
    x = (x + 0x9E3779B97F4A7C15) % 2**64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) % 2**64
    return ((x ^ (x >> 31)) >> 11) / 2**53


def _pick(cumulative: list[tuple[float, object]], u: float) -> object:
    """The first value whose cumulative probability exceeds `u`."""
    for bound, value in cumulative:
        if u < bound:
            return value
    return cumulative[-1][1]


def _county(year: int, k: int) -> str:
    u = _unit(year, k, 2)
    acc = 0.0
    for county in COUNTIES:
        acc += COUNTY_PROJECT_WEIGHT[county]
        if u < acc:
            return county
    return COUNTIES[-1]


def _base_project(year: int, k: int) -> dict:
    """Project `k` of `year` before the share calibration: use, place, size, funding, completion."""
    county = _county(year, k)
    use = _pick(USE_CUMULATIVE, _unit(year, k, 1))
    urban = _unit(year, k, 3) < URBAN_PROBABILITY[county]
    size_u = _unit(year, k, 5)
    funded_u = _unit(year, k, 6)
    if use == "住宅":
        if _unit(year, k, 4) < LARGE_RESIDENTIAL_PROBABILITY:
            low, span = RESIDENTIAL_LARGE_M2
        else:
            low, span = RESIDENTIAL_URBAN_M2 if urban else RESIDENTIAL_RURAL_M2
        funded = funded_u < GOVERNMENT_FUNDED_RESIDENTIAL
    elif use == "公共建筑":
        low, span = PUBLIC_LARGE_M2 if _unit(year, k, 4) < LARGE_PUBLIC_PROBABILITY else PUBLIC_M2
        funded = funded_u < GOVERNMENT_FUNDED_PUBLIC
    else:
        low, span = INDUSTRIAL_M2
        funded = False
    area = round(low + span * size_u, 2)
    large = ((use == "住宅" and area >= LARGE_RESIDENTIAL_M2)
             or (use == "公共建筑" and (area >= LARGE_PUBLIC_M2 or funded)))
    urban = urban or large  # large estates and government-funded public buildings are in towns
    if _unit(year, k, 8) < STALLED_PROBABILITY:
        completion = None
    else:
        completion = year + _pick(COMPLETION_CUMULATIVE, _unit(year, k, 7))
        if completion > DATA_AS_OF_YEAR:
            completion = None
    return {
        "project_id": f"MY-{year}-{k + 1:04d}", "county": county, "permit_year": year,
        "completion_year": completion, "use": use, "floor_area_m2": area, "is_urban": urban,
        "is_prefabricated": False, "energy_standard": "65%", "green_star": None,
        "is_government_funded": funded, "has_energy_monitoring": False, "is_large": large,
    }


def _select(projects: list[dict], indices: list[int], target_m2: float, salt: int,
            chosen: set[int] | None = None) -> set[int]:
    """Projects (by index) whose floor area comes as close to `target_m2` as possible.

    `chosen` are taken first. The others are taken by an exact subset-sum over floor areas in
    `SELECTION_UNIT_M2` steps (bitset dynamic programming); candidates are visited in a fixed hash
    order, so which projects carry a flag looks arbitrary but never changes.
    """
    picked = set(chosen or ())
    if target_m2 >= _area(projects, indices) - 1e-6:
        return picked | set(indices)
    year = projects[0]["permit_year"]
    order = sorted((i for i in indices if i not in picked), key=lambda i: _unit(year, i, salt))
    room = round((target_m2 - _area(projects, picked)) / SELECTION_UNIT_M2)
    if room <= 0:
        return picked
    weights = [max(1, round(projects[i]["floor_area_m2"] / SELECTION_UNIT_M2)) for i in order]
    reachable = [1]  # bit s of reachable[n]: some subset of the first n candidates sums to s
    for weight in weights:
        reachable.append(reachable[-1] | (reachable[-1] << weight))
    total = next(s for d in range(room + 1) for s in (room - d, room + d)
                 if (reachable[-1] >> s) & 1)  # the reachable sum nearest to room (below on ties)
    for n in range(len(order), 0, -1):
        if not (reachable[n - 1] >> total) & 1:  # not reachable without candidate n - 1
            picked.add(order[n - 1])
            total -= weights[n - 1]
    return picked


def _area(projects: list[dict], indices) -> float:
    return sum(projects[i]["floor_area_m2"] for i in indices)


def _year_projects(year: int) -> list[dict]:
    """All projects permitted in `year`, with the calibrated flags."""
    projects = [_base_project(year, k) for k in range(PROJECTS_PER_YEAR[year])]
    everything = list(range(len(projects)))

    prefab = _select(projects, everything,
                     _area(projects, everything) * interpolate(PREFAB_SHARE_PCT, year) / 100, 11)
    civil = [i for i in everything if projects[i]["use"] in CIVIL_USES]
    standard_72 = _select(projects, civil,
                          _area(projects, civil) * interpolate(STANDARD_72_SHARE_PCT, year) / 100, 12)

    # Green building standard and stars: large buildings rated first, so they are in both sets.
    large = [i for i in everything if projects[i]["is_large"]]
    large_starred = _select(projects, large,
                            _area(projects, large) * interpolate(LARGE_ONE_STAR_SHARE_PCT, year) / 100,
                            13)
    urban = [i for i in everything if projects[i]["is_urban"]]
    green = _select(projects, urban,
                    _area(projects, urban) * interpolate(GREEN_STANDARD_SHARE_PCT, year) / 100, 14,
                    large_starred)
    green_list = sorted(green)
    large_unstarred = set(large) - large_starred  # these stay unstarred
    starred = _select(projects, [i for i in green_list if i not in large_unstarred],
                      _area(projects, green_list) * interpolate(STAR_RATED_SHARE_PCT, year) / 100, 15,
                      large_starred)

    large_public = [i for i in large if projects[i]["use"] == "公共建筑"]
    monitored = _select(projects, large_public,
                        _area(projects, large_public) * interpolate(MONITORING_SHARE_PCT, year) / 100,
                        16)

    for i, project in enumerate(projects):
        project["is_prefabricated"] = i in prefab
        project["energy_standard"] = "72%" if i in standard_72 else "65%"
        if i in starred:
            project["green_star"] = _pick(STAR_CUMULATIVE, _unit(year, i, 17))
        elif i in green:
            project["green_star"] = 0
        if project["use"] == "公共建筑":
            project["has_energy_monitoring"] = (
                i in monitored if project["is_large"]
                else _unit(year, i, 18) < VOLUNTARY_MONITORING_PROBABILITY)
    return projects


def building_projects_json_records() -> list[dict]:
    """Project records of the permit / completion system, ordered by permit year and number."""
    return [project for year in YEARS for project in _year_projects(year)]


# --- construction waste --------------------------------------------------------------------------
WASTE_TITLE = "绵阳市建筑垃圾产生及资源化利用情况"
WASTE_UNITS = "单位：万吨"
WASTE_HEADER = ["年份", "月份", "区县", "产生量", "资源化利用量"]
TOTAL_LABEL = "合计"
WASTE_FOOTNOTE = ("注：资源化利用率=资源化利用量/产生量×100。"
                  "数据为演示用合成数据（synthetic demo data）。")
# City construction waste generated, 万吨 a year (synthetic; peaks with construction in 2021).
WASTE_GENERATED_10KT = {2018: 560.0, 2021: 640.0, 2023: 610.0, 2025: 585.0}
# City recycling rate (资源化利用量/产生量), % (synthetic; the plan's 2025 target is 60 %).
WASTE_RECYCLING_PCT = {2018: 35.0, 2025: 61.0}
# County share of generation (synthetic: the main urban area generates most).
WASTE_COUNTY_WEIGHT = {
    "涪城区": 0.27, "游仙区": 0.15, "安州区": 0.09, "江油市": 0.15, "三台县": 0.12, "盐亭县": 0.06,
    "梓潼县": 0.06, "北川羌族自治县": 0.05, "平武县": 0.05,
}
# County recycling propensity relative to the city (the 涪城 and 游仙 plants serve the main urban
# area; mountain counties haul most waste to landfill). Rescaled each year to the city rate.
WASTE_RECYCLING_PROPENSITY = {
    "涪城区": 1.25, "游仙区": 1.20, "安州区": 0.95, "江油市": 1.05, "三台县": 0.85, "盐亭县": 0.75,
    "梓潼县": 0.75, "北川羌族自治县": 0.65, "平武县": 0.60,
}
# Month weights: a Spring Festival dip, a wet-season dip in July–August, a year-end push.
_RAW_MONTH_WEIGHTS = [0.90, 0.70, 1.00, 1.05, 1.05, 1.00, 0.92, 0.92, 1.02, 1.08, 1.12, 1.14]
MONTH_WEIGHTS = [w / sum(_RAW_MONTH_WEIGHTS) for w in _RAW_MONTH_WEIGHTS]
WASTE_ROW_KEYS = ["year", "month", "county", "generated_10kt", "recycled_10kt"]


def construction_waste_rows() -> list[dict]:
    """County rows (no 合计 rows), 2018-01 … 2025-12, with the numbers exactly as in the CSV."""
    rows = []
    for year in YEARS:
        total = interpolate(WASTE_GENERATED_10KT, year)
        raw = [WASTE_COUNTY_WEIGHT[c] * (1 + 4 * _wiggle(year, k)) for k, c in enumerate(COUNTIES)]
        shares = [r / sum(raw) for r in raw]
        norm = sum(s * WASTE_RECYCLING_PROPENSITY[c] for s, c in zip(shares, COUNTIES, strict=True))
        city_rate = interpolate(WASTE_RECYCLING_PCT, year) / 100
        for month in MONTHS:
            for k, county in enumerate(COUNTIES):
                generated = round(total * shares[k] * MONTH_WEIGHTS[month - 1]
                                  * (1 + _wiggle(year + month, k)), 2)
                rate = min(0.95, city_rate * WASTE_RECYCLING_PROPENSITY[county] / norm)
                rows.append({"year": year, "month": month, "county": county,
                             "generated_10kt": generated, "recycled_10kt": round(generated * rate, 2)})
    return rows


def _line(fields: list[object]) -> str:
    """One CSV line; a field is quoted only if it holds a comma, a quote or a line break."""
    out = []
    for field in fields:
        text = f"{field:.2f}" if isinstance(field, float) else str(field)
        if any(ch in text for ch in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out)


def construction_waste_csv() -> bytes:
    """The monthly table: UTF-8 (no BOM), CRLF, title and unit lines, a 合计 row per month."""
    lines = [WASTE_TITLE, WASTE_UNITS, _line(WASTE_HEADER)]
    rows = construction_waste_rows()
    for start in range(0, len(rows), len(COUNTIES)):
        month_rows = rows[start:start + len(COUNTIES)]
        for row in month_rows:
            lines.append(_line([row[key] for key in WASTE_ROW_KEYS]))
        first = month_rows[0]
        lines.append(_line([first["year"], first["month"], TOTAL_LABEL,
                            round(sum(r["generated_10kt"] for r in month_rows), 2),
                            round(sum(r["recycled_10kt"] for r in month_rows), 2)]))
    lines.append(WASTE_FOOTNOTE)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


# The JSON API datasets and the published files of the department.
DATASETS: dict[str, Callable[[], list[dict]]] = {"building_projects": building_projects_json_records}
FILES: dict[str, Callable[[], bytes]] = {"construction_waste_monthly.csv": construction_waste_csv}

"""Deterministic yearly forest resources by county of the forestry department (林业局), 2005–2024.

The department publishes a GB18030 CSV, one block of nine county rows plus a 合计 row per year.
The latest year is 2024 on purpose: the 2025 survey is "not yet published".

City forest coverage passes through the real published anchors (`REAL_ANCHORS`, source:
`shared/notes/mianyang-facts.md`) and is linearly interpolated between them. County coverages are
synthetic: each county follows its own trajectory, then all county forest areas of a year are
rescaled by one common factor so that they add up to the city coverage × total land area. Forest
stock volume (森林蓄积量) is not published as a stock for Mianyang, so it is synthetic throughout.
"""

from __future__ import annotations

from source_server.energy_data import interpolate

FIRST_YEAR = 2005
LAST_YEAR = 2024  # the 2025 survey is not yet published
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)

# Real figures the synthetic series pass through exactly (after rounding to 2 decimals).
REAL_ANCHORS = {
    "forest coverage 2008 (after the 5·12 earthquake), %": 45.63,
    "forest coverage 2015, %": 52.73,
    "forest coverage 2016, %": 53.01,
    "forest coverage 2017, %": 53.86,
    "forest coverage ~2024, %": 56.13,
    "land area (幅员面积), 万km²": 2.02,
    "land area 涪城区, km²": 579.3,
    "land area 安州区, km²": 1181.14,
    "land area 江油市, km²": 2719.0,
    "land area 三台县, km²": 2659.66,
    "land area 北川羌族自治县, km²": 3083.0,
    "forest coverage 北川 ~2021, %": 65.95,
    "forest stock volume added 2015, 万m³": 95.0,
}

TITLE = "绵阳市分县森林资源统计表"
UNITS = "单位：公顷，%，万立方米"
HEADER = ["年份", "区县", "土地面积", "森林面积", "森林覆盖率", "森林蓄积量"]
TOTAL_LABEL = "合计"
FOOTNOTE = ("注：森林覆盖率=森林面积/土地面积×100；2008年受5·12地震影响。"
            "数据为演示用合成数据（synthetic demo data）。")

# Land area per county, 公顷 (1 km² = 100 ha), in the order the department lists them.
# Real: 涪城 579.3 km², 安州 1181.14 km², 江油 2719 km², 三台 2659.66 km², 北川 3083 km².
# Synthetic (chosen so the city adds up to 2.02 万km²): 游仙, 盐亭, 梓潼, 平武.
LAND_AREA_HA = {
    "涪城区": 57930.00,    # real
    "游仙区": 101000.00,   # synthetic
    "安州区": 118114.00,   # real
    "江油市": 271900.00,   # real
    "三台县": 265966.00,   # real
    "盐亭县": 164000.00,   # synthetic
    "梓潼县": 137800.00,   # synthetic
    "北川羌族自治县": 308300.00,  # real
    "平武县": 595000.00,   # synthetic (平武 is the largest county, ~5950 km²)
}
COUNTIES = list(LAND_AREA_HA)

# City forest coverage, %. 2008, 2015, 2016, 2017 and 2024 are real; 2005 is synthetic.
CITY_COVERAGE_PCT = {2005: 44.0, 2008: 45.63, 2015: 52.73, 2016: 53.01, 2017: 53.86, 2024: 56.13}

# County coverage trajectories before the common rescaling, %. All synthetic, except that 北川's
# 2021 point is set so it lands near its real ~2021 coverage of 65.95 % after rescaling, and that
# 三台's 2005–2007 forest area (~68,000–71,000 ha) is close to its real (undated) 69,700 ha.
# Mountain counties (北川, 平武, 安州) are the most forested; the hill counties (三台, 盐亭) and the
# urban district (涪城) the least.
COUNTY_COVERAGE_PCT = {
    "涪城区": {2005: 21.0, 2024: 30.0},
    "游仙区": {2005: 34.0, 2024: 45.0},
    "安州区": {2005: 42.0, 2024: 55.0},
    "江油市": {2005: 38.0, 2024: 50.0},
    "三台县": {2005: 26.5, 2024: 36.0},
    "盐亭县": {2005: 29.5, 2024: 39.0},
    "梓潼县": {2005: 34.0, 2024: 45.0},
    "北川羌族自治县": {2005: 56.0, 2021: 65.3, 2024: 66.2},
    "平武县": {2005: 64.0, 2024: 75.0},
}

# City forest stock volume, 万立方米. Synthetic: ~7200 in 2005, a loss in 2008 (5·12 earthquake),
# ~9650 in 2024 (0.965 亿m³, a little below the plan's 2025 target of 1.00 亿m³). The 2014→2015
# step equals the real "新增蓄积 95 万m³" reported for 2015.
CITY_STOCK_10K_M3 = {2005: 7200.0, 2007: 7390.0, 2008: 7160.0, 2014: 8030.0, 2015: 8125.0,
                     2024: 9650.0}

# Relative stock per hectare of forest (synthetic): old natural forest in the mountains is denser
# than plantation forest in the hills and the urban district.
STOCK_DENSITY = {
    "涪城区": 0.60, "游仙区": 0.75, "安州区": 1.05, "江油市": 0.95, "三台县": 0.60,
    "盐亭县": 0.62, "梓潼县": 0.70, "北川羌族自治县": 1.20, "平武县": 1.35,
}


def _wiggle(year: int, k: int) -> float:
    """Small deterministic relative deviation in [-0.005, 0.005] for county number `k`."""
    return ((year * 7 + k * 13) % 11 - 5) / 1000


def _round_to_total(values: dict[str, float], total: float, absorb: str) -> dict[str, float]:
    """Round `values` to 2 decimals, adding up exactly to `total` rounded to 2 decimals.

    The county `absorb` (the largest one) takes the rounding residual.
    """
    rounded = {key: round(value, 2) for key, value in values.items()}
    residual = round(total, 2) - sum(rounded.values())
    rounded[absorb] = round(rounded[absorb] + residual, 2)
    return rounded


def _year_rows(year: int) -> list[dict]:
    """The nine county rows of one year, numbers rounded as published."""
    land_total = sum(LAND_AREA_HA.values())
    raw_area = {
        county: LAND_AREA_HA[county] * interpolate(COUNTY_COVERAGE_PCT[county], year) / 100
        * (1 + _wiggle(year, k))
        for k, county in enumerate(COUNTIES)
    }
    target_area = land_total * interpolate(CITY_COVERAGE_PCT, year) / 100
    factor = target_area / sum(raw_area.values())  # one rescaling factor per year
    area = _round_to_total({c: a * factor for c, a in raw_area.items()}, target_area, "平武县")

    stock_total = interpolate(CITY_STOCK_10K_M3, year)
    weight = {c: area[c] * STOCK_DENSITY[c] * (1 + _wiggle(year, k + 3))
              for k, c in enumerate(COUNTIES)}
    weight_sum = sum(weight.values())
    stock = _round_to_total({c: stock_total * w / weight_sum for c, w in weight.items()},
                            stock_total, "平武县")
    return [
        {"year": year, "county": county, "land_area_ha": LAND_AREA_HA[county],
         "forest_area_ha": area[county],
         "forest_coverage_pct": round(area[county] / LAND_AREA_HA[county] * 100, 2),
         "stock_volume_10k_m3": stock[county]}
        for county in COUNTIES
    ]


def forest_resources_rows() -> list[dict]:
    """County rows (no 合计 rows), 2005–2024, with the numbers exactly as written in the CSV."""
    return [row for year in YEARS for row in _year_rows(year)]


def _line(fields: list[object]) -> str:
    """One CSV line; a field is quoted only if it holds a comma, a quote or a line break."""
    out = []
    for field in fields:
        text = f"{field:.2f}" if isinstance(field, float) else str(field)
        if any(ch in text for ch in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out)


def forest_resources_csv() -> bytes:
    """The table as the department publishes it: GB18030, CRLF, title and unit lines on top."""
    lines = [TITLE, UNITS, _line(HEADER)]
    for year in YEARS:
        rows = _year_rows(year)
        for row in rows:
            lines.append(_line([year, row["county"], row["land_area_ha"], row["forest_area_ha"],
                                row["forest_coverage_pct"], row["stock_volume_10k_m3"]]))
        land = round(sum(r["land_area_ha"] for r in rows), 2)
        forest = round(sum(r["forest_area_ha"] for r in rows), 2)
        stock = round(sum(r["stock_volume_10k_m3"] for r in rows), 2)
        lines.append(_line([year, TOTAL_LABEL, land, forest, round(forest / land * 100, 2), stock]))
    lines.append(FOOTNOTE)
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")

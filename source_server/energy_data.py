"""Deterministic yearly data of the energy / statistics department (发展改革委 / 统计局), 2005–2025.

Every series is built from anchor points and linear interpolation between them, so the same code
always serves the same numbers. Anchors that are real published Mianyang figures are listed in
`REAL_ANCHORS` (source: `shared/notes/mianyang-facts.md`); everything else is synthetic but
plausible, and `source_server/DATA.md` says which is which.
"""

from __future__ import annotations

import itertools

FIRST_YEAR = 2005
LAST_YEAR = 2025
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)

# Real figures the synthetic series pass through exactly (or, for shares, to one decimal).
REAL_ANCHORS = {
    "total energy consumption 2016, 万吨标准煤": 979.38,
    "non-fossil share of energy consumption 2020, %": 43.2,
    "non-fossil share of energy consumption 2024, %": 49.7,
    "installed clean-power capacity end-2025, 万千瓦": 218.7,
    "installed power capacity end-2025, 万千瓦": 495.64,
    "GDP 2016 at current prices, 亿元": 1830.42,
    "GDP 2018 at current prices, 亿元": 2303.82,
    "GDP 2021 at current prices, 亿元": 3350.29,
    "GDP 2022 at current prices, 亿元": 3626.94,
    "GDP 2025 at current prices, 亿元": 4600.66,
}


def interpolate(anchors: dict[int, float], year: int) -> float:
    """Value of a piecewise-linear series through `anchors` at `year` (flat beyond the ends)."""
    points = sorted(anchors.items())
    if year <= points[0][0]:
        return points[0][1]
    for (y0, v0), (y1, v1) in itertools.pairwise(points):
        if y0 <= year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    return points[-1][1]


# --- energy balance -------------------------------------------------------------------------
# Total energy consumption, 万吨标准煤. 2016 is real; 2015 is derived from the 2016 increment.
TOTAL_ENERGY_10K_TCE = {2005: 620.0, 2010: 820.0, 2015: 987.29, 2016: 979.38, 2020: 1040.0, 2025: 1236.0}
# Non-fossil share, %. 2020 and 2024 are real.
NONFOSSIL_SHARE_PCT = {2005: 28.0, 2010: 32.0, 2015: 38.0, 2020: 43.2, 2024: 49.7, 2025: 50.6}
# Raw coal burnt, 万吨 (physical). The jump in 2021 is the 天明 2 × 100 万kW coal plant (real event).
RAW_COAL_10KT = {2005: 430.0, 2010: 520.0, 2015: 560.0, 2020: 520.0, 2021: 610.0, 2022: 640.0,
                 2023: 655.0, 2024: 668.0, 2025: 671.0}
COKE_10KT = 20.0
# Standard-coal coefficients, tce per physical unit (GB/T 2589 as quoted in the facts file).
TCE_PER_T_RAW_COAL = 0.7143
TCE_PER_T_COKE = 0.9714
TCE_PER_T_GASOLINE = 1.4714
TCE_PER_T_DIESEL = 1.4571
TCE_PER_M3_GAS = 0.0012143
# Primary electricity counted with the coal-equivalent (发电煤耗) method, tce per kWh.
TCE_PER_KWH_PRIMARY = 0.000305
# How the non-fossil energy splits between sources (hydro dominates; solar grows).
NONFOSSIL_SPLIT = {
    "hydro_power": {2005: 0.95, 2020: 0.80, 2025: 0.66},
    "wind_power": {2005: 0.00, 2020: 0.09, 2025: 0.13},
    "solar_power": {2005: 0.00, 2020: 0.07, 2025: 0.17},
    "biomass_power": {2005: 0.05, 2020: 0.04, 2025: 0.04},
}

FUELS = {
    # code: (name_zh, physical unit, is_fossil)
    "raw_coal": ("原煤", "万吨", True),
    "coke": ("焦炭", "万吨", True),
    "gasoline": ("汽油", "万吨", True),
    "diesel": ("柴油", "万吨", True),
    "natural_gas": ("天然气", "亿立方米", True),
    "hydro_power": ("水电", "亿千瓦时", False),
    "wind_power": ("风电", "亿千瓦时", False),
    "solar_power": ("光伏发电", "亿千瓦时", False),
    "biomass_power": ("生物质发电", "亿千瓦时", False),
}


def _fuel_tce_10k(year: int) -> dict[str, float]:
    """Standard-coal use by fuel in 万吨标准煤 for one year; sums to the total."""
    total = interpolate(TOTAL_ENERGY_10K_TCE, year)
    nonfossil = total * interpolate(NONFOSSIL_SHARE_PCT, year) / 100
    coal = interpolate(RAW_COAL_10KT, year) * TCE_PER_T_RAW_COAL
    coke = COKE_10KT * TCE_PER_T_COKE
    rest = total - nonfossil - coal - coke
    tce = {"raw_coal": coal, "coke": coke, "gasoline": rest * 0.27, "diesel": rest * 0.33,
           "natural_gas": rest * 0.40}
    split = {code: interpolate(anchors, year) for code, anchors in NONFOSSIL_SPLIT.items()}
    norm = sum(split.values())
    for code, share in split.items():
        tce[code] = nonfossil * share / norm
    return tce


def energy_balance() -> list[dict]:
    """Energy consumption by fuel: physical amount and 万吨标准煤, one row per year and fuel."""
    per_physical = {  # 万吨标准煤 per physical unit of the published unit
        "raw_coal": TCE_PER_T_RAW_COAL, "coke": TCE_PER_T_COKE, "gasoline": TCE_PER_T_GASOLINE,
        "diesel": TCE_PER_T_DIESEL,
        "natural_gas": TCE_PER_M3_GAS * 1e8 / 1e4,  # 亿m³ → 万tce
        **{code: TCE_PER_KWH_PRIMARY * 1e8 / 1e4 for code in NONFOSSIL_SPLIT},  # 亿kWh → 万tce
    }
    rows = []
    for year in YEARS:
        for code, tce in _fuel_tce_10k(year).items():
            name_zh, unit, is_fossil = FUELS[code]
            rows.append({
                "year": year, "fuel_code": code, "fuel_name": name_zh, "is_fossil": is_fossil,
                "physical_amount": round(tce / per_physical[code], 2), "physical_unit": unit,
                "standard_coal_10k_tce": round(tce, 2),
            })
    return rows


# --- GDP ---------------------------------------------------------------------------------------
# Real growth of GDP at comparable prices, % (2016, 2018, 2021, 2022, 2025 published; others synthetic).
REAL_GROWTH_PCT = {2006: 13.5, 2007: 14.2, 2008: 9.5, 2009: 14.1, 2010: 15.1, 2011: 14.6, 2012: 13.0,
                   2013: 10.2, 2014: 9.1, 2015: 8.7, 2016: 8.3, 2017: 8.9, 2018: 9.0, 2019: 7.5,
                   2020: 4.0, 2021: 8.7, 2022: 5.0, 2023: 8.0, 2024: 6.0, 2025: 6.5}
GDP_2020_CURRENT = 3010.0  # synthetic: consistent with 2021's 3350.29 at +8.7 % real growth
CURRENT_GDP_ANCHORS = {2016: 1830.42, 2018: 2303.82, 2021: 3350.29, 2022: 3626.94, 2025: 4600.66}


def gdp() -> list[dict]:
    """GDP at current prices and at comparable (2020) prices, 亿元, with the real growth rate."""
    comparable = {2020: GDP_2020_CURRENT}
    for year in range(2021, LAST_YEAR + 1):
        comparable[year] = comparable[year - 1] * (1 + REAL_GROWTH_PCT[year] / 100)
    for year in range(2019, FIRST_YEAR - 1, -1):
        comparable[year] = comparable[year + 1] / (1 + REAL_GROWTH_PCT[year + 1] / 100)
    # Deflator: current / comparable, interpolated between the years where current GDP is known.
    deflator_anchors = {y: v / comparable[y] for y, v in CURRENT_GDP_ANCHORS.items()}
    deflator_anchors[2020] = 1.0
    deflator_anchors[2005] = 0.62
    rows = []
    for year in YEARS:
        current = CURRENT_GDP_ANCHORS.get(year, comparable[year] * interpolate(deflator_anchors, year))
        rows.append({
            "year": year, "gdp_current_100m_cny": round(current, 2),
            "gdp_2020_prices_100m_cny": round(comparable[year], 2),
            "real_growth_pct": REAL_GROWTH_PCT.get(year),
        })
    return rows


# --- raw coal by sector -----------------------------------------------------------------------
RAW_COAL_POWER_10KT = {2005: 150.0, 2015: 190.0, 2020: 160.0, 2021: 260.0, 2025: 420.0}
RAW_COAL_OTHER_10KT = {2005: 60.0, 2015: 45.0, 2025: 36.0}
SECTORS = {"power": "火力发电", "industry": "工业（不含发电）", "residential_other": "生活及其他"}


def raw_coal_by_sector() -> list[dict]:
    """Raw coal consumption by sector, 万吨; the sectors add up to the energy balance's raw coal."""
    rows = []
    for year in YEARS:
        total = round(interpolate(RAW_COAL_10KT, year), 2)
        power = round(interpolate(RAW_COAL_POWER_10KT, year), 2)
        other = round(interpolate(RAW_COAL_OTHER_10KT, year), 2)
        split = {"power": power, "industry": round(total - power - other, 2), "residential_other": other}
        for code, amount in split.items():
            rows.append({"year": year, "sector_code": code, "sector_name": SECTORS[code],
                         "raw_coal_10kt": amount})
    return rows


# --- installed power capacity -------------------------------------------------------------------
# 万千瓦, year-end. 2025's clean total (218.7) and grand total (495.64) are real.
CAPACITY_10MW = {
    "hydro": {2005: 60.0, 2012: 95.0, 2020: 112.0, 2025: 120.0},
    "wind": {2005: 0.0, 2014: 0.0, 2016: 8.0, 2020: 25.0, 2025: 38.0},
    "solar": {2005: 0.0, 2015: 0.0, 2017: 5.0, 2020: 22.0, 2025: 52.0},
    "biomass": {2005: 1.0, 2016: 3.0, 2020: 6.0, 2025: 8.7},
    "coal": {2005: 60.0, 2020: 62.0, 2021: 262.0, 2025: 262.0},
    "gas": {2005: 0.0, 2017: 0.0, 2018: 10.0, 2025: 14.94},
}
PLANT_TYPES = {"hydro": "水电", "wind": "风电", "solar": "光伏", "biomass": "生物质发电", "coal": "燃煤",
               "gas": "燃气"}


def power_capacity() -> list[dict]:
    """Installed generating capacity by plant type at year end, 万千瓦."""
    return [
        {"year": year, "plant_type": code, "plant_type_name": PLANT_TYPES[code],
         "capacity_10mw": round(interpolate(anchors, year), 2)}
        for year in YEARS
        for code, anchors in CAPACITY_10MW.items()
    ]


DATASETS = {
    "energy_balance": energy_balance,
    "gdp": gdp,
    "raw_coal_by_sector": raw_coal_by_sector,
    "power_capacity": power_capacity,
}

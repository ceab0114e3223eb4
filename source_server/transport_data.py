"""Deterministic monthly and yearly data of the transport department (交通运输局 / 公安交管), 2018–2025.

The department's systems export six CSV files (UTF-8 with a BOM, CRLF, one title line, one unit line,
the header line, data lines, a 注 footnote line):

1. `vehicles_by_county.csv` — 公安交管 vehicle register: stock and new registrations per month,
   county and fuel type. The stock is a running balance: stock = last month's stock + new
   registrations − scrappage (scrappage is not a column; it is a small monthly share of the stock).
2. `charging_points_by_county.csv` — public (公用) and dedicated (专用) charging points per month and
   county, kept at a rising ratio to the county's electric-vehicle stock of file 1.
3. `charging_coverage.csv` — highway service areas and passenger hubs with fast charging, monthly.
4. `freight_passenger_energy.csv` — converted turnover and energy of commercial vehicles, monthly.
5. `airport_equipment.csv` — ground equipment at 绵阳南郊机场, yearly.
6. `green_travel_survey.csv` — resident travel-mode survey of the central city, yearly.

What is real: no Mianyang transport dataset was found (`shared/notes/mianyang-facts.md` lists vehicle
stock, chargers, service-area coverage, turnover, the green-travel share and airport equipment as
"not found"), so every number in the files is synthetic. The real figures in `REAL_ANCHORS` are
context the synthetic series were made consistent with (the city NEV stock comfortably holds the
bus group's real NEV fleet; the service-area coverage stays below the province's, which counts
pairs with any charger, while this file counts single service areas with fast charging), and the
CO₂ factors in `CO2_FACTORS` are the published national grid factor and factors derived from the
GB/T 2589 / GB/T 32151 defaults quoted in the facts file. Series are piecewise-linear between anchor
points (`interpolate`), with small deterministic wiggles and no randomness, so every call returns
the same bytes.

One calibration is softer than planned: the new-energy share of the vehicle stock reaches ~11.6 %
at 2025-12, not ~14 %. With ~9,000–11,000 registrations a month and a clean share of new
registrations rising from 4 % to 31 %, at most ~170,000 NEVs can be registered over 2018–2025,
and the stock is a running balance of registrations and scrappage, so ~14 % of ~1.44 million
(~200,000) is out of reach.

Why ~430 lines: the numbers are the content: six files of one department, generated
together so they agree with each other (vehicles, chargers, turnover).
"""

from __future__ import annotations

from source_server.energy_data import interpolate

FIRST_YEAR = 2018
LAST_YEAR = 2025
YEARS = range(FIRST_YEAR, LAST_YEAR + 1)
MONTHS = range(1, 13)

# Real figures (source: `shared/notes/mianyang-facts.md`). None is a published value of a column
# below; they are context the synthetic series are consistent with.
REAL_ANCHORS = {
    "new-energy buses of the 市公交集团 fleet ~2018, vehicles": 175,
    "new-energy buses of the 市公交集团 fleet 2023-07, vehicles": 713,
    "NEV share of the 市公交集团 bus fleet ~2018, %": 15.8,
    "NEV share of the 市公交集团 bus fleet 2023-07, %": 59.27,
    "Sichuan highway service-area pairs with charging 2023-02": 140,
    "Sichuan highway service-area pairs in total 2023-02": 165,
    "Sichuan highway service-area pairs with charging end-2021": 79,
    "national grid average CO₂ factor 2021, tCO₂/MWh": 0.5568,
}

COUNTIES = ["涪城区", "游仙区", "安州区", "江油市", "三台县", "盐亭县", "梓潼县", "北川羌族自治县", "平武县"]
FOOTNOTE = "注：数据来源于部门业务系统导出，数据为演示用合成数据（synthetic demo data）。"


def _m(year: int, month: int) -> int:
    """Month index (months since year 0), the key of the monthly anchor dicts."""
    return year * 12 + month - 1


def _wiggle(year: int, k: int) -> float:
    """Small deterministic relative deviation in [-0.005, 0.005] for series number `k`."""
    return ((year * 7 + k * 13) % 11 - 5) / 1000


def _line(fields: list[object], decimals: int = 2) -> str:
    """One CSV line; a field is quoted only if it holds a comma, a quote or a line break."""
    out = []
    for field in fields:
        text = f"{field:.{decimals}f}" if isinstance(field, float) else str(field)
        if any(ch in text for ch in ',"\r\n'):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out)


def _csv(title: str, units: str, header: list[str], body: list[list[object]], decimals: int = 2,
         footnote: str = FOOTNOTE) -> bytes:
    """A file as the bureau's systems export it: UTF-8 with a BOM, CRLF, title and unit lines on top."""
    lines = [title, units, _line(header)]
    lines += [_line(fields, decimals) for fields in body]
    lines.append(footnote)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


# --- 1. vehicle register (公安交管) ------------------------------------------------------------
VEHICLES_TITLE = "绵阳市机动车保有及新注册登记情况（分区县）"
VEHICLES_UNITS = "单位：辆"
VEHICLES_HEADER = ["年份", "月份", "区县", "燃料类型", "保有量", "新注册量"]
VEHICLES_FOOTNOTE = ("注：保有量为月末数，保有量=上月保有量+新注册量−注销量；新能源汽车含纯电动、插电混动、"
                     "燃料电池。数据为演示用合成数据（synthetic demo data）。")
FUELS = ["汽油", "柴油", "纯电动", "插电混动", "燃料电池", "天然气"]
NEV_FUELS = ["纯电动", "插电混动", "燃料电池"]  # new-energy vehicles (新能源汽车)
CLEAN_FUELS = [*NEV_FUELS, "天然气"]  # new-energy + clean-energy (新能源+清洁能源)

# City stock at the end of 2017-12, vehicles (synthetic: ~1.05 million during 2018).
STOCK_2017_12 = 1_022_000
# Fuel mix of that stock, % (synthetic; NEV 1.4 %, so ~1.5 % on average over 2018).
STOCK_MIX_2017_12_PCT = {"汽油": 84.0, "柴油": 12.3, "纯电动": 1.0, "插电混动": 0.4, "燃料电池": 0.0,
                         "天然气": 2.3}
# City new registrations, vehicles per month before seasonality (synthetic: ~9,000–11,000).
NEW_PER_MONTH = {_m(2018, 7): 9_500.0, _m(2020, 7): 9_700.0, _m(2025, 7): 10_600.0}
# Seasonality of registrations (Spring Festival dip in February, year-end push; synthetic).
REGISTRATION_SEASON = [1.02, 0.90, 0.99, 0.98, 0.99, 1.00, 0.97, 0.98, 1.00, 1.02, 1.04, 1.06]
# The 2020 epidemic: extra factor on February and March 2020 registrations (synthetic).
EPIDEMIC_2020 = {2: 0.45, 3: 0.75}
# Fuel mix of new registrations, %, interpolated by month (synthetic). The clean share
# (纯电动 + 插电混动 + 燃料电池 + 天然气) averages ~4 % over 2018 and ~31 % over 2025 (the July
# anchor), +4.0 points a year in between, so a 2030 target of about 40 % is on track.
# 汽油 takes the remainder.
NEW_MIX_PCT = {
    "柴油": {_m(2018, 7): 9.0, _m(2025, 7): 6.0, _m(2026, 7): 5.6},
    "纯电动": {_m(2018, 1): 1.7, _m(2018, 12): 2.3, _m(2025, 7): 21.2, _m(2026, 7): 24.0},
    "插电混动": {_m(2018, 1): 0.7, _m(2018, 12): 0.9, _m(2025, 7): 9.1, _m(2026, 7): 10.3},
    "燃料电池": {_m(2018, 7): 0.0, _m(2021, 7): 0.0, _m(2025, 7): 0.1, _m(2026, 7): 0.12},
    "天然气": {_m(2018, 7): 1.2, _m(2025, 7): 0.6, _m(2026, 7): 0.5},
}
# Monthly scrappage (注销) as a share of last month's stock (synthetic): old diesel trucks
# (国三 and older) are phased out fastest, NEVs are young and rarely scrapped.
SCRAP_RATE = {"汽油": 0.0046, "柴油": 0.0062, "纯电动": 0.0005, "插电混动": 0.0004,
              "燃料电池": 0.0003, "天然气": 0.0050}
# County weights of the vehicle stock and registrations (synthetic; 涪城 is the urban core).
COUNTY_WEIGHT = {"涪城区": 0.29, "游仙区": 0.11, "安州区": 0.07, "江油市": 0.17, "三台县": 0.14,
                 "盐亭县": 0.07, "梓潼县": 0.06, "北川羌族自治县": 0.05, "平武县": 0.04}
# Tilt of a fuel's county split relative to COUNTY_WEIGHT (synthetic): NEVs concentrate in the city
# districts, diesel in the industrial and farming counties, fuel-cell vehicles (a hydrogen logistics
# pilot) only in 涪城 and 游仙, CNG in 涪城 (taxis) and 三台 / 江油 (gas filling network).
FUEL_COUNTY_TILT = {
    "汽油": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
    "柴油": [0.7, 0.9, 1.1, 1.2, 1.3, 1.1, 1.0, 1.0, 1.1],
    "纯电动": [1.6, 1.3, 0.9, 1.0, 0.6, 0.5, 0.5, 0.5, 0.4],
    "插电混动": [1.5, 1.3, 0.9, 1.0, 0.7, 0.6, 0.6, 0.5, 0.4],
    "燃料电池": [2.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
    "天然气": [1.4, 0.8, 0.8, 1.2, 1.1, 0.8, 0.7, 0.5, 0.4],
}


def _county_split(fuel: str) -> list[float]:
    """The county shares of `fuel` (sum to 1), in the order of COUNTIES."""
    raw = [COUNTY_WEIGHT[c] * t for c, t in zip(COUNTIES, FUEL_COUNTY_TILT[fuel], strict=True)]
    return [value / sum(raw) for value in raw]


def _city_new_registrations(year: int, month: int) -> dict[str, float]:
    """City new registrations of one month by fuel, vehicles (not rounded)."""
    total = interpolate(NEW_PER_MONTH, _m(year, month)) * REGISTRATION_SEASON[month - 1]
    if year == 2020:
        total *= EPIDEMIC_2020.get(month, 1.0)
    shares = {fuel: interpolate(anchors, _m(year, month)) for fuel, anchors in NEW_MIX_PCT.items()}
    shares["汽油"] = 100.0 - sum(shares.values())
    return {fuel: total * shares[fuel] / 100 for fuel in FUELS}


def vehicles_rows() -> list[dict]:
    """One row per month × county × fuel, 2018-01 to 2025-12, numbers exactly as written."""
    splits = {fuel: _county_split(fuel) for fuel in FUELS}
    stock = {(c, fuel): round(STOCK_2017_12 * STOCK_MIX_2017_12_PCT[fuel] / 100 * splits[fuel][k])
             for fuel in FUELS for k, c in enumerate(COUNTIES)}
    rows = []
    for year in YEARS:
        for month in MONTHS:
            city_new = _city_new_registrations(year, month)
            for k, county in enumerate(COUNTIES):
                for f, fuel in enumerate(FUELS):
                    series = month * 97 + k * 7 + f
                    new = round(city_new[fuel] * splits[fuel][k] * (1 + 4 * _wiggle(year, series)))
                    scrapped = round(stock[county, fuel] * SCRAP_RATE[fuel]
                                     * (1 + 20 * _wiggle(year, series + 5)))
                    stock[county, fuel] += new - scrapped
                    rows.append({"year": year, "month": month, "county": county, "fuel": fuel,
                                 "stock": stock[county, fuel], "new_registrations": new})
    return rows


def vehicles_csv() -> bytes:
    """The vehicle register export (UTF-8 with BOM, CRLF)."""
    body = [[r["year"], r["month"], r["county"], r["fuel"], r["stock"], r["new_registrations"]]
            for r in vehicles_rows()]
    return _csv(VEHICLES_TITLE, VEHICLES_UNITS, VEHICLES_HEADER, body, footnote=VEHICLES_FOOTNOTE)


# --- 2. public charging points ------------------------------------------------------------------
CHARGING_TITLE = "绵阳市公共充电设施统计（分区县）"
CHARGING_UNITS = "单位：个"
CHARGING_HEADER = ["年份", "月份", "区县", "公用充电桩", "专用充电桩"]
# Charging points (公用 + 专用) per electric vehicle of the vehicle register (synthetic): ~0.06 in
# 2018, 0.112 at 2025-12 (the plan wants at least 1 point per 10 EVs: achieved at the end).
POINTS_PER_EV = {_m(2018, 1): 0.060, _m(2020, 12): 0.072, _m(2022, 12): 0.088, _m(2025, 12): 0.112}
# Share of the points that are public (公用), the rest dedicated (专用: bus depots, fleets); synthetic.
PUBLIC_SHARE = {_m(2018, 1): 0.55, _m(2025, 12): 0.68}
# County tilt of the points relative to the county EV stock (synthetic): rural counties build a
# little ahead of their EV stock along the national and provincial roads.
CHARGING_COUNTY_TILT = [0.95, 0.98, 1.05, 1.00, 1.05, 1.10, 1.10, 1.15, 1.20]


def _ev_stock_by_month_county() -> dict[tuple[int, int, str], int]:
    """Electric-vehicle stock (纯电动 + 插电混动 + 燃料电池) of the register per month and county."""
    ev: dict[tuple[int, int, str], int] = {}
    for row in vehicles_rows():
        if row["fuel"] in NEV_FUELS:
            key = (row["year"], row["month"], row["county"])
            ev[key] = ev.get(key, 0) + row["stock"]
    return ev


def charging_points_rows() -> list[dict]:
    """One row per month × county, 2018-01 to 2025-12, numbers exactly as written."""
    ev = _ev_stock_by_month_county()
    rows = []
    for year in YEARS:
        for month in MONTHS:
            stock = [ev[year, month, c] for c in COUNTIES]
            weight = [s * t for s, t in zip(stock, CHARGING_COUNTY_TILT, strict=True)]
            city_points = interpolate(POINTS_PER_EV, _m(year, month)) * sum(stock)
            public_share = interpolate(PUBLIC_SHARE, _m(year, month))
            for k, county in enumerate(COUNTIES):
                total = round(city_points * weight[k] / sum(weight))
                public = round(total * public_share * (1 + 4 * _wiggle(year, month * 11 + k)))
                rows.append({"year": year, "month": month, "county": county,
                             "public_points": public, "dedicated_points": total - public})
    return rows


def charging_points_csv() -> bytes:
    """The charging-point statistics export (UTF-8 with BOM, CRLF)."""
    body = [[r["year"], r["month"], r["county"], r["public_points"], r["dedicated_points"]]
            for r in charging_points_rows()]
    return _csv(CHARGING_TITLE, CHARGING_UNITS, CHARGING_HEADER, body)


# --- 3. charging coverage of service areas and passenger hubs ------------------------------------
COVERAGE_TITLE = "绵阳市高速公路服务区及公路客运枢纽充电设施覆盖情况"
COVERAGE_UNITS = "单位：个"
COVERAGE_HEADER = ["年份", "月份", "设施类型", "设施总数", "具备快充（换电）条件数"]
FACILITY_TYPES = ["高速公路服务区", "公路客运枢纽站"]
# Facilities in the city (synthetic, constant): single service areas (each side of a pair counts).
FACILITIES_TOTAL = {"高速公路服务区": 24, "公路客运枢纽站": 13}
# Facilities with fast charging or battery swapping (synthetic; the count is the integer part of
# the interpolated value, so it steps up). Service areas: 6 through 2018, 12 (50 %) at end-2021
# (the province had 79 of its 165 pairs with any charger, 48 %), 20 of 24 (83 %, target 80 %) at
# 2025-12, +2 a year. Hubs: 1 through 2018, 6 of 13 (46 %, target 50 %: missed) at 2025-12.
FAST_CHARGING = {
    "高速公路服务区": {_m(2018, 1): 6.0, _m(2018, 12): 6.0, _m(2021, 12): 12.0, _m(2023, 2): 14.5,
                      _m(2025, 12): 20.0},
    "公路客运枢纽站": {_m(2018, 1): 1.0, _m(2018, 12): 1.0, _m(2022, 6): 3.0, _m(2025, 12): 6.0},
}


def charging_coverage_rows() -> list[dict]:
    """One row per month × facility type, 2018-01 to 2025-12, numbers exactly as written."""
    return [
        {"year": year, "month": month, "facility_type": kind,
         "facilities_total": FACILITIES_TOTAL[kind],
         # the small epsilon keeps an anchor value such as 20.0 from flooring to 19
         "facilities_with_fast_charging": int(interpolate(FAST_CHARGING[kind], _m(year, month)) + 1e-9)}
        for year in YEARS for month in MONTHS for kind in FACILITY_TYPES
    ]


def charging_coverage_csv() -> bytes:
    """The facility-coverage export (UTF-8 with BOM, CRLF)."""
    body = [[r["year"], r["month"], r["facility_type"], r["facilities_total"],
             r["facilities_with_fast_charging"]] for r in charging_coverage_rows()]
    return _csv(COVERAGE_TITLE, COVERAGE_UNITS, COVERAGE_HEADER, body)


# --- 4. turnover and energy of commercial transport (营运交通工具) -------------------------------
ENERGY_TITLE = "绵阳市营运交通工具换算周转量及能源消耗"
ENERGY_UNITS = "单位：万吨公里（换算周转量），吨（汽油、柴油），万立方米（天然气），万千瓦时（电）"
ENERGY_HEADER = ["年份", "月份", "换算周转量", "汽油", "柴油", "天然气", "电力"]
ENERGY_FOOTNOTE = ("注：换算周转量=货物周转量+旅客周转量×0.1。"
                   "数据为演示用合成数据（synthetic demo data）。")
# CO₂ factors, tCO₂ per physical unit, keyed like the rows. Electricity: the real national grid
# average 0.5568 tCO₂/MWh (2021) = 5.568 tCO₂/万kWh. Fuels derived from the defaults quoted in the
# facts file: gasoline 43.070 GJ/t × 18.9 tC/TJ, diesel 42.652 GJ/t × 20.2 tC/TJ, both × 98 %
# oxidation; natural gas 389.31 GJ/万m³ × 15.3 tC/TJ × 99 %; all × 44/12.
CO2_FACTORS = {
    "gasoline_t": 2.925,  # tCO₂/t
    "diesel_t": 3.096,  # tCO₂/t
    "natural_gas_10k_m3": 21.62,  # tCO₂/万m³
    "electricity_10k_kwh": 5.568,  # tCO₂/万kWh
}
# Converted turnover, 万吨公里 per month before seasonality (synthetic: ~120,000 in 2018, +5 %/yr).
TURNOVER_2018_10K_TKM = 120_000.0
TURNOVER_GROWTH = 0.05
TURNOVER_SEASON = [0.98, 0.84, 1.00, 1.01, 1.02, 1.01, 0.99, 0.99, 1.02, 1.04, 1.04, 1.06]
# The 2020 epidemic: extra factor on the turnover of February to April 2020 (synthetic).
TURNOVER_EPIDEMIC_2020 = {2: 0.55, 3: 0.80, 4: 0.93}
# CO₂ per converted turnover, tCO₂ per 万吨公里, yearly (synthetic): 2025 is 5.1 % below 2020
# (target about −5 %: achieved); the trend of about −1 % a year goes on towards 2030 (−9.5 %).
CO2_INTENSITY = {2018: 0.3945, 2020: 0.3880, 2025: 0.3880 * (1 - 0.051)}
# Split of the CO₂ by energy carrier, % (synthetic): electric buses, taxis and city logistics vans
# take over from gasoline and diesel.
CO2_SPLIT_PCT = {
    "gasoline_t": {2018: 15.0, 2025: 12.0},
    "diesel_t": {2018: 77.0, 2025: 73.0},
    "natural_gas_10k_m3": {2018: 6.5, 2025: 7.5},
    "electricity_10k_kwh": {2018: 1.5, 2025: 7.5},
}


def freight_passenger_energy_rows() -> list[dict]:
    """One row per month, 2018-01 to 2025-12, numbers exactly as written.

    The monthly CO₂ is turnover × the year's intensity; only its split between the carriers
    wiggles, so the yearly intensity is exact up to rounding.
    """
    rows = []
    for year in YEARS:
        for month in MONTHS:
            turnover = (TURNOVER_2018_10K_TKM * (1 + TURNOVER_GROWTH) ** (year - FIRST_YEAR
                                                                            + (month - 6.5) / 12)
                        * TURNOVER_SEASON[month - 1] * (1 + _wiggle(year, month)))
            if year == 2020:
                turnover *= TURNOVER_EPIDEMIC_2020.get(month, 1.0)
            turnover = round(turnover, 2)
            co2 = turnover * interpolate(CO2_INTENSITY, year)
            weight = {key: interpolate(anchors, year) * (1 + 6 * _wiggle(year, month * 5 + k))
                      for k, (key, anchors) in enumerate(CO2_SPLIT_PCT.items())}
            norm = sum(weight.values())
            row: dict = {"year": year, "month": month, "converted_turnover_10k_tkm": turnover}
            for key, w in weight.items():
                row[key] = round(co2 * w / norm / CO2_FACTORS[key], 2)
            rows.append(row)
    return rows


def freight_passenger_energy_csv() -> bytes:
    """The turnover-and-energy export (UTF-8 with BOM, CRLF)."""
    body = [[r["year"], r["month"], r["converted_turnover_10k_tkm"], r["gasoline_t"], r["diesel_t"],
             r["natural_gas_10k_m3"], r["electricity_10k_kwh"]]
            for r in freight_passenger_energy_rows()]
    return _csv(ENERGY_TITLE, ENERGY_UNITS, ENERGY_HEADER, body, footnote=ENERGY_FOOTNOTE)


# --- 5. airport ground equipment (绵阳南郊机场) ----------------------------------------------------
AIRPORT_TITLE = "绵阳南郊机场场内车辆设备统计"
AIRPORT_UNITS = "单位：台"
AIRPORT_HEADER = ["年份", "设备总数", "电动设备数"]
# Ground vehicles and equipment in total (synthetic: 210 → 260) and the electric share, %
# (synthetic: 8 % → 27 % in 2025, target ≥ 25 %: achieved).
AIRPORT_TOTAL = {2018: 210.0, 2025: 260.0}
AIRPORT_ELECTRIC_PCT = {2018: 8.0, 2020: 11.0, 2025: 27.0}


def airport_equipment_rows() -> list[dict]:
    """One row per year, 2018–2025, numbers exactly as written."""
    rows = []
    for year in YEARS:
        total = round(interpolate(AIRPORT_TOTAL, year) * (1 + 2 * _wiggle(year, 1)))
        if year == LAST_YEAR:
            total = round(interpolate(AIRPORT_TOTAL, year))  # no wiggle on the checkpoint year
        electric = round(total * interpolate(AIRPORT_ELECTRIC_PCT, year) / 100)
        rows.append({"year": year, "equipment_total": total, "electric_equipment": electric})
    return rows


def airport_equipment_csv() -> bytes:
    """The airport equipment export (UTF-8 with BOM, CRLF)."""
    body = [[r["year"], r["equipment_total"], r["electric_equipment"]] for r in airport_equipment_rows()]
    return _csv(AIRPORT_TITLE, AIRPORT_UNITS, AIRPORT_HEADER, body)


# --- 6. resident travel survey of the central city ----------------------------------------------
SURVEY_TITLE = "绵阳市中心城区居民出行方式调查"
SURVEY_UNITS = "单位：%"
SURVEY_HEADER = ["年份", "步行", "自行车", "公共交通", "小汽车", "出租网约车", "其他"]
SURVEY_FOOTNOTE = ("注：绿色出行比例=步行+自行车+公共交通。"
                   "数据为演示用合成数据（synthetic demo data）。")
# Green travel share (步行 + 自行车 + 公共交通), % (synthetic): 57.0 → 64.5, +1.07 points a year
# (2030 target 70 %: on track).
GREEN_TRAVEL_PCT = {2018: 57.0, 2025: 64.5}
# Mode shares before rounding, % (synthetic). Shared bikes and e-bikes grow; walking slips; car use
# falls as the bus network grows (the bus group's NEV fleet went 175 → 713, real).
MODE_PCT = {
    "walk_pct": {2018: 26.0, 2025: 25.0},
    "bike_pct": {2018: 6.0, 2025: 10.5},
    "public_transport_pct": {2018: 25.0, 2025: 29.0},
    "car_pct": {2018: 31.0, 2025: 26.5},
    "taxi_pct": {2018: 6.5, 2025: 6.0},
    "other_pct": {2018: 5.5, 2025: 3.0},
}
GREEN_MODES = ["walk_pct", "bike_pct", "public_transport_pct"]
OTHER_MODES = ["car_pct", "taxi_pct", "other_pct"]


def _split_to_total(values: dict[str, float], total: float, absorb: str) -> dict[str, float]:
    """Scale `values` to add up to `total`, round to 1 decimal; `absorb` takes the residual."""
    scale = total / sum(values.values())
    rounded = {key: round(value * scale, 1) for key, value in values.items()}
    rounded[absorb] = round(total - sum(v for k, v in rounded.items() if k != absorb), 1)
    return rounded


def green_travel_survey_rows() -> list[dict]:
    """One row per year, 2018–2025, shares exactly as written (1 decimal, adding up to 100.0)."""
    rows = []
    for year in YEARS:
        raw = {key: interpolate(anchors, year) * (1 + 6 * _wiggle(year, k))
               for k, (key, anchors) in enumerate(MODE_PCT.items())}
        green = round(interpolate(GREEN_TRAVEL_PCT, year), 1)
        row: dict = {"year": year}
        row.update(_split_to_total({k: raw[k] for k in GREEN_MODES}, green, "public_transport_pct"))
        row.update(_split_to_total({k: raw[k] for k in OTHER_MODES}, round(100.0 - green, 1), "car_pct"))
        rows.append({"year": year, **{key: row[key] for key in MODE_PCT}})
    return rows


def green_travel_survey_csv() -> bytes:
    """The travel survey export (UTF-8 with BOM, CRLF); shares with 1 decimal."""
    body = [[r["year"], *(r[key] for key in MODE_PCT)] for r in green_travel_survey_rows()]
    return _csv(SURVEY_TITLE, SURVEY_UNITS, SURVEY_HEADER, body, decimals=1,
                footnote=SURVEY_FOOTNOTE)


# The files the department publishes, by file name.
FILES = {
    "vehicles_by_county.csv": vehicles_csv,
    "charging_points_by_county.csv": charging_points_csv,
    "charging_coverage.csv": charging_coverage_csv,
    "freight_passenger_energy.csv": freight_passenger_energy_csv,
    "airport_equipment.csv": airport_equipment_csv,
    "green_travel_survey.csv": green_travel_survey_csv,
}

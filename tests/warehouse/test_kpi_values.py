"""KPI values recomputed by hand from the raw rows, and the statuses they lead to.

Each test reads raw rows, keeps the current vintage in Python (`current`), and computes the KPI
from the plan's definition without the views' SQL; 31 KPIs are checked this way.

Why ~350 lines: 31 KPIs recomputed by hand from the raw rows, one small check each.
"""

from __future__ import annotations

import pytest

from warehouse.db import connect


@pytest.fixture(scope="module")
def built(default_warehouse):
    con = connect(default_warehouse, read_only=True)
    yield con
    con.close()


def kpi_value(con, view, year):
    return con.execute(f"select value from kpi.{view} where year = ?", [year]).fetchone()[0]


def current(con, table: str, key: list[str], columns: list[str]) -> list[dict]:
    """The current vintage of each fact of `raw.<table>`: the row with the highest `_load_seq` per key."""
    names = list(dict.fromkeys([*key, *columns]))
    latest: dict[tuple, tuple[int, dict]] = {}
    for *values, seq in con.execute(f"select {', '.join(names)}, _load_seq from raw.{table}").fetchall():
        row = dict(zip(names, values, strict=True))
        k = tuple(row[c] for c in key)
        if k not in latest or seq > latest[k][0]:
            latest[k] = (seq, row)
    return [row for _, row in latest.values()]


def assert_series(con, view: str, expected: dict[int, float], digits: int = 2) -> None:
    """The view has exactly the expected years, each value as computed, to the view's rounding."""
    got = dict(con.execute(f"select year, value from kpi.{view}").fetchall())
    assert sorted(got) == sorted(expected)
    for year, value in expected.items():
        assert got[year] == pytest.approx(value, abs=0.5 * 10 ** -digits + 1e-9), (view, year)


def by_year(rows: list[dict], field: str = "year") -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for row in rows:
        out.setdefault(row[field], []).append(row)
    return out


def change_vs(series: dict[int, float], base_year: int) -> dict[int, float]:
    return {y: 100 * (v / series[base_year] - 1) for y, v in series.items()}


def test_nonfossil_share_matches_a_hand_computation(built):
    rows = built.execute("select year, is_fossil, consumption_tce from raw.energy__balance").fetchall()
    for year in (2020, 2024):
        total = sum(tce for y, _, tce in rows if y == year)
        nonfossil = sum(tce for y, fossil, tce in rows if y == year and not fossil)
        assert kpi_value(built, "kpi_energy__nonfossil_energy_share", year) == \
            pytest.approx(round(100 * nonfossil / total, 2))
    # calibrated on the published 43.2 % (2020) and 49.7 % (2024)
    assert kpi_value(built, "kpi_energy__nonfossil_energy_share", 2020) == pytest.approx(43.2, abs=0.01)
    assert kpi_value(built, "kpi_energy__nonfossil_energy_share", 2024) == pytest.approx(49.7, abs=0.01)


def test_energy_intensity_change_matches_a_hand_computation(built):
    energy = dict(built.execute("select year, sum(consumption_tce) from raw.energy__balance "
                                "group by year").fetchall())
    gdp = dict(built.execute("select year, gdp_2020_prices_cny from raw.energy__gdp").fetchall())
    intensity = {y: energy[y] / gdp[y] for y in gdp}
    expected = round(100 * (intensity[2025] / intensity[2020] - 1), 2)
    assert kpi_value(built, "kpi_economy__energy_intensity_change", 2025) == pytest.approx(expected)
    assert kpi_value(built, "kpi_economy__energy_intensity_change", 2020) == 0


def test_clean_capacity_and_raw_coal_match_the_raw_rows(built):
    clean = built.execute("select sum(capacity_mw) from raw.energy__power_capacity where year = 2025 "
                          "and plant_type in ('hydro', 'wind', 'solar', 'biomass')").fetchone()[0]
    total = built.execute("select sum(capacity_mw) from raw.energy__power_capacity "
                          "where year = 2025").fetchone()[0]
    assert kpi_value(built, "kpi_power__clean_power_capacity", 2025) == pytest.approx(clean / 10)
    assert clean / 10 == pytest.approx(218.7) and total / 10 == pytest.approx(495.64)  # published
    coal = built.execute("select sum(raw_coal_t) from raw.energy__raw_coal_by_sector "
                         "where year = 2025").fetchone()[0]
    assert kpi_value(built, "kpi_energy__raw_coal_consumption", 2025) == pytest.approx(coal / 1e4)


def test_forest_coverage_and_stock_match_the_county_rows(built):
    rows = built.execute("select year, land_area_ha, forest_area_ha, stock_volume_m3 "
                         "from raw.forestry__forest_resources").fetchall()
    for year in (2015, 2024):
        land = sum(r[1] for r in rows if r[0] == year)
        forest = sum(r[2] for r in rows if r[0] == year)
        stock = sum(r[3] for r in rows if r[0] == year)
        assert kpi_value(built, "kpi_forestry__forest_coverage", year) == pytest.approx(
            round(100 * forest / land, 2))
        assert kpi_value(built, "kpi_forestry__forest_stock_volume", year) == pytest.approx(
            round(stock / 1e8, 4))
    # the published city figures the demo data is calibrated on
    assert kpi_value(built, "kpi_forestry__forest_coverage", 2015) == pytest.approx(52.73)
    assert kpi_value(built, "kpi_forestry__forest_coverage", 2024) == pytest.approx(56.13)


def test_waste_utilisation_rates_match_the_ledger(built):
    rows = built.execute("select year, solid_generated_t, solid_utilized_t, hazardous_generated_t, "
                         "hazardous_utilized_t from raw.waste__industrial_waste").fetchall()
    year = [r for r in rows if r[0] == 2024]
    assert len(year) == 24 * 12  # 24 enterprises, 12 months, the 合计 rows dropped
    solid = 100 * sum(r[2] for r in year) / sum(r[1] for r in year)
    hazardous = 100 * sum(r[4] for r in year) / sum(r[3] for r in year)
    assert kpi_value(built, "kpi_waste__industrial_solid_waste_utilization_rate", 2024) == \
        pytest.approx(round(solid, 2))
    assert kpi_value(built, "kpi_waste__hazardous_waste_utilization_rate", 2024) == \
        pytest.approx(round(hazardous, 2))
    assert round(solid, 2) == pytest.approx(98.54) and round(hazardous, 2) == pytest.approx(60.33)


def test_kpi_status_has_every_checkpoint_with_a_status_and_reason(built):
    rows = built.execute("select kpi_id, checkpoint_year, target_value, unit, latest_year, "
                         "latest_value, status, status_reason from kpi.kpi_status").fetchall()
    assert len(rows) == 41
    assert len({(r[0], r[1]) for r in rows}) == 41
    assert all(r[6] and r[7] for r in rows)
    assert {r[6] for r in rows} <= {"achieved", "on_track", "at_risk", "off_track",
                                    "insufficient_data", "stale"}


@pytest.mark.parametrize("kpi_id, year, status, reason", [
    ("clean_power_capacity", 2025, "achieved", "2025 value 218.7 万千瓦 meets the target ≥ 210 万千瓦"),
    ("clean_power_capacity", 2030, "off_track", "against the target ≥ 450 万千瓦"),
    ("nonfossil_energy_share", 2025, "achieved", "2025 value 50.6 % meets the target ≈ 45 %"),
    ("energy_intensity_change", 2025, "achieved", "2025 value -14.59"),
    ("raw_coal_consumption", 2025, "off_track", "missed: 2025 value 671 万吨 against the target ≤ 660 万吨"),
    ("forest_coverage", 2025, "at_risk", "(latest 2024: 56.13) against the target ≥ 56.5 %"),
    ("forest_coverage", 2030, "on_track", "meeting the target ≥ 56.5 %"),
    ("hazardous_waste_utilization_rate", 2025, "off_track", "missed: 2025 value 60.5 % against"),
    ("industrial_solid_waste_utilization_rate", 2025, "achieved", "2025 value 98.6 %"),
    ("green_travel_share", 2030, "at_risk", "trend projects 69.85 % in 2030"),
    ("public_inst_energy_per_capita", 2025, "off_track", "missed: 2025 value -5.2 % change vs base"),
    ("waste_sorting_coverage", 2030, "on_track", "trend projects 100 % in 2030"),
    # the CO₂ checkpoints (carbon_peak, carbon_intensity_change_*) are in test_emissions.py
])
def test_statuses_of_the_default_scenario(built, kpi_id, year, status, reason):
    got = built.execute("select status, status_reason from kpi.kpi_status where kpi_id = ? "
                        "and checkpoint_year = ?", [kpi_id, year]).fetchone()
    assert got[0] == status
    assert reason in got[1]


def test_monthly_energy_csv_adds_up_to_the_yearly_balance(built):
    # two publications of the same department, two formats (GB18030 CSV and JSON): they must agree
    monthly = dict(built.execute("select year, sum(monthly_tce) from staging.stg_energy__monthly "
                                 "group by year").fetchall())
    yearly = dict(built.execute("select year, total_tce from marts.mart_energy__consumption_yearly "
                                "where year >= 2018").fetchall())
    assert set(monthly) == set(range(2018, 2026))
    for year, total in yearly.items():
        assert monthly[year] == pytest.approx(total, rel=1e-6)


# --- transport ---------------------------------------------------------------------------------

EV = {"纯电动", "插电混动", "燃料电池"}
CLEAN_DRIVES = EV | {"天然气"}  # 新能源 and 清洁能源, as the plan counts new vehicles


def test_new_clean_vehicle_share_from_the_registrations(built):
    rows = current(built, "transport__vehicles", ["year", "month", "county_name", "fuel_type"],
                   ["new_registrations"])
    expected = {}
    for year, year_rows in by_year(rows).items():
        if len({r["month"] for r in year_rows}) < 12:
            continue  # a year counts once complete
        clean = sum(r["new_registrations"] for r in year_rows if r["fuel_type"] in CLEAN_DRIVES)
        expected[year] = 100 * clean / sum(r["new_registrations"] for r in year_rows)
    assert_series(built, "kpi_transport__new_clean_vehicle_share", expected)
    assert kpi_value(built, "kpi_transport__new_clean_vehicle_share", 2025) == pytest.approx(30.86)


def test_public_charger_ev_ratio_at_year_end(built):
    vehicles = current(built, "transport__vehicles", ["year", "month", "county_name", "fuel_type"],
                       ["vehicle_stock"])
    points = current(built, "transport__charging_points", ["year", "month", "county_name"],
                     ["public_points", "dedicated_points"])
    expected = {}
    for year, year_rows in by_year(vehicles).items():
        december = max(r["month"] for r in year_rows)  # stock counted at the last month reported
        evs = sum(r["vehicle_stock"] for r in year_rows if r["month"] == december and r["fuel_type"] in EV)
        chargers = sum(r["public_points"] + r["dedicated_points"] for r in points
                       if r["year"] == year and r["month"] == december)
        expected[year] = chargers / evs
    assert_series(built, "kpi_transport__public_charger_ev_ratio", expected, digits=4)
    assert kpi_value(built, "kpi_transport__public_charger_ev_ratio", 2025) == pytest.approx(0.112)  # ≥ 1:10


@pytest.mark.parametrize("view, facility_type, value_2025", [
    ("kpi_transport__highway_service_area_charging_coverage", "高速公路服务区", 83.33),
    ("kpi_transport__passenger_hub_charging_coverage", "公路客运枢纽站", 46.15),
])
def test_fast_charging_coverage_at_year_end(built, view, facility_type, value_2025):
    rows = [r for r in current(built, "transport__charging_coverage", ["year", "month", "facility_type"],
                               ["facilities_total", "facilities_with_fast_charging"])
            if r["facility_type"] == facility_type]
    expected = {}
    for year, year_rows in by_year(rows).items():
        if len(year_rows) < 12:
            continue
        december = max(year_rows, key=lambda r: r["month"])
        expected[year] = 100 * december["facilities_with_fast_charging"] / december["facilities_total"]
    assert_series(built, view, expected)
    assert kpi_value(built, view, 2025) == pytest.approx(value_2025)


def test_airport_equipment_and_green_travel_shares(built):
    airport = current(built, "transport__airport_equipment", ["year"],
                      ["equipment_total", "electric_equipment"])
    assert_series(built, "kpi_transport__airport_electric_equipment_share",
                  {r["year"]: 100 * r["electric_equipment"] / r["equipment_total"] for r in airport})
    survey = current(built, "transport__green_travel_survey", ["year"],
                     ["walk_pct", "bike_pct", "public_transport_pct"])
    assert_series(built, "kpi_transport__green_travel_share",
                  {r["year"]: r["walk_pct"] + r["bike_pct"] + r["public_transport_pct"] for r in survey})
    assert kpi_value(built, "kpi_transport__airport_electric_equipment_share", 2025) == pytest.approx(26.92)
    assert kpi_value(built, "kpi_transport__green_travel_share", 2025) == pytest.approx(64.5)


def test_transport_carbon_intensity_change_from_fuel_and_turnover(built):
    rows = current(built, "transport__turnover_energy", ["year", "month"],
                   ["converted_turnover_tkm", "gasoline_t", "diesel_t", "natural_gas_m3", "electricity_mwh"])
    # tCO₂ per t of gasoline / diesel, per m³ of gas, per MWh (national grid average)
    factors = {"gasoline_t": 2.925, "diesel_t": 3.096, "natural_gas_m3": 0.002162, "electricity_mwh": 0.5568}
    intensity = {}
    for year, year_rows in by_year(rows).items():
        if len(year_rows) == 12:
            co2_t = sum(r[f] * factor for r in year_rows for f, factor in factors.items())
            intensity[year] = co2_t * 1000 / (sum(r["converted_turnover_tkm"] for r in year_rows) / 10)
    assert_series(built, "kpi_transport__transport_carbon_intensity_change", change_vs(intensity, 2020))
    assert kpi_value(built, "kpi_transport__transport_carbon_intensity_change", 2025) == pytest.approx(-5.1)


# --- buildings ---------------------------------------------------------------------------------

CIVIL = {"住宅", "公共建筑"}


def _large_public(p):
    return p["building_use"] == "公共建筑" and (p["is_large"] or p["is_government_funded"])


# (view, counted in the numerator, counted in the denominator, 2025 value): shares of floor area
BUILDING_SHARES = [
    ("kpi_buildings__prefab_building_share", lambda p: p["is_prefabricated"], lambda p: True, 33.0),
    ("kpi_buildings__green_building_standard_share",
     lambda p: p["is_urban"] and p["green_star"] is not None, lambda p: p["is_urban"], 100.0),
    ("kpi_buildings__star_green_building_share",
     lambda p: (p["green_star"] or 0) >= 1, lambda p: p["green_star"] is not None, 42.0),
    ("kpi_buildings__new_building_72pct_standard_share",
     lambda p: p["building_use"] in CIVIL and p["energy_standard"] == "72%",
     lambda p: p["building_use"] in CIVIL, 96.0),
    ("kpi_buildings__large_new_building_one_star_share",
     lambda p: p["is_large"] and (p["green_star"] or 0) >= 1, lambda p: p["is_large"], 100.0),
    ("kpi_buildings__public_building_energy_monitoring_share",
     lambda p: _large_public(p) and p["has_energy_monitoring"], _large_public, 97.1),
]


@pytest.mark.parametrize("view, numerator, denominator, value_2025", BUILDING_SHARES,
                         ids=[case[0].split("__")[1] for case in BUILDING_SHARES])
def test_new_building_shares_from_the_projects(built, view, numerator, denominator, value_2025):
    projects = current(built, "buildings__building_projects", ["project_id"],
                       ["permit_year", "floor_area_m2", "building_use", "is_urban", "is_prefabricated",
                        "energy_standard", "green_star", "is_government_funded", "has_energy_monitoring",
                        "is_large"])
    expected = {}
    for year, year_rows in by_year(projects, "permit_year").items():
        expected[year] = 100 * sum(p["floor_area_m2"] for p in year_rows if numerator(p)) / \
            sum(p["floor_area_m2"] for p in year_rows if denominator(p))
    assert_series(built, view, expected)
    assert kpi_value(built, view, 2025) == pytest.approx(value_2025)


def test_construction_waste_recycling_rate(built):
    rows = current(built, "buildings__construction_waste", ["year", "month", "county_name"],
                   ["generated_t", "recycled_t"])
    expected = {year: 100 * sum(r["recycled_t"] for r in year_rows) / sum(r["generated_t"] for r in year_rows)
                for year, year_rows in by_year(rows).items() if len({r["month"] for r in year_rows}) == 12}
    assert_series(built, "kpi_buildings__construction_waste_recycling_rate", expected)
    assert kpi_value(built, "kpi_buildings__construction_waste_recycling_rate", 2025) == pytest.approx(61.01)


# --- public institutions and industry ----------------------------------------------------------

@pytest.mark.parametrize("view, numerator, denominator, value_2025", [
    ("kpi_public_institutions__public_inst_energy_per_area", "energy_tce", "floor_area_m2", -6.8),
    ("kpi_public_institutions__public_inst_energy_per_capita", "energy_tce", "staff", -5.2),
    ("kpi_public_institutions__public_inst_carbon_per_area", "co2_t", "floor_area_m2", -7.9),
])
def test_public_institution_changes_against_2020(built, view, numerator, denominator, value_2025):
    rows = current(built, "public_institutions__energy_use", ["year", "county_name", "institution_type"],
                   ["floor_area_m2", "staff", "energy_tce", "co2_t"])
    per_unit = {year: sum(r[numerator] for r in year_rows) / sum(r[denominator] for r in year_rows)
                for year, year_rows in by_year(rows).items()}
    assert_series(built, view, change_vs(per_unit, 2020))
    assert kpi_value(built, view, 2025) == pytest.approx(value_2025)


def test_cement_clinker_energy_change_and_benchmark_capacity(built):
    rows = current(built, "industry__cement_clinker", ["year", "month", "producer_name"],
                   ["capacity_tpd", "clinker_t", "energy_tce", "is_benchmark"])
    complete = {y: r for y, r in by_year(rows).items() if len({x["month"] for x in r}) == 12}
    # production-weighted: all energy over all clinker
    kgce_per_t = {y: 1000 * sum(x["energy_tce"] for x in r) / sum(x["clinker_t"] for x in r)
                  for y, r in complete.items()}
    assert_series(built, "kpi_industry__cement_clinker_energy_change", change_vs(kgce_per_t, 2020))
    benchmark = {}
    for year, year_rows in complete.items():
        december = [x for x in year_rows if x["month"] == max(r["month"] for r in year_rows)]
        benchmark[year] = 100 * sum(x["capacity_tpd"] for x in december if x["is_benchmark"]) / \
            sum(x["capacity_tpd"] for x in december)
    assert_series(built, "kpi_industry__cement_benchmark_capacity_share", benchmark)
    assert kpi_value(built, "kpi_industry__cement_clinker_energy_change", 2025) == pytest.approx(-3.57)
    assert kpi_value(built, "kpi_industry__cement_benchmark_capacity_share", 2025) == pytest.approx(26.95)


# --- municipal waste ---------------------------------------------------------------------------

def test_sludge_sorting_domestic_waste_and_parks(built):
    sludge = by_year(current(built, "water__sewage_sludge", ["year", "plant_name"],
                             ["sludge_t", "safely_disposed_t"]))
    assert_series(built, "kpi_waste__sludge_safe_disposal_rate", {
        y: 100 * sum(r["safely_disposed_t"] for r in rows) / sum(r["sludge_t"] for r in rows)
        for y, rows in sludge.items()})
    sorting = by_year(current(built, "city_management__waste_sorting", ["year", "county_name"],
                              ["communities_total", "communities_sorting"]))
    assert_series(built, "kpi_waste__waste_sorting_coverage", {
        y: 100 * sum(r["communities_sorting"] for r in rows) / sum(r["communities_total"] for r in rows)
        for y, rows in sorting.items()})
    domestic = by_year(current(built, "city_management__domestic_waste", ["year", "month", "facility_name"],
                               ["received_t", "recycled_t", "incinerated_t"]))
    # 资源化利用 = recycled + incinerated with energy recovery; complete years only
    assert_series(built, "kpi_waste__domestic_waste_recycling_share", {
        y: 100 * sum(r["recycled_t"] + r["incinerated_t"] for r in rows) / sum(r["received_t"] for r in rows)
        for y, rows in domestic.items() if len({r["month"] for r in rows}) == 12})
    parks = by_year([p for p in current(built, "development__industrial_parks", ["year", "park_name"],
                                        ["is_eligible", "is_retrofitted"]) if p["is_eligible"]])
    assert_series(built, "kpi_waste__park_circular_transformation_share", {
        y: 100 * sum(p["is_retrofitted"] for p in rows) / len(rows) for y, rows in parks.items()})
    assert [kpi_value(built, f"kpi_waste__{view}", 2025) for view in (
        "sludge_safe_disposal_rate", "waste_sorting_coverage", "domestic_waste_recycling_share",
        "park_circular_transformation_share")] == pytest.approx([96.2, 77.89, 58.5, 100.0])

"""KPI values recomputed by hand from the raw rows, and the statuses they lead to."""

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
    ("carbon_peak", 2030, "insufficient_data", "no observations yet: computed from the city's CO₂ inventory"),
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

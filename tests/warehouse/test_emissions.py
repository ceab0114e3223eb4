"""The CO₂ inventory and its three KPIs by hand from the raw rows; the peak-year method on crafted series.

The crafted series run through the real SQL models (the peak view and kpi_status), as
test_kpi_status does.
"""

from __future__ import annotations

import math
import shutil
import statistics

import pytest
import yaml

from flows.settings import PROJECT_ROOT
from warehouse.catalogue import load_catalogue, read_catalogue
from warehouse.db import connect
from warehouse.models import build_models

# tCO₂ per tce = 0.0293076 TJ/tce (GB/T 2589) × carbon content (IPCC 2006 Table 1.3) × 44/12
CARBON_T_PER_TJ = {"raw_coal": 25.8, "coke": 29.2, "gasoline": 18.9, "diesel": 20.2, "natural_gas": 15.3}
TCO2_PER_TCE = {fuel: 0.0293076 * carbon * 44 / 12 for fuel, carbon in CARBON_T_PER_TJ.items()}
GRID_TCO2_PER_MWH = 0.5568  # 2021 national average, held for every year
CLEAN = ("hydro", "wind", "solar", "biomass")


@pytest.fixture(scope="module")
def built(default_warehouse):
    con = connect(default_warehouse, read_only=True)
    yield con
    con.close()


def current(table: str, key: str) -> str:
    """The latest vintage of a raw table, as the staging models keep it."""
    return (f"select * from raw.{table} qualify row_number() over (partition by {key} "
            f"order by _load_seq desc) = 1")


@pytest.fixture(scope="module")
def by_hand(built):
    """Direct and total CO₂ per year, and GDP, from the raw rows.

    Fuels × factors + (primary electricity − local clean generation) × grid factor; generation
    before 2015 from capacity × each type's capacity factor over the published years.
    """
    balance = built.execute(f"select year, fuel_code, is_fossil, physical_amount, consumption_tce "
                            f"from ({current('energy__balance', 'year, fuel_code')})").fetchall()
    generation = built.execute(f"select year, plant_type, sum(generation_mwh) from "
                               f"({current('power__generation', 'year, month, plant_type')}) "
                               f"group by all").fetchall()
    capacity = built.execute(f"select year, plant_type, capacity_mw from "
                             f"({current('energy__power_capacity', 'year, plant_type')})").fetchall()
    gdp = dict(built.execute(f"select year, gdp_2020_prices_cny from "
                             f"({current('energy__gdp', 'year')})").fetchall())

    generated = {(y, p): mwh for y, p, mwh in generation}
    installed = {(y, p): mw for y, p, mw in capacity}
    factor = {p: sum(mwh for (y, q), mwh in generated.items() if q == p)
              / sum(installed[y, q] * 8760 for (y, q) in generated if q == p) for p in CLEAN}
    direct, totals = {}, {}
    for year in sorted(gdp):
        direct[year] = sum(tce * TCO2_PER_TCE[fuel] for y, fuel, fossil, _, tce in balance
                           if y == year and fossil)
        primary_mwh = sum(amount * 1e5 for y, _, fossil, amount, _ in balance if y == year and not fossil)
        if any(y == year for y, _ in generated):
            clean_mwh = sum(generated[year, p] for p in CLEAN)
        else:
            clean_mwh = sum(installed[year, p] * 8760 * factor[p] for p in CLEAN)
        totals[year] = direct[year] + (primary_mwh - clean_mwh) * GRID_TCO2_PER_MWH
    return {"direct": direct, "total": totals, "gdp": gdp}


def test_every_fuel_and_year_has_exactly_one_current_factor_with_a_source(built):
    missing = built.execute("""
        select b.year, b.fuel_code, count(f.factor_id)
        from staging.stg_energy__balance b
        left join marts.mart_emissions__emission_factors f
            on f.is_current and f.fuel_code = b.fuel_code
            and b.year between f.valid_from_year and coalesce(f.valid_to_year, 9999)
        where b.is_fossil
        group by all having count(f.factor_id) <> 1""").fetchall()
    assert missing == []
    grid = built.execute("""
        select y.year, count(f.factor_id) from (select distinct year from staging.stg_energy__balance) y
        left join marts.mart_emissions__emission_factors f
            on f.is_current and f.factor_kind = 'grid_electricity'
            and y.year between f.valid_from_year and coalesce(f.valid_to_year, 9999)
        group by all having count(f.factor_id) <> 1""").fetchall()
    assert grid == []
    assert built.execute("select count(*) from marts.mart_emissions__emission_factors "
                         "where coalesce(source, '') = ''").fetchone()[0] == 0
    # the published 2021 national grid factor is not an assumption; the years around it are
    rows = dict(built.execute("select factor_id, is_assumption from marts.mart_emissions__emission_factors "
                              "where factor_set = 'grid_national'").fetchall())
    assert rows == {"grid_national.2005_2020.v1": True, "grid_national.2021.v1": False,
                    "grid_national.2022_on.v1": True}
    coal = built.execute("select tco2_per_tce from marts.mart_emissions__emission_factors "
                         "where factor_id = 'ipcc2006_tier1.raw_coal.v1'").fetchone()[0]
    assert coal == pytest.approx(2.7725, abs=1e-4)  # 94,600 kgCO₂/TJ × 29.3076 GJ/tce


@pytest.mark.parametrize("year", [2005, 2020, 2025])
def test_inventory_total_matches_a_hand_computation(built, by_hand, year):
    total, direct, rows = built.execute(
        "select total_co2_t, direct_co2_t, (select count(*) from marts.mart_emissions__co2_inventory i "
        "where i.year = y.year) from marts.mart_emissions__co2_yearly y where year = ?", [year]).fetchone()
    assert total == pytest.approx(by_hand["total"][year], rel=1e-9)
    assert direct == pytest.approx(by_hand["direct"][year], rel=1e-9)
    assert rows == 3 + 4 + 1  # raw coal in three sectors, four other fuels, net imported electricity
    summed = built.execute("select sum(co2_t) from marts.mart_emissions__co2_inventory where year = ?",
                           [year]).fetchone()[0]
    assert summed == pytest.approx(total, rel=1e-9)


def test_direct_emissions_are_calibrated_on_ceads(by_hand):
    # CEADs city inventory (Shan et al. 2022), scope 1, Mt CO₂: the only published Mianyang figures
    assert by_hand["direct"][2019] / 1e6 == pytest.approx(14.64, rel=0.05)
    assert by_hand["direct"][2010] / 1e6 == pytest.approx(14.84, rel=0.05)
    # with net imported electricity the 2005 base is close to CEADs' 13.40 Mt
    assert by_hand["total"][2005] / 1e6 == pytest.approx(13.40, rel=0.05)


def test_carbon_intensity_changes_match_a_hand_computation(built, by_hand):
    intensity = {y: by_hand["total"][y] / by_hand["gdp"][y] for y in by_hand["gdp"]}
    change_2020 = round(100 * (intensity[2025] / intensity[2020] - 1), 2)
    change_2005 = round(100 * (intensity[2025] / intensity[2005] - 1), 2)
    assert built.execute("select value from kpi.kpi_emissions__carbon_intensity_change_2020 "
                         "where year = 2025").fetchone()[0] == pytest.approx(change_2020)
    assert built.execute("select value from kpi.kpi_emissions__carbon_intensity_change_2005 "
                         "where year = 2025").fetchone()[0] == pytest.approx(change_2005)
    assert change_2020 == pytest.approx(-13.9, abs=0.01)
    assert change_2005 == pytest.approx(-71.55, abs=0.01)


def theil_sen_peak(totals: dict[int, float]) -> int:
    """The view's projection for a series still rising at its end (the default scenario's case)."""
    last = max(totals)
    rises = {y: totals[y] - totals[y - 1] for y in range(last - 4, last + 1)}
    slope = statistics.median((rises[j] - rises[i]) / (j - i) for i in rises for j in rises if j > i)
    fitted = statistics.median(rises[y] - slope * (y - last) for y in rises)
    assert fitted > 0 and slope < 0
    return last + math.ceil(fitted / -slope) - 1


def test_carbon_peak_is_projected_from_the_slowing_rise(built, by_hand):
    expected = theil_sen_peak(by_hand["total"])
    assert expected == 2033
    row = built.execute("select value, peak_basis from kpi.kpi_emissions__carbon_peak "
                        "where year = 2025").fetchone()
    assert row == (expected, "projected")


@pytest.mark.parametrize("kpi_id, year, status, reason", [
    ("carbon_intensity_change_2020", 2025, "off_track",
     "missed: 2025 value -13.9 % change vs base against the target ≤ -19 % change vs base"),
    ("carbon_intensity_change_2005", 2030, "on_track",
     "trend projects -76.23 % change vs base in 2030 (latest 2025: -71.55), meeting the target"),
    ("carbon_peak", 2030, "off_track",
     "projected peak in 2033: the trend of the yearly increase reaches zero after that year "
     "(data to 2025), missing the target ≤ 2030 year"),
])
def test_statuses_of_the_co2_checkpoints(built, kpi_id, year, status, reason):
    got = built.execute("select status, status_reason from kpi.kpi_status where kpi_id = ? "
                        "and checkpoint_year = ?", [kpi_id, year]).fetchone()
    assert got[0] == status
    assert reason in got[1]


# --- the peak-year method on crafted series --------------------------------------------------

REAL_SOURCES = yaml.safe_load((PROJECT_ROOT / "dbt_like_sql" / "sources.yml").read_text(encoding="utf-8"))
SOURCES = {"sources": [
    next(s for s in REAL_SOURCES["sources"] if s["name"] == "config"),  # what the age is judged on
    {"name": "test", "schema": "test", "tables": [{"name": "co2"}]},
    next(s for s in REAL_SOURCES["sources"] if s["name"] == "meta"),  # created empty by the build
]}


def series(first: int, values: list[float]) -> dict[int, float]:
    return {first + i: v * 1e6 for i, v in enumerate(values)}


# name: ({year: total CO₂ t}, value, peak_basis, status, words in the reason)
PEAK_CASES = {
    "peaked_and_falling": (series(2015, [10, 11, 12, 12.5, 12.2, 11.8, 11.5, 11.2, 11.0, 10.8]),
                           2018, "peaked", "achieved",
                           "peaked in 2018 and stayed below that peak for 6 years (data to 2024)"),
    "plateau_near_the_high": (series(2015, [10, 11, 12, 12.5, 12.45, 12.4, 12.4, 12.35, 12.3, 12.3]),
                              2024, "plateau", "on_track",
                              "no longer rising in 2024, estimated peak year 2024"),
    "just_turned": (series(2020, [10, 11, 12, 12.8, 12.6]), 2023, "turning", "on_track",
                    "no longer rising in 2024, estimated peak year 2023"),
    "rise_slowing_fast": (series(2019, [10, 10.85, 11.55, 12.15, 12.65, 13.0]), 2026, "projected",
                          "on_track", "projected peak in 2026"),
    "rise_slowing_slowly": (series(2019, [10, 10.5, 10.97, 11.42, 11.85, 12.26]), 2044, "projected",
                            "off_track", "projected peak in 2044"),
    "rising_steadily": (series(2015, [10 + 0.5 * i for i in range(10)]), 2061, "not_before_horizon",
                        "off_track", "no downturn projected before 2060"),
    "two_years_only": (series(2023, [10, 11]), None, None, "insufficient_data",
                       "a peak year is estimated from three or more years of data"),
}


@pytest.fixture(scope="module")
def peak_outcomes(tmp_path_factory):
    outcomes = {}
    for name, (totals, *_) in PEAK_CASES.items():
        root = tmp_path_factory.mktemp(name)
        project = root / "project"
        (project / "kpi").mkdir(parents=True)
        (project / "marts").mkdir()
        for model in ("kpi/kpi_emissions__carbon_peak.sql", "kpi/kpi_status.sql", "kpi/kpi_data_age.sql",
                      "kpi/kpi_required_path.sql", "kpi/kpi_trend.sql", "kpi/kpi_early_warning.sql"):
            shutil.copy(PROJECT_ROOT / "dbt_like_sql" / model, project / model)
        (project / "marts" / "mart_emissions__co2_yearly.sql").write_text(
            "select year, total_co2_t from {{ source('test', 'co2') }}")
        (project / "kpi" / "kpi_series.sql").write_text(
            "select kpi_id, year, cast(value as double) as value "
            "from {{ ref('kpi_emissions__carbon_peak') }} where value is not null")
        (project / "kpi" / "kpi_ytd_series.sql").write_text(  # no monthly data: no early warning
            "select null::varchar as kpi_id, null::integer as year, null::integer as month, "
            "null::double as ytd_value where false")
        (project / "sources.yml").write_text(yaml.safe_dump(SOURCES))
        kpi = {"id": "carbon_peak", "name_zh": "碳达峰", "name_en": "total CO₂ emissions peak",
               "unit": "year", "direction": "lower_is_better",
               "checkpoints": [{"year": 2030, "target_value": 2030, "qualifier": "at_most"}]}
        (root / "kpis.yml").write_text(yaml.safe_dump({"kpis": [kpi]}, allow_unicode=True))
        catalogue = read_catalogue(root / "kpis.yml")

        con = connect(root / "w.duckdb")
        con.execute("create schema test; create table test.co2 (year integer, total_co2_t double)")
        con.executemany("insert into test.co2 values (?, ?)", list(totals.items()))
        build_models(con, project, seed=lambda c, catalogue=catalogue: load_catalogue(c, catalogue))
        peak = con.execute("select value, peak_basis from kpi.kpi_emissions__carbon_peak "
                           "order by year desc limit 1").fetchone() or (None, None)
        status = con.execute("select status, status_reason from kpi.kpi_status").fetchone()
        con.close()
        outcomes[name] = (*peak, *status)
    return outcomes


@pytest.mark.parametrize("name", PEAK_CASES)
def test_peak_year_method(peak_outcomes, name):
    _, value, basis, status, words = PEAK_CASES[name]
    got_value, got_basis, got_status, reason = peak_outcomes[name]
    assert (got_value, got_basis) == (value, basis)
    assert got_status == status, reason
    assert words in reason

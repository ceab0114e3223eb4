"""Metered public-institution energy per m² against the yearly statistics (issue 13), end to end.

The platform serves a year and five days of readings over loopback (from 1 January 2025); the
real loader, gate and models put them in a DuckDB file. One public building is metered all of
2025, a second joins on 1 July, a shop (not a public institution) is metered beside them. The
statistics department's workbook (to 2025) arrives after the meters, so the module sees 2025
before and after its statistic is published. The metered values expected come from the
generator's own counters, not from SQL.

A whole year is 370 day files: ~40 s, mostly the source server writing and serving each file
(~0.1 s a day whatever the size). The day files are read as Parquet, which the platform also
publishes: as CSV the loader would add ~0.25 s a day, as Parquet ~0.02 s.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from connectors.fetch import fetch_dataset
from connectors.spec import DepartmentSpec, SourcesConfig, load_sources
from expectations.gate import check_fetched
from flows.settings import PROJECT_ROOT
from source_server import meters_data as md
from source_server.meters_feed import MetersFeed
from source_server.server import SourceServer
from tests.helpers import MIANYANG_CITY
from tests.helpers import build as build_all
from warehouse.catalogue import read_catalogue
from warehouse.db import connect
from warehouse.kpi_views import generated_models
from warehouse.load import load_batches
from warehouse.models import build_models, ensure_declared_sources
from warehouse.state import read_source_states, states_of

PROJECT = PROJECT_ROOT / "dbt_like_sql"
MODEL = "mart_public_institutions__energy_reconciliation"
# seed 19's first three buildings: MY-B0001 an office (public institution), MY-B0002 a shop (not
# one), MY-B0003 a school (public institution) that the feed adds on JOINS
SEED = 19
FULL_YEAR, PART_YEAR, SHOP = "MY-B0001", "MY-B0003", "MY-B0002"
START, JOINS, AS_OF = dt.date(2025, 1, 1), dt.date(2025, 7, 1), dt.date(2026, 1, 5)
NOW = dt.time(12, 0)  # the day so far of AS_OF, as the paged JSON offers it
# kgce per unit of each sub-meter kind (GB/T 2589-2020); electricity is any other kind, water none
KGCE = {"gas": 1.2143, "heat": 34.12, "water": 0.0}
KGCE_PER_KWH = 0.1229


def parquet_sources(folder: Path) -> SourcesConfig:
    """Mianyang's sources.yml with the meters' day files read as Parquet (the platform has both)."""
    text = (PROJECT_ROOT / "config" / "mianyang" / "sources.yml").read_text(encoding="utf-8")
    csv = "format: csv\n        path: /api/v1/buildings/meter_days?format=csv"
    assert text.count(csv) == 1
    path = folder / "sources.yml"
    path.write_text(text.replace(csv, csv.replace("csv", "parquet")), encoding="utf-8")
    return load_sources(path)


def ingest(department: DepartmentSpec, server: SourceServer, warehouse: Path, as_of: dt.date) -> None:
    """Fetch, check and load one department as the ingest flow does, minus Prefect."""
    con = connect(warehouse)
    try:
        ensure_declared_sources(con, PROJECT)
        states = read_source_states(con)
        batches = []
        for spec in department.datasets:
            fetched = fetch_dataset(spec, department, server.url, server.token,
                                    states_of(states, spec.table_name),
                                    download_dir=warehouse.parent / "downloads" / spec.table_name)
            batches += [check_fetched(f, con, MIANYANG_CITY, as_of) for f in fetched]
        load_batches(con, batches)
    finally:
        con.close()


def build(warehouse: Path, sources: SourcesConfig | None = None) -> None:
    """Every model as the build flow does (with `sources`), or `--select +<the reconciliation>`.

    A selection needs a warehouse built whole once: the statistics' staging tests its county names
    against the forest resources, a model outside the selection.
    """
    con = connect(warehouse)
    try:
        if sources is None:  # a selection still resolves every model's refs, the KPI views' too
            catalogue = read_catalogue(PROJECT_ROOT / "config" / "mianyang" / "kpis.yml")
            build_models(con, PROJECT, select=f"+{MODEL}", generated=generated_models(catalogue))
        else:
            build_all(con, sources, AS_OF)
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> dict[str, Path]:
    """The warehouse before the 2025 statistic is loaded, and after."""
    folder = tmp_path_factory.mktemp("reconciliation")
    sources = parquet_sources(folder)
    warehouse = folder / "warehouse.duckdb"
    feed = MetersFeed(buildings=2, start=START, as_of=JOINS, seed=SEED, faults=md.NO_FAULTS, now=NOW)
    with SourceServer(meters=feed) as server:
        ingest(sources.department("buildings"), server, warehouse, JOINS)
        # the school joins the platform: its first day file is JOINS (the days before stay loaded)
        feed.set(buildings=3, start=JOINS, as_of=AS_OF)
        ingest(sources.department("buildings"), server, warehouse, AS_OF)
        build(warehouse, sources)  # the whole project, as `carbonpeak build`
        before = folder / "before-statistics.duckdb"
        shutil.copy(warehouse, before)
        ingest(sources.department("public_institutions"), server, warehouse, AS_OF)
        build(warehouse)
    return {"before": before, "after": warehouse}


def rows(warehouse: Path) -> dict[int, dict]:
    con = connect(warehouse, read_only=True)
    try:
        cursor = con.execute(f"select * from marts.{MODEL} order by year")
        names = [d[0] for d in cursor.description]
        return {r[names.index("year")]: dict(zip(names, r, strict=True)) for r in cursor.fetchall()}
    finally:
        con.close()


def reading(day: dt.date, building: str, at: dt.time = dt.time(0)) -> dict[str, float]:
    """Each sub-meter's counter of `building` at `at` on `day`, from the generator."""
    table = md.day_readings(day, 3, SEED, md.NO_FAULTS)
    stamp = dt.datetime.combine(day, at)
    return {m: float(r) for m, b, ts, r in zip(table["meter_id"], table["building_id"], table["ts"],
                                               table["reading"], strict=True)
            if b == building and ts.item() == stamp}


def kgce(first: dict[str, float], last: dict[str, float]) -> float:
    """Energy between two counter readings, kgce: each meter's advance × its coefficient."""
    kinds = {m["meter_id"]: m["kind"] for m in md.meter_register(3, SEED)}
    return sum((value - first[meter]) * KGCE.get(kinds[meter], KGCE_PER_KWH) for meter, value in last.items())


def area(building: str) -> float:
    (found,) = [b["floor_area_m2"] for b in md.building_register(3, SEED) if b["building_id"] == building]
    return found


def test_the_scenario_is_what_the_module_says():
    register = {b["building_id"]: b for b in md.building_register(3, SEED)}
    assert [register[b]["is_public_institution"] for b in (FULL_YEAR, SHOP, PART_YEAR)] == [True, False, True]
    assert all(b["monitoring_since"] < START for b in register.values())


def test_a_whole_year_is_compared_with_its_statistic(warehouses):
    row = rows(warehouses["after"])[2025]
    # no resets in this feed: a year's energy is the counters' advance from 1 January to 1 January
    energy = kgce(reading(START, FULL_YEAR), reading(dt.date(2026, 1, 1), FULL_YEAR))
    expected = energy / area(FULL_YEAR)
    con = connect(warehouses["after"], read_only=True)
    (statistic,) = con.execute("select energy_kgce_per_m2 from marts.mart_public_institutions__energy_yearly "
                               "where year = 2025").fetchone()
    con.close()
    gap = (expected / statistic - 1) * 100
    assert row["metered_kgce_per_m2"] == pytest.approx(expected, rel=1e-9)
    assert row["energy_kgce"] == pytest.approx(energy, rel=1e-9)
    assert row["statistics_kgce_per_m2"] == statistic == pytest.approx(22.564, abs=1e-3)
    assert row["gap_pct"] == pytest.approx(gap, rel=1e-9)
    # the shop is no public institution; the school, metered from July, is left out of the figure
    assert (row["buildings_metered"], row["buildings_full_year"]) == (2, 1)
    assert row["floor_area_m2"] == area(FULL_YEAR)
    assert (row["months_covered"], row["days_measured"]) == (12, 365)
    assert (row["is_full_year"], row["is_comparable"]) == (True, True)
    word_zh, word_en = ("高", "above") if gap > 0 else ("低", "below")
    assert row["reconciliation_reason_zh"] == (
        f"2025年计量值{expected:.2f}千克标准煤/平方米（1栋建筑），比年度统计{statistic:.2f}千克标准煤/平方米"
        f"{word_zh}{abs(gap):.1f}%；另有1栋未计量全年，未计入")
    assert row["reconciliation_reason_en"] == (
        f"2025: metered {expected:.2f} kgce/m² (1 building) is {abs(gap):.1f} % {word_en} the yearly "
        f"statistic of {statistic:.2f} kgce/m²; 1 building metered for part of the year left out")


def test_a_year_under_way_is_not_comparable(warehouses):
    row = rows(warehouses["after"])[2026]
    # both public buildings, 1 January 00:00 to the day so far of AS_OF, not annualised
    energy = sum(kgce(reading(dt.date(2026, 1, 1), b), reading(AS_OF, b, NOW))
                 for b in (FULL_YEAR, PART_YEAR))
    assert row["metered_kgce_per_m2"] == pytest.approx(energy / (area(FULL_YEAR) + area(PART_YEAR)), rel=1e-9)
    assert (row["buildings_metered"], row["buildings_full_year"], row["months_covered"],
            row["days_measured"]) == (2, 0, 1, 5)
    assert (row["statistics_kgce_per_m2"], row["gap_pct"], row["is_full_year"], row["is_comparable"]) == \
        (None, None, False, False)
    assert row["reconciliation_reason_zh"] == "2026年仅有1个月的计量数据（5天），年度统计尚未发布，暂不可比"
    assert row["reconciliation_reason_en"] == \
        "2026: 1 month metered (5 days), no yearly statistic yet: not comparable"


def test_a_whole_year_waits_for_its_statistic(warehouses):
    before, after = rows(warehouses["before"]), rows(warehouses["after"])
    assert sorted(before) == sorted(after) == [2025, 2026]  # a row per year with meter data, no more
    row = before[2025]
    assert row["metered_kgce_per_m2"] == pytest.approx(after[2025]["metered_kgce_per_m2"], rel=1e-12)
    assert (row["statistics_kgce_per_m2"], row["gap_pct"], row["is_full_year"], row["is_comparable"]) == \
        (None, None, True, False)
    metered = f"{row['metered_kgce_per_m2']:.2f}"
    assert row["reconciliation_reason_zh"] == (
        f"2025年计量全年（1栋建筑，{metered}千克标准煤/平方米），年度统计尚未发布，暂不可比；另有1栋未计量全年，未计入")
    assert row["reconciliation_reason_en"] == (
        f"2025: full year metered (1 building, {metered} kgce/m²), no yearly statistic yet: not comparable; "
        "1 building metered for part of the year left out")
    assert before[2026] == after[2026]


def test_its_tests_ran_and_passed(warehouses):
    con = connect(warehouses["after"], read_only=True)
    results = con.execute("select test, status from meta.model_test_results where model = ?",
                          [f"marts.{MODEL}"]).fetchall()
    con.close()
    assert len(results) == 10 and {status for _, status in results} == {"pass"}

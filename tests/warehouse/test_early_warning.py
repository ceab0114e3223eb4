"""The year-to-date early warning `kpi.kpi_early_warning` (一级/二级/三级).

Two halves: crafted series through the real SQL model (the rules, one KPI per case), and the
default scenario's monthly table as it stood on past days, checked against an independent
computation from the staged monthly figures.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass

import pytest
import yaml

from flows.settings import PROJECT_ROOT
from warehouse.catalogue import load_catalogue, read_catalogue
from warehouse.db import as_dicts, connect
from warehouse.kpi import read_as_it_stood
from warehouse.models import build_models

SQL_DIR = PROJECT_ROOT / "dbt_like_sql"
REAL_SOURCES = yaml.safe_load((SQL_DIR / "sources.yml").read_text(encoding="utf-8"))
UP, DOWN, CHANGE = "higher_is_better", "lower_is_better", "% change vs base"


@dataclass(frozen=True)
class Case:
    series: dict[int, float]  # the yearly KPI values published
    checkpoints: dict[int, tuple]  # year: (qualifier, target)
    ratios: dict[int, float]  # year: ytd / same months of last year (the year before is the base)
    months: int  # months of data in the last year of `ratios`
    expected: tuple  # (year, level, requirement_kind, required_value, projected_value)
    direction: str = UP
    unit: str = "%"
    base_year: int | None = None
    after: str | None = None


LEVEL_PATH = {2020: 120.0, 2021: 116.0, 2022: 112.0}  # a cap of 100 in 2025: the path is 108 in 2023
CASES = {
    # a cap: projected 112 × 0.95 = 106.4 meets the path's 108 in 2023
    "meets_the_path": Case(LEVEL_PATH, {2025: ("at_most", 100)}, {2023: 0.95}, 6,
                           (2023, 3, "path", 108.0, 106.4), direction=DOWN, unit="万吨"),
    # 112 × 0.98 = 109.76: misses 108, but better than 2022's 112
    "misses_but_improves": Case(LEVEL_PATH, {2025: ("at_most", 100)}, {2023: 0.98}, 6,
                                (2023, 2, "path", 108.0, 109.76), direction=DOWN, unit="万吨"),
    # 112 × 1.01 = 113.12: misses and is worse than last year
    "misses_and_worsens": Case(LEVEL_PATH, {2025: ("at_most", 100)}, {2023: 1.01}, 6,
                               (2023, 1, "path", 108.0, 113.12), direction=DOWN, unit="万吨"),
    # two months are not enough: projected, but not judged
    "too_early": Case(LEVEL_PATH, {2025: ("at_most", 100)}, {2023: 1.01}, 2,
                      (2023, None, "path", 108.0, 113.12), direction=DOWN, unit="万吨"),
    # a "% change vs base": the ratio moves the level 1 + v/100: 100 × (0.90 × 0.97 − 1) = -12.7
    "a_change_moves_its_level": Case({2020: 0.0, 2024: -10.0}, {2025: ("at_least", -14)}, {2025: 0.97},
                                     12, (2025, 2, "target", -14.0, -12.7), direction=DOWN, unit=CHANGE,
                                     base_year=2020),
    # 左右 at the checkpoint year: 44 × 1.005 = 44.22 is within 45's band of ±0.9
    "about_band_at_the_target": Case({2020: 40.0, 2024: 44.0}, {2025: ("about", 45)}, {2025: 1.005}, 3,
                                     (2025, 3, "target", 45.0, 44.22)),
    # 超过 strictly: exactly 30 misses, and no better than last year's 30
    "more_than_is_strict": Case({2020: 20.0, 2024: 30.0}, {2025: ("more_than", 30)}, {2025: 1.0}, 3,
                                (2025, 1, "target", 30.0, 30.0)),
    # after the last checkpoint, 稳中有升: 2026 must be at least 2025's 50; 49.5 is not
    "rising_after_the_last_checkpoint": Case({2020: 40.0, 2025: 50.0}, {2025: ("about", 45)}, {2026: 0.99},
                                             3, (2026, 1, "after_last_checkpoint", 50.0, 49.5),
                                             after="rising"),
    # 全部 (full) at its year: met from 99.95, as kpi_status judges it: 99 × 1.0098 = 99.97
    "full_is_met_from_99_95": Case({2020: 90.0, 2024: 99.0}, {2025: ("full", 100)}, {2025: 1.0098}, 3,
                                   (2025, 3, "target", 100.0, 99.9702)),
    # without such a clause the plan sets nothing for 2026: projected, not judged
    "nothing_after_the_last_checkpoint": Case({2020: 40.0, 2025: 50.0}, {2025: ("about", 45)},
                                              {2026: 0.99}, 3, (2026, None, None, None, 49.5)),
}


def ytd_rows(name: str, case: Case) -> list[tuple]:
    """Cumulative values: the base year 10 a month, each later year its ratio on the year before."""
    first = min(case.ratios) - 1
    level, rows = {first: 10.0}, []
    for year in range(first + 1, max(case.ratios) + 1):
        level[year] = level[year - 1] * case.ratios.get(year, 1.0)
    for year, per_month in level.items():
        last = case.months if year == max(case.ratios) else 12
        rows += [(name, year, month, per_month * month) for month in range(1, last + 1)]
    return rows


def entry(name: str, case: Case) -> dict:
    return {"id": name, "name_zh": name, "name_en": name, "unit": case.unit, "direction": case.direction,
            "base_year": case.base_year, "after_last_checkpoint": case.after,
            "checkpoints": [{"year": y, "target_value": t, "qualifier": q}
                            for y, (q, t) in case.checkpoints.items()]}


@pytest.fixture(scope="module")
def warnings(tmp_path_factory):
    root = tmp_path_factory.mktemp("warning")
    project = root / "project" / "kpi"
    project.mkdir(parents=True)
    for model in ("kpi_early_warning", "kpi_required_path"):
        for suffix in (".sql", ".yml"):
            shutil.copy(SQL_DIR / "kpi" / f"{model}{suffix}", project)
    (project / "kpi_series.sql").write_text("select * from {{ source('test', 'series') }}")
    (project / "kpi_ytd_series.sql").write_text("select * from {{ source('test', 'ytd') }}")
    (project.parent / "sources.yml").write_text(yaml.safe_dump({"sources": [
        next(s for s in REAL_SOURCES["sources"] if s["name"] == "config"),
        {"name": "test", "schema": "test", "tables": [{"name": "series"}, {"name": "ytd"}]},
    ]}))
    doc = {"reference_year": 2020, "kpis": [entry(n, c) for n, c in CASES.items()]}
    (root / "kpis.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    catalogue = read_catalogue(root / "kpis.yml")
    con = connect(root / "w.duckdb")
    con.execute("create schema test; create table test.series (kpi_id varchar, year integer, value double);"
                "create table test.ytd (kpi_id varchar, year integer, month integer, ytd_value double)")
    con.executemany("insert into test.series values (?, ?, ?)",
                    [(n, y, v) for n, c in CASES.items() for y, v in c.series.items()])
    con.executemany("insert into test.ytd values (?, ?, ?, ?)",
                    [r for n, c in CASES.items() for r in ytd_rows(n, c)])

    def seed(c):
        load_catalogue(c, catalogue)
        c.execute("create or replace table config.run_context as "
                  "select date '2026-12-31' as as_of, null::date as data_through")

    build_models(con, project.parent, seed=seed)
    rows = as_dicts(con.execute("select * from kpi.kpi_early_warning where is_current"))
    con.close()
    return {(r["kpi_id"], r["year"]): r for r in rows}


@pytest.mark.parametrize("name", CASES)
def test_level_requirement_and_projection(warnings, name):
    year, level, kind, required, projected = CASES[name].expected
    row = warnings[name, year]
    assert row["through_month"] == CASES[name].months
    assert (row["warning_level"], row["requirement_kind"]) == (level, kind)
    assert row["required_value"] == (None if required is None else pytest.approx(required, abs=1e-3))
    assert row["projected_value"] == pytest.approx(projected, abs=1e-3)


def test_reasons_say_what_was_projected_from_what(warnings):
    row = warnings["misses_but_improves", 2023]
    assert row["warning_reason_zh"] == ("按2023年1–6月同比-2.0%推算，全年预计为109.8万吨（2022年实际：112）；"
                                        "按规划路径2023年应≤108，差1.76，但较上年改善")
    assert row["warning_reason_en"] == (
        "January–June 2023 against the same months of 2022 (-2.0 %) projects 109.8 万吨 for 2023 (2022 "
        "published: 112); the plan's path for 2023 is ≤ 108, missed by 1.76, but better than last year")
    assert warnings["too_early", 2023]["warning_reason_zh"] == "2023年仅有1–2月数据，满3个月后开始预警"
    assert "规划未设2026年要求" in warnings["nothing_after_the_last_checkpoint", 2026]["warning_reason_zh"]
    assert "（较2020年；2024年实际：-10）" in warnings["a_change_moves_its_level", 2025]["warning_reason_zh"]


# --- the default scenario's monthly table, as it stood on past days ----------------------------

def as_it_stood(warehouse, figures_through: int, day: dt.date) -> dict:
    con = connect(warehouse, read_only=True)
    try:
        rows = read_as_it_stood(con, SQL_DIR, "kpi_early_warning", figures_through, day)
        monthly = con.execute("select year, month, variety, monthly_tce from staging.stg_energy__monthly"
                              ).fetchall()
        series = dict(((k, y), v) for k, y, v in con.execute("select * from kpi.kpi_series").fetchall())
        gdp = dict(con.execute("select year, gdp_2020_prices_cny from staging.stg_energy__gdp").fetchall())
    finally:
        con.close()
    return {"rows": {(r["kpi_id"], r["year"], r["through_month"]): r for r in rows},
            "monthly": monthly, "series": series, "gdp": gdp}


def ytd(monthly, year: int, months: int, variety: str | None = None) -> float:
    return sum(v for y, m, var, v in monthly if y == year and m <= months and variety in (None, var))


def test_on_20_july_2025_raw_coal_pages_red_from_january_to_june(default_warehouse):
    # the yearly figures end in 2024; July is not over, so the months are January to June
    got = as_it_stood(default_warehouse, 2024, dt.date(2025, 7, 20))
    rows, monthly, series = got["rows"], got["monthly"], got["series"]
    assert not any(r["through_month"] == 7 and r["year"] == 2025 for r in rows.values())
    coal = rows["raw_coal_consumption", 2025, 6]
    ratio = ytd(monthly, 2025, 6, "原煤") / ytd(monthly, 2024, 6, "原煤")
    assert coal["projected_value"] == pytest.approx(series["raw_coal_consumption", 2024] * ratio, abs=1e-3)
    assert (coal["required_value"], coal["requirement_kind"], coal["checkpoint_year"]) == (
        660, "target", 2025)
    assert coal["warning_level"] == 1 and coal["is_current"] and coal["prev_year_basis"] == "published"
    assert coal["actual_value"] is None  # 2025's figure is not out on that day

    share = rows["nonfossil_energy_share", 2025, 6]
    ratio = ((ytd(monthly, 2025, 6, "一次电力及其他") / ytd(monthly, 2025, 6))
             / (ytd(monthly, 2024, 6, "一次电力及其他") / ytd(monthly, 2024, 6)))
    assert share["projected_value"] == pytest.approx(series["nonfossil_energy_share", 2024] * ratio, abs=1e-3)
    assert share["warning_level"] == 3

    # energy per unit GDP: the energy so far per unit of each year's GDP (2025's is published here)
    gdp = got["gdp"]
    ratio = (ytd(monthly, 2025, 6) / gdp[2025]) / (ytd(monthly, 2024, 6) / gdp[2024])
    before = series["energy_intensity_change", 2024]
    intensity = rows["energy_intensity_change", 2025, 6]
    assert intensity["projected_value"] == pytest.approx(100 * ((1 + before / 100) * ratio - 1), abs=1e-3)


def test_in_the_spring_last_year_is_its_own_projection(default_warehouse):
    # on 30 April 2025 the yearly figures end in 2023: 2024 is projected from its twelve months
    rows = as_it_stood(default_warehouse, 2023, dt.date(2025, 4, 30))["rows"]
    coal_2024, coal_2025 = rows["raw_coal_consumption", 2024, 12], rows["raw_coal_consumption", 2025, 4]
    assert coal_2024["is_current"] and coal_2024["prev_year_basis"] == "published"
    assert coal_2025["prev_year_basis"] == "projected"
    assert coal_2025["prev_year_value"] == pytest.approx(coal_2024["projected_value"], abs=1e-3)
    assert "2024年预计" in coal_2025["warning_reason_zh"]


def test_once_the_year_is_published_the_warning_is_history(default_warehouse):
    rows = as_it_stood(default_warehouse, 2025, dt.date(2026, 3, 1))["rows"]
    assert not any(r["is_current"] for r in rows.values())
    december = rows["raw_coal_consumption", 2025, 12]
    # the monthly table adds up to the yearly figures: the twelve-month projection lands on them
    assert december["actual_value"] == 671 and december["projected_value"] == pytest.approx(671, abs=0.05)


def test_a_month_missing_breaks_the_year_to_date(warehouse_copy, mianyang_sources):
    from tests.helpers import build

    con = connect(warehouse_copy)
    try:
        con.execute("delete from raw.energy__monthly where year = 2024 and month = 7")
        build(con, mianyang_sources)
        months_2024 = con.execute("select max(month) from kpi.kpi_ytd_series where kpi_id = "
                                  "'raw_coal_consumption' and year = 2024").fetchone()[0]
        august = as_dicts(con.execute("select * from kpi.kpi_early_warning where kpi_id = "
                                      "'raw_coal_consumption' and year = 2025 and through_month = 8"))[0]
    finally:
        con.close()
    assert months_2024 == 6  # January to June only: a year to date has no holes
    assert august["warning_level"] is None and august["projected_value"] is None
    assert august["warning_reason_zh"] == "2025年1–8月上年同期无数据，无法同比推算"


def test_kpi_status_carries_the_current_warning(warning_warehouse):
    con = connect(warning_warehouse, read_only=True)
    try:
        rows = {r["kpi_id"]: r for r in as_dicts(con.execute(
            "select * from kpi.kpi_status where early_warning_year is not null"))}
    finally:
        con.close()
    assert set(rows) == {"raw_coal_consumption", "energy_intensity_change", "nonfossil_energy_share"}
    coal = rows["raw_coal_consumption"]
    assert (coal["checkpoint_year"], coal["early_warning_year"], coal["early_warning_through_month"],
            coal["early_warning_level"]) == (2025, 2025, 12, 1)
    assert coal["early_warning_reason_zh"].startswith("按2025年1–12月同比")
    assert rows["nonfossil_energy_share"]["early_warning_level"] == 3


def test_a_top_n_window_over_kpi_status_works_through_our_connection(default_warehouse):
    # DuckDB 1.5.5's top-N window rewrite fails this query ("Type mismatch for SET OPERATION");
    # warehouse.db.connect turns that rewrite off, so `carbonpeak sql` answers it
    con = connect(default_warehouse, read_only=True)
    try:
        first = con.execute("select kpi_id, checkpoint_year from kpi.kpi_status qualify row_number() "
                            "over (partition by kpi_id order by checkpoint_year) = 1").fetchall()
    finally:
        con.close()
    assert len(first) == 34 and ("clean_power_capacity", 2025) in first

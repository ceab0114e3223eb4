"""The status logic of `kpi.kpi_status`, table-driven on crafted series (the real SQL model)."""

from __future__ import annotations

import shutil

import pytest
import yaml

from flows.settings import PROJECT_ROOT
from warehouse.catalogue import load_catalogue, read_catalogue
from warehouse.db import connect
from warehouse.models import build_models

REAL_SOURCES = yaml.safe_load((PROJECT_ROOT / "dbt_like_sql" / "sources.yml").read_text(encoding="utf-8"))
SOURCES = {"sources": [
    {"name": "config", "schema": "config", "tables": [{"name": "kpis"}, {"name": "kpi_checkpoints"}]},
    {"name": "test", "schema": "test", "tables": [{"name": "series"}]},
    next(s for s in REAL_SOURCES["sources"] if s["name"] == "meta"),  # created empty by the build
]}

# (direction, qualifier, target, tolerance, {year: value}, checkpoint year, expected status)
CASES = {
    "rising_fast_enough": ("higher_is_better", "at_least", 60, None,
                           {2019: 40, 2020: 44, 2021: 48, 2022: 52}, 2025, "on_track"),
    "rising_slightly_short": ("higher_is_better", "at_least", 60, None,
                              {2019: 45.5, 2020: 47.5, 2021: 49.5, 2022: 51.5}, 2025, "at_risk"),
    "met_now_but_falling": ("higher_is_better", "at_least", 50, None,
                            {2019: 60, 2020: 57, 2021: 54, 2022: 51}, 2025, "at_risk"),
    "far_off": ("higher_is_better", "at_least", 90, None,
                {2019: 40, 2020: 41, 2021: 42, 2022: 43}, 2025, "off_track"),
    "cap_heading_down": ("lower_is_better", "at_most", 660, None,
                         {2019: 700, 2020: 690, 2021: 680, 2022: 670}, 2025, "on_track"),
    "cut_reached": ("lower_is_better", "at_least", -14, None,
                    {2020: 0, 2022: -8, 2025: -14.6}, 2025, "achieved"),
    "cut_missed": ("lower_is_better", "at_least", -14, None,
                   {2020: 0, 2022: -8, 2025: -12}, 2025, "off_track"),
    "about_within_band": ("higher_is_better", "about", 45, 1.0,
                          {2023: 44.2, 2024: 44.5, 2025: 44.3}, 2025, "achieved"),
    "about_below_band": ("higher_is_better", "about", 45, 1.0,
                         {2023: 43.0, 2024: 43.5, 2025: 43.8}, 2025, "off_track"),
    "strive_far_off": ("higher_is_better", "strive", 450, None,
                       {2021: 180, 2022: 190, 2023: 200, 2024: 210, 2025: 218.7}, 2030, "off_track"),
    "two_points_only": ("higher_is_better", "at_least", 60, None,
                        {2021: 50, 2022: 55}, 2025, "insufficient_data"),
    "checkpoint_year_missing": ("higher_is_better", "at_least", 60, None,
                                {2023: 58, 2024: 59, 2026: 61}, 2025, "insufficient_data"),
    "no_data": ("higher_is_better", "full", 100, None, {}, 2025, "insufficient_data"),
}


@pytest.fixture(scope="module")
def statuses(tmp_path_factory):
    root = tmp_path_factory.mktemp("status")
    project = root / "project"
    (project / "kpi").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "dbt_like_sql" / "kpi" / "kpi_status.sql", project / "kpi")
    (project / "kpi" / "kpi_series.sql").write_text("select * from {{ source('test', 'series') }}")
    (project / "sources.yml").write_text(yaml.safe_dump(SOURCES))
    kpis = [{"id": name, "name_zh": name, "name_en": name, "unit": "%", "direction": d,
             "checkpoints": [{"year": year, "target_value": t, "qualifier": q, "tolerance": tol}]}
            for name, (d, q, t, tol, _, year, _) in CASES.items()]
    (root / "kpis.yml").write_text(yaml.safe_dump({"kpis": kpis}, allow_unicode=True))
    catalogue = read_catalogue(root / "kpis.yml")

    con = connect(root / "w.duckdb")
    con.execute("create schema test; create table test.series (kpi_id varchar, year integer, value double)")
    for name, case in CASES.items():
        for year, value in case[4].items():
            con.execute("insert into test.series values (?, ?, ?)", [name, year, value])
    build_models(con, project, seed=lambda c: load_catalogue(c, catalogue))
    rows = con.execute("select kpi_id, status, status_reason, projected_value from kpi.kpi_status").fetchall()
    con.close()
    return {r[0]: r[1:] for r in rows}


@pytest.mark.parametrize("name", CASES)
def test_status(statuses, name):
    status, reason, _ = statuses[name]
    assert status == CASES[name][-1], reason
    assert reason


def test_projection_is_the_least_squares_trend(statuses):
    # 40, 44, 48, 52 over 2019–2022: +4 a year, so 64 in 2025
    assert statuses["rising_fast_enough"][2] == pytest.approx(64)
    assert "trend projects 64 % in 2025 (latest 2022: 52)" in statuses["rising_fast_enough"][1]


def test_reasons_say_what_is_missing(statuses):
    assert "only 2 year(s) of data" in statuses["two_points_only"][1]
    assert "no value for 2025 although data runs to 2026" in statuses["checkpoint_year_missing"][1]
    assert "not ingested" in statuses["no_data"][1]
    assert statuses["about_within_band"][1] == "2025 value 44.3 % meets the target ≈ 45 %"

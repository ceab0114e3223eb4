"""The status engine `kpi.kpi_status`, table-driven on crafted series through the real SQL model.

Each case is one KPI: its series, its checkpoints and the status expected at each. The stale cases
also get the bookkeeping a run leaves (lineage, source health, validations) after the build: the
model is a view, so it reads them when queried.

Why ~420 lines: the table of crafted cases is the specification of the status rules.
"""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
from dataclasses import dataclass, field

import pytest
import yaml

from flows.settings import PROJECT_ROOT
from warehouse.catalogue import load_catalogue, read_catalogue
from warehouse.db import connect
from warehouse.models import build_models

REAL_SOURCES = yaml.safe_load((PROJECT_ROOT / "dbt_like_sql" / "sources.yml").read_text(encoding="utf-8"))
SOURCES = {"sources": [
    next(s for s in REAL_SOURCES["sources"] if s["name"] == "config"),
    {"name": "test", "schema": "test", "tables": [{"name": "series"}, {"name": "ytd"}]},
    next(s for s in REAL_SOURCES["sources"] if s["name"] == "meta"),  # created empty by the build
]}
AS_OF = dt.date(2026, 3, 1)  # the date the age of the data is judged on
UP, DOWN = "higher_is_better", "lower_is_better"
CHANGE = "% change vs base"


@dataclass(frozen=True)
class Case:
    series: dict[int, float]
    checkpoints: dict[int, tuple]  # year: (qualifier, target)
    expected: dict[int, str]  # year: status
    direction: str = UP
    unit: str = "%"
    base_year: int | None = None
    after: str | None = None  # after_last_checkpoint
    # the dataset behind the KPI: failed (at the last run), or the end of the latest period held
    source: str | dt.date | None = None
    words: dict[int, str] = field(default_factory=dict)  # year: words in the reason


def linear(first: int, start: float, step: float, n: int) -> dict[int, float]:
    return {first + i: round(start + step * i, 6) for i in range(n)}


CASES = {
    # --- levels and shares: projection and path -----------------------------------------------
    "rising_fast_enough": Case({2019: 40, 2020: 44, 2021: 48, 2022: 52}, {2025: ("at_least", 60)},
                               {2025: "on_track"}),
    "rising_slightly_short": Case({2019: 45.5, 2020: 47.5, 2021: 49.5, 2022: 51.5},
                                  {2025: ("at_least", 60)}, {2025: "at_risk"},
                                  words={2025: "short by 2.5"}),
    # the trend reaches the 2030 target, but the latest value is behind the straight path
    "behind_the_path_narrowly": Case({2020: 40, **linear(2021, 38, 2.5, 5)}, {2030: ("at_least", 60)},
                                     {2030: "at_risk"}, words={2030: "2 behind it"}),
    "behind_the_path_far": Case({2020: 40, **linear(2021, 30, 4, 5)}, {2030: ("at_least", 60)},
                                {2030: "off_track"}),
    "met_now_but_falling_fast": Case({2019: 60, 2020: 57, 2021: 54, 2022: 51}, {2025: ("at_least", 50)},
                                     {2025: "off_track"}),
    # the base already meets the target: the path holds the target; the trend slips just under it
    "met_now_slipping": Case({2019: 52, 2020: 51.5, 2021: 51, 2022: 50.5}, {2025: ("at_least", 50)},
                             {2025: "at_risk"}),
    "far_off": Case({2019: 40, 2020: 41, 2021: 42, 2022: 43}, {2025: ("at_least", 90)}, {2025: "off_track"}),
    # --- noisy series: Theil–Sen against least squares -------------------------------------------
    "spike_in_latest_year": Case({2018: 50, 2019: 52, 2020: 54, 2021: 56, 2022: 70},
                                 {2025: ("at_least", 70)}, {2025: "off_track"}),
    "dip_in_a_middle_year": Case({2018: 50, 2019: 52, 2020: 40, 2021: 56, 2022: 58},
                                 {2025: ("at_least", 62)}, {2025: "on_track"}),
    # --- caps and floors ---------------------------------------------------------------------------
    "cap_heading_down": Case({2019: 700, 2020: 690, 2021: 680, 2022: 670}, {2025: ("at_most", 660)},
                             {2025: "on_track"}, direction=DOWN, unit="万吨"),
    "cap_missed": Case(linear(2020, 640, 6.2, 6), {2025: ("at_most", 660)}, {2025: "off_track"},
                       direction=DOWN, unit="万吨", words={2025: "missed: 2025 value 671 万吨 against "
                                                                   "the target ≤ 660 万吨"}),
    # --- relative targets: % change vs base, compound path -----------------------------------
    "cut_reached": Case({2020: 0, 2022: -8, 2025: -14.6}, {2025: ("at_least", -14)}, {2025: "achieved"},
                        direction=DOWN, unit=CHANGE, base_year=2020),
    "cut_missed": Case({2020: 0, 2022: -8, 2025: -12}, {2025: ("at_least", -14)}, {2025: "off_track"},
                       direction=DOWN, unit=CHANGE, base_year=2020),
    # -28 % in 2025 is ahead of a straight line to -50 % in 2030 (-25 %) but behind the constant
    # yearly rate (-29.29 %): at risk, although the trend reaches the target
    "compound_path_behind": Case({2020: 0, **linear(2021, -5.6, -5.6, 5)}, {2030: ("at_least", -50)},
                                 {2030: "at_risk"}, direction=DOWN, unit=CHANGE, base_year=2020),
    # two `about` checkpoints of a relative KPI: the first observed, the second projected
    "about_cut_two_checkpoints": Case(linear(2020, 0, -1.02, 6),
                                      {2025: ("about", -5), 2030: ("about", -9.5)},
                                      {2025: "achieved", 2030: "on_track"}, direction=DOWN, unit=CHANGE,
                                      base_year=2020),
    # --- about (左右) ------------------------------------------------------------------------------
    "about_within_band": Case({2023: 44.2, 2024: 44.5, 2025: 44.3}, {2025: ("about", 45)},
                              {2025: "achieved"}),
    "about_below_band": Case({2023: 43.0, 2024: 43.5, 2025: 43.8}, {2025: ("about", 45)},
                             {2025: "off_track"}),
    "about_above_band": Case({2023: 46.0, 2024: 47.0, 2025: 47.5}, {2025: ("about", 45)},
                             {2025: "achieved"}),
    # --- strive (力争): judged the same way, never paged -------------------------------------------
    "strive_far_off": Case(linear(2021, 180, 10, 4) | {2025: 218.7}, {2030: ("strive", 450)},
                           {2030: "off_track"}, unit="万千瓦"),
    "strive_on_track": Case(linear(2020, 20, 5, 4), {2025: ("strive", 40)}, {2025: "on_track"}),
    # --- rising (稳中有升): after the last checkpoint each year at least the last --------------
    "rising_kept": Case({2023: 44.0, 2024: 45.0, 2025: 46.0, 2026: 46.5, 2027: 47.0},
                        {2025: ("about", 45)}, {2025: "achieved"}, after="rising",
                        words={2025: "it has not fallen since (latest 2027: 47)"}),
    "rising_broken": Case({2023: 44.0, 2024: 45.0, 2025: 46.0, 2026: 45.5, 2027: 46.2},
                          {2025: ("about", 45)}, {2025: "off_track"}, after="rising",
                          words={2025: "it fell from 46 in 2025 to 45.5 in 2026"}),
    # --- full (全部, 100 %): achieved only at 99.95 or more -------------------------------------
    "full_reached": Case({2023: 98.0, 2024: 99.5, 2025: 99.96}, {2025: ("full", 100)}, {2025: "achieved"}),
    "full_short": Case({2023: 98.0, 2024: 99.5, 2025: 99.9}, {2025: ("full", 100)}, {2025: "off_track"}),
    "full_projected": Case(linear(2020, 22.88, 11, 6), {2030: ("full", 100)}, {2030: "on_track"}),
    # --- ratio (1 charging point per 10 EVs = 0.1) --------------------------------------------
    "ratio_on_track": Case(linear(2020, 0.072, 0.008, 4), {2025: ("at_least", 0.1)}, {2025: "on_track"},
                           unit="ratio", words={2025: "the target ≥ 0.1 ratio (1:10)"}),
    "ratio_short": Case(linear(2020, 0.06, 0.002, 4), {2025: ("at_least", 0.1)}, {2025: "off_track"},
                        unit="ratio"),
    # --- two checkpoints on one KPI ----------------------------------------------------------------
    "two_checkpoints_forest": Case({2020: 54.83, 2021: 55.16, 2022: 55.48, 2023: 55.81, 2024: 56.13},
                                   {2025: ("at_least", 56.5), 2030: ("at_least", 56.5)},
                                   {2025: "at_risk", 2030: "on_track"}),
    "two_checkpoints_strive": Case(linear(2020, 165, 10.74, 6),
                                   {2025: ("at_least", 210), 2030: ("strive", 450)},
                                   {2025: "achieved", 2030: "off_track"}, unit="万千瓦"),
    # --- peak year (unit year): the view's estimate against 2030 ----------------------------------
    "peak_in_time": Case({2023: 2031, 2024: 2030, 2025: 2028}, {2030: ("at_most", 2030)},
                         {2030: "on_track"}, direction=DOWN, unit="year",
                         words={2030: "projected peak in 2028"}),
    "peak_late": Case({2024: 2035, 2025: 2033}, {2030: ("at_most", 2030)}, {2030: "off_track"},
                      direction=DOWN, unit="year", words={2030: "projected peak in 2033"}),
    "peak_passed": Case({2024: 2018, 2025: 2018}, {2030: ("at_most", 2030)}, {2030: "achieved"},
                        direction=DOWN, unit="year", words={2030: "peaked in 2018"}),
    # --- too little data ----------------------------------------------------------------------------
    "two_points_only": Case({2021: 50, 2022: 55}, {2025: ("at_least", 60)}, {2025: "insufficient_data"},
                            words={2025: "only 2 years of data (2021–2022): at least 3"}),
    "one_point_only": Case({2022: 55}, {2025: ("at_least", 60)}, {2025: "insufficient_data"},
                           words={2025: "only 1 year of data (2022)"}),
    "checkpoint_year_missing": Case({2023: 58, 2024: 59, 2026: 61}, {2025: ("at_least", 60)},
                                    {2025: "insufficient_data"},
                                    words={2025: "no value for 2025 although data runs to 2026"}),
    "no_data": Case({}, {2025: ("full", 100)}, {2025: "insufficient_data"}, words={2025: "not ingested"}),
    # --- stale: a failed source, or data older than its department's publication allows ----------
    "stale_failed_source": Case({2019: 40, 2020: 44, 2021: 48, 2022: 52}, {2025: ("at_least", 60)},
                                {2025: "stale"}, source="failed",
                                words={2025: "the testdept source failed at the last run"}),
    # the department stopped after 2022: yearly, 180 days' lag, so 2023 was due by 2024-06-29
    "stopped_publishing": Case(linear(2018, 44, 1, 5), {2025: ("at_least", 45)}, {2025: "stale"},
                               source=dt.date(2022, 12, 31),
                               words={2025: "no new data from testdept (test__stopped_publishing) "
                                            "since 2022"}),
    # its latest year (2024) is as recent as a yearly department can be on 2026-03-01
    "published_in_time": Case(linear(2020, 38, 1.5, 5), {2025: ("at_least", 45)}, {2025: "on_track"},
                              source=dt.date(2024, 12, 31)),
    # --- plan wording (左右, 超过, 稳定在…以上, already met, 进一步提高/下降, 力争 then 进一步提升) ------
    # 左右 is one rule in every unit: within 2 % of the target (60 % → ±1.2, 1.08 → ±0.0216, -5 → ±0.1)
    "about_missed_shows_the_band": Case({2023: 57.0, 2024: 58.0, 2025: 58.5}, {2025: ("about", 60)},
                                        {2025: "off_track"},
                                        words={2025: "against the target ≈ 60 % 左右 (band ±1.2), "
                                                     "1.5 points below it"}),
    "about_met_in_another_unit": Case({2028: 1.02, 2029: 1.04, 2030: 1.06}, {2030: ("about", 1.08)},
                                      {2030: "achieved"}, unit="亿立方米",
                                      words={2030: "左右 (band ±0.0216)"}),
    "about_missed_in_another_unit": Case({2028: 1.02, 2029: 1.04, 2030: 1.05}, {2030: ("about", 1.08)},
                                         {2030: "off_track"}, unit="亿立方米"),
    "about_cut_missed": Case({2020: 0, 2023: -3.5, 2025: -4.85}, {2025: ("about", -5)}, {2025: "off_track"},
                             direction=DOWN, unit=CHANGE, base_year=2020,
                             words={2025: "0.15 points above it"}),
    # inside the band before the year: on track and said to be met already, never `achieved` early
    "about_inside_band_early": Case({2022: 58.0, 2023: 58.6, 2024: 59.2}, {2025: ("about", 60)},
                                    {2025: "on_track"}, words={2025: "already met (已提前达到)"}),
    "more_than_equal_is_a_miss": Case({2023: 28.0, 2024: 29.0, 2025: 30.0}, {2025: ("more_than", 30)},
                                      {2025: "off_track"},
                                      words={2025: "equal to it, and 超过 means strictly more"}),
    "more_than_above": Case({2023: 28.0, 2024: 29.0, 2025: 30.01}, {2025: ("more_than", 30)},
                            {2025: "achieved"}, words={2025: "the target > 30 %"}),
    "at_least_equal_is_met": Case({2023: 28.0, 2024: 29.0, 2025: 30.0}, {2025: ("at_least", 30)},
                                  {2025: "achieved"}),
    # 稳定在56.5%以上: a year below the level after 2025 breaks the 2030 target at once
    "stay_broken_in_between": Case({2023: 56.0, 2024: 56.3, 2025: 56.6, 2026: 56.7, 2027: 56.4, 2028: 56.8},
                                   {2025: ("at_least", 56.5), 2030: ("stay_at_least", 56.5)},
                                   {2025: "achieved", 2030: "off_track"},
                                   words={2030: "fell below 56.5 % in 2027 (56.4)"}),
    "stay_kept": Case({2023: 56.0, 2024: 56.3, 2025: 56.6, 2026: 56.7, 2027: 56.8},
                      {2025: ("at_least", 56.5), 2030: ("stay_at_least", 56.5)},
                      {2025: "achieved", 2030: "on_track"}),
    # a cap already undercut and still falling, a share already above its target: on track, met early
    "cap_already_met": Case({2021: 690, 2022: 675, 2023: 665, 2024: 655}, {2025: ("at_most", 660)},
                            {2025: "on_track"}, direction=DOWN, unit="万吨",
                            words={2025: "already met (已提前达到): latest 2024 value 655 万吨"}),
    "share_already_met": Case({2022: 61.0, 2023: 62.0, 2024: 63.0}, {2025: ("at_least", 60)},
                              {2025: "on_track"}, words={2025: "already met (已提前达到)"}),
    # 能效进一步提高 for a lower-is-better KPI: after 2025 the cut must keep growing
    "improving_broken_lower_is_better": Case(
        {2020: 0, 2022: -2.0, 2024: -3.0, 2025: -3.5, 2026: -3.8, 2027: -3.2}, {2025: ("at_least", -3)},
        {2025: "off_track"}, direction=DOWN, unit=CHANGE, base_year=2020, after="improving",
        words={2025: "it rose from -3.8 in 2026 to -3.2 in 2027"}),
    "improving_kept_lower_is_better": Case(
        {2020: 0, 2022: -2.0, 2024: -3.0, 2025: -3.5, 2026: -3.8}, {2025: ("at_least", -3)},
        {2025: "achieved"}, direction=DOWN, unit=CHANGE, base_year=2020, after="improving",
        words={2025: "it has not risen since (latest 2026: -3.8)"}),
    # 力争40% by 2025, then 进一步提升 (no 力争): a fall after 2025 pages although 2025 was a stretch goal
    "strive_then_fall_pages": Case({2023: 30.0, 2024: 35.0, 2025: 41.0, 2026: 43.0, 2027: 42.0},
                                   {2025: ("strive", 40)}, {2025: "off_track"}, after="rising",
                                   words={2025: "the fall breaks the plan's clause after it"}),
}
ROWS = [(name, year) for name, case in CASES.items() for year in case.expected]


def catalogue_entry(name: str, case: Case) -> dict:
    checkpoints = [{"year": year, "target_value": spec[1], "qualifier": spec[0]}
                   for year, spec in case.checkpoints.items()]
    return {"id": name, "name_zh": name, "name_en": name, "unit": case.unit, "direction": case.direction,
            "base_year": case.base_year, "after_last_checkpoint": case.after, "checkpoints": checkpoints}


def record_sources(con, name: str, source: str | dt.date) -> None:
    """What a run leaves about the dataset behind KPI `name`: lineage, health, the period held."""
    dataset, now = f"test__{name}", dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    con.execute("insert into meta.lineage values (?, ?)", [f"kpi.kpi_test__{name}", f"raw.{dataset}"])
    failed = source == "failed"
    con.execute("insert into meta.source_health values (?, 'testdept', ?, ?, ?, ?)",
                [dataset, "failed" if failed else "ok", now, now - dt.timedelta(days=30),
                 "source `testdept.x` (http://127.0.0.1:9): connection failed" if failed else None])
    held = dt.date(2025, 12, 31) if failed else source
    con.execute("insert into config.datasets values (?, 'testdept', '测试局', 'yearly', 'year', 180, ?)",
                [dataset, held])


def seed_context(con) -> None:
    """What a build writes besides the catalogue: the as-of date, and no dataset yet."""
    con.execute("create or replace table config.run_context as select ?::date as as_of, "
                "null::date as data_through", [AS_OF])
    con.execute("create or replace table config.datasets (dataset varchar, department varchar, "
                "department_zh varchar, cadence varchar, grain varchar, publication_lag_days integer, "
                "latest_period_end date)")


@pytest.fixture(scope="module")
def statuses(tmp_path_factory):
    root = tmp_path_factory.mktemp("status")
    project = root / "project"
    (project / "kpi").mkdir(parents=True)
    for model in ("kpi_status", "kpi_data_age", "kpi_required_path", "kpi_trend", "kpi_early_warning"):
        for suffix in (".sql", ".yml"):
            shutil.copy(PROJECT_ROOT / "dbt_like_sql" / "kpi" / f"{model}{suffix}", project / "kpi")
    (project / "kpi" / "kpi_series.sql").write_text("select * from {{ source('test', 'series') }}")
    # no monthly data in these cases: the early warning (tests/warehouse/test_early_warning.py) is empty
    (project / "kpi" / "kpi_ytd_series.sql").write_text("select * from {{ source('test', 'ytd') }}")
    (project / "sources.yml").write_text(yaml.safe_dump(SOURCES))
    doc = {"reference_year": 2020, "kpis": [catalogue_entry(n, c) for n, c in CASES.items()]}
    (root / "kpis.yml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    catalogue = read_catalogue(root / "kpis.yml")
    # built first, so the models' own tests run on the crafted series (they are views)

    con = connect(root / "w.duckdb")
    con.execute("create schema test; create table test.series (kpi_id varchar, year integer, value double);"
                "create table test.ytd (kpi_id varchar, year integer, month integer, ytd_value double)")
    con.executemany("insert into test.series values (?, ?, ?)",
                    [(n, y, v) for n, c in CASES.items() for y, v in c.series.items()])
    build_models(con, project, seed=lambda c: (load_catalogue(c, catalogue), seed_context(c)))
    for name, case in CASES.items():
        if case.source:
            record_sources(con, name, case.source)
    cursor = con.execute("select * from kpi.kpi_status")
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    con.close()
    return {(r["kpi_id"], r["checkpoint_year"]): r for r in rows}


@pytest.mark.parametrize("name, year", ROWS, ids=[f"{n}-{y}" for n, y in ROWS])
def test_status(statuses, name, year):
    row, case = statuses[name, year], CASES[name]
    assert row["status"] == case.expected[year], row["status_reason"]
    assert row["status_reason"]
    if year in case.words:
        assert case.words[year] in row["status_reason"]


def test_every_case_is_a_row_and_every_status_is_covered(statuses):
    assert set(statuses) == set(ROWS)
    assert {r["status"] for r in statuses.values()} == {
        "achieved", "on_track", "at_risk", "off_track", "insufficient_data", "stale"}


def test_path_and_projection_by_hand(statuses):
    # 44 in 2020 (the base) to 60 in 2025: 50.4 expected in 2022; +4 a year from 52 gives 64
    row = statuses["rising_fast_enough", 2025]
    assert (row["base_year"], row["base_value"], row["path_kind"]) == (2020, 44, "linear")
    assert row["expected_value"] == pytest.approx(50.4)
    assert row["path_gap"] == pytest.approx(1.6)
    assert (row["projected_value"], row["gap"], row["projection_method"]) == (64, 4, "theil_sen")
    assert row["required_path"] == "linear 44 (2020) → 60 (2025) %: +3.2 a year"
    assert row["status_reason_en"].startswith(
        "trend projects 64 % in 2025 (latest 2022: 52), meeting the target ≥ 60 %")
    # forest coverage: 54.83 (2020) → 56.5 (2025) gives 56.166 in 2024; the trend +0.325 a year
    first, second = statuses["two_checkpoints_forest", 2025], statuses["two_checkpoints_forest", 2030]
    assert first["expected_value"] == second["expected_value"] == pytest.approx(56.17)
    assert first["projected_value"] == pytest.approx(56.46)  # 56.13 + 0.325
    assert second["projected_value"] == pytest.approx(58.08)  # 56.13 + 6 × 0.325
    assert first["slope_per_year"] == pytest.approx(0.325)
    assert "(latest 2024: 56.13) against the target ≥ 56.5 %" in first["status_reason_en"]


def test_a_later_checkpoint_s_path_runs_through_the_earlier_target(statuses):
    row = statuses["two_checkpoints_strive", 2030]
    assert row["expected_value"] == pytest.approx(210)  # in 2025, on the way to 450 in 2030
    assert row["required_path"] == ("linear 165 (2020) → 210 (2025) → 450 (2030) 万千瓦: "
                                    "+9, then +48 a year")
    assert row["projected_value"] == pytest.approx(218.7 + 5 * 10.74)


def test_a_percent_change_target_follows_a_constant_yearly_rate(statuses):
    row = statuses["compound_path_behind", 2030]
    assert row["path_kind"] == "compound" and (row["base_year"], row["base_value"]) == (2020, 0)
    assert row["expected_value"] == pytest.approx(100 * (0.5 ** 0.5 - 1), abs=0.005)  # -29.29
    assert row["required_path"] == ("compound 0 (2020) → -50 (2030) % change vs base: "
                                    "-6.7 % of the underlying level a year")
    assert row["projected_value"] == pytest.approx(-56)
    assert "expects -29.29 in 2025: 1.29 behind it (more than 2 % of the target)" in row["status_reason"]
    # the first of two relative checkpoints is a vertex of the second's path
    assert statuses["about_cut_two_checkpoints", 2030]["expected_value"] == pytest.approx(-5)


def test_a_base_that_meets_the_target_gives_a_flat_path(statuses):
    row = statuses["met_now_slipping", 2025]
    assert (row["base_value"], row["expected_value"], row["projected_value"]) == (51.5, 50, 49)


def least_squares_projection(series: dict[int, float], year: int) -> float:
    slope, intercept = statistics.linear_regression(list(series), list(series.values()))
    return slope * year + intercept


@pytest.mark.parametrize("name, theil_sen, status_by_least_squares", [
    ("spike_in_latest_year", 64, "on_track"),  # least squares: 78.4, pulled up by 2022
    ("dip_in_a_middle_year", 64, "at_risk"),  # least squares: 61.2, pulled down by 2020
])
def test_theil_sen_shrugs_off_one_odd_year(statuses, name, theil_sen, status_by_least_squares):
    case = CASES[name]
    target = case.checkpoints[2025][1]
    ls = least_squares_projection(case.series, 2025)
    assert ls != pytest.approx(theil_sen)
    # what least squares would have said with the same tolerances (5 % of the target)
    assert status_by_least_squares == ("on_track" if ls >= target else
                                       "at_risk" if ls >= 0.95 * target else "off_track")
    row = statuses[name, 2025]
    assert row["projected_value"] == pytest.approx(theil_sen)
    assert row["status"] != status_by_least_squares


def test_strive_targets_are_reported_but_never_paged(statuses):
    for name, year in ROWS:
        row = statuses[name, year]
        if name == "strive_then_fall_pages":
            continue
        assert row["is_pageable"] is (row["qualifier"] != "strive"), (name, year)
        assert ("力争" in row["status_reason"]) is (row["qualifier"] == "strive"), (name, year)
    assert statuses["two_checkpoints_strive", 2025]["is_pageable"] is True


def test_a_fall_after_a_strive_checkpoint_breaks_a_clause_that_is_no_stretch_goal(statuses):
    row = statuses["strive_then_fall_pages", 2025]
    assert row["qualifier"] == "strive" and row["is_pageable"] is True
    assert "it fell from 43 in 2026 to 42 in 2027" in row["status_reason_en"]
    assert "其后的下降违反了非力争条款" in row["status_reason_zh"]


def test_stale_says_why_and_what_the_values_show(statuses):
    failed = statuses["stale_failed_source", 2025]
    assert failed["has_failed_source"] and not failed["has_late_data"]
    assert failed["performance_status"] == "on_track"
    assert "connection failed" in failed["status_reason"]
    assert "The last values show on_track: trend projects 64 %" in failed["status_reason_en"]
    assert failed["status_reason_zh"].startswith("数据过期：testdept上次采集失败")
    late = statuses["stopped_publishing", 2025]
    assert late["has_late_data"] and not late["has_failed_source"]
    assert late["stale_datasets"] == "test__stopped_publishing"
    assert late["status_reason_en"].startswith(
        "stale: late data: no new data from testdept (test__stopped_publishing) since 2022: yearly "
        "periods are due 180 days after they end, so 2023 was due by 2024-06-28 and 2024 by "
        "2025-06-29 (as of 2026-03-01). The last values show ")
    assert late["status_reason_zh"].startswith(
        "数据过期：数据迟报：测试局（testdept）的test__stopped_publishing数据自2022年以来没有更新："
        "年度数据应在期末后180天内发布，2023年数据应于2024-06-28前发布，2024年数据应于2025-06-29前发布"
        "（截至2026-03-01）。按最近的数值：")
    fresh = statuses["published_in_time", 2025]  # 2025 is not due before 2026-06-29
    assert not fresh["has_late_data"] and fresh["stale_datasets"] is None


def test_reasons_are_plain_in_both_languages(statuses):
    assert statuses["about_within_band", 2025]["status_reason_en"] == \
        "2025 value 44.3 % meets the target ≈ 45 % 左右 (band ±0.9)"
    assert statuses["about_within_band", 2025]["status_reason_zh"] == \
        "2025年实际值44.3%，达到目标≈45%左右（允许偏差±0.9）"
    assert statuses["far_off", 2025]["status_reason_en"] == (
        "trend projects 46 % in 2025 (latest 2022: 43) against the target ≥ 90 %, short by 44 "
        "(more than 5 % of the target); the plan's path expects 60.6 in 2022: 17.6 behind it "
        "(more than 5 % of the target)")
    assert statuses["far_off", 2025]["status_reason_zh"] == (
        "按趋势推算2025年为46%（最新2022年：43），未达到目标≥90%，差44（超过目标的5%）；"
        "按规划路径2022年应为60.6，落后17.6（超过目标的5%）")
    assert statuses["two_checkpoints_strive", 2030]["status_reason_en"].endswith(
        "8.7 ahead of it. 力争 (strive) target: reported, never paged")
    assert statuses["no_data", 2025]["projected_value"] is None
    for row in statuses.values():  # Chinese first, English beside it
        assert row["status_reason"] == f"{row['status_reason_zh']} / {row['status_reason_en']}"
        assert any("\u4e00" <= ch <= "\u9fff" for ch in row["status_reason_zh"]), row["kpi_id"]


def test_the_about_band_is_one_rule_in_every_unit(statuses):
    bands = {(name, year): statuses[name, year]["target_band"] for name, year in ROWS
             if CASES[name].checkpoints[year][0] == "about"}
    for (name, year), band in bands.items():
        assert band == pytest.approx(0.02 * abs(CASES[name].checkpoints[year][1])), (name, year)
    assert bands["about_missed_shows_the_band", 2025] == pytest.approx(1.2)
    assert bands["about_met_in_another_unit", 2030] == pytest.approx(0.0216)
    assert bands["about_cut_missed", 2025] == pytest.approx(0.1)

"""Incremental models (warehouse/incremental.py): a later build equals a whole one, and moves less.

The meters' energy per sub-meter and day (`mart_buildings__meter_energy_daily`) is built once
whole; then, over real HTTP from the meters' feed, a late day, the days after it and a
re-published day arrive, and each later build recomputes only the days they touch. After every
step the table equals what a full refresh builds from the same warehouse, row for row, and so
does the buildings' energy per day built on it.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest

from connectors.spec import load_sources
from flows.settings import PROJECT_ROOT
from source_server import meters_data as md
from source_server.meters_feed import MetersFeed
from source_server.server import SourceServer
from tests.helpers import build, datasets_of, fetch_and_check_on
from tests.warehouse.native_support import landing_days, load_days
from warehouse import incremental
from warehouse.db import connect
from warehouse.errors import ModelError
from warehouse.load import load_batches
from warehouse.models import build_models

SOURCES = load_sources(PROJECT_ROOT / "config" / "mianyang" / "sources.yml")
# the buildings' day files and registers, not the day so far: nothing follows the last day file,
# so a day file emptied by a re-publication leaves no interval on its day at all
BUILDINGS_ONLY = datasets_of(SOURCES, "buildings", lambda d: d.name != "meter_readings_today")
METER_DAYS = "marts.mart_buildings__meter_energy_daily"
DAILY = "marts.mart_buildings__energy_daily"
SELECTED = "+mart_buildings__energy_daily"
START = dt.date(2026, 1, 30)
((LATE_DAY, LATE_PUBLISHED),) = md.late_days(START, START + dt.timedelta(days=7))
REVISED_DAY = LATE_DAY - dt.timedelta(days=2)  # re-published after the late day arrives
LAST_DAY = LATE_PUBLISHED - dt.timedelta(days=1)  # the newest day file once the late day is out
BUILDINGS = 3


def _rows(con, relation: str) -> list[tuple]:
    # floats to 12 significant digits: sums in another order differ in the last bits
    return sorted(tuple(f"{v:.12g}" if isinstance(v, float) else v for v in row)
                  for row in con.execute(f"select * exclude (_partitions_seq) from {relation}"
                                         if relation == METER_DAYS else f"select * from {relation}"
                                         ).fetchall())


@pytest.fixture(scope="module")
def steps(tmp_path_factory) -> dict[str, dict]:
    """After each step: the rows, a full refresh's rows, and what the incremental build logged."""
    folder = tmp_path_factory.mktemp("incremental")
    warehouse = folder / "warehouse.duckdb"
    feed = MetersFeed(buildings=BUILDINGS, start=START, as_of=LATE_PUBLISHED - dt.timedelta(days=1))
    found: dict[str, dict] = {}
    with SourceServer(meters=feed) as server:

        def step(name: str, as_of: dt.date) -> None:
            con = connect(warehouse)
            try:
                load_batches(con, fetch_and_check_on(con, BUILDINGS_ONLY, server.url, server.token,
                                                     folder / "downloads"))
                with _logged() as logged:  # the two marts and what they read, as the flow builds them
                    build(con, SOURCES, as_of, select=SELECTED)
                rows = {r: _rows(con, r) for r in (METER_DAYS, DAILY)}
            finally:
                con.close()
            copy = folder / f"{name}-refreshed.duckdb"  # the same warehouse, built whole
            shutil.copyfile(warehouse, copy)
            con = connect(copy)
            try:
                build(con, SOURCES, as_of, full_refresh=True, select=SELECTED)
                whole = {r: _rows(con, r) for r in (METER_DAYS, DAILY)}
            finally:
                con.close()
            found[name] = {"rows": rows, "whole": whole, "logged": logged}

        step("first", LATE_PUBLISHED - dt.timedelta(days=1))
        feed.set(as_of=LATE_PUBLISHED)
        step("late", LATE_PUBLISHED)
        feed.set(revisions={REVISED_DAY: 1})
        step("revised", LATE_PUBLISHED)
        _publish_refused_day(folder / "landing", warehouse)
        step("emptied", LATE_PUBLISHED)
        con = connect(warehouse)
        try:  # as if the table had been built under another city code: rebuilt whole
            con.execute(f"update {METER_DAYS} set city_code = '519901'")
        finally:
            con.close()
        step("recoded", LATE_PUBLISHED)
        step("nothing new", LATE_PUBLISHED)
    return found


def _publish_refused_day(landing: Path, warehouse: Path) -> None:
    """The last day re-published with every reading in a unit the suite refuses: none loads.

    Its new vintage has no rows, so its intervals vanish: replacing rows by key alone would
    keep the old ones (the model's pre_hook deletes them).
    """
    table = md.day_readings(LAST_DAY, BUILDINGS)
    table["unit"] = table["unit"].copy()
    table["unit"][:] = "kW"
    md.write_day_files(LAST_DAY, landing, BUILDINGS, formats=("csv",), readings=table)
    result, _ = load_days(warehouse, landing_days(landing, warehouse), LATE_PUBLISHED)
    assert result.rows_in and result.rows_loaded == 0  # all set aside (or exact repeats, dropped)
    assert result.rows_quarantined + result.rows_duplicate == result.rows_in


class _logged:
    """The runner's log lines of one build."""

    def __enter__(self) -> list[str]:
        self.lines: list[str] = []
        self.handler = logging.Handler()
        self.handler.emit = lambda record: self.lines.append(record.getMessage())
        self.logger = logging.getLogger("warehouse.models")
        self.level = self.logger.level
        self.logger.setLevel(logging.INFO)
        self.logger.addHandler(self.handler)
        return self.lines

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self.level)


def _incremental_line(logged: list[str]) -> str | None:
    return next((line for line in logged if line.startswith(f"{METER_DAYS}: incremental")), None)


@pytest.mark.parametrize("name", ["first", "late", "revised", "emptied", "recoded", "nothing new"])
def test_each_build_equals_a_full_refresh_row_for_row(steps, name):
    step = steps[name]
    assert step["rows"][METER_DAYS] and step["rows"][DAILY]
    assert step["rows"] == step["whole"]


def test_the_first_build_is_whole_and_later_ones_incremental(steps):
    assert _incremental_line(steps["first"]["logged"]) is None
    for name in ("late", "revised", "emptied", "recoded", "nothing new"):
        assert _incremental_line(steps[name]["logged"]) is not None, name


def test_a_day_whose_readings_are_all_refused_loses_its_old_rows(steps):
    # no interval is left on the emptied day, so no new row names it: the pre_hook removes it
    def days(name: str) -> set[dt.date]:
        return {r[2] for r in steps[name]["rows"][METER_DAYS]}
    assert max(days("revised")) == LAST_DAY and max(days("emptied")) == LAST_DAY - dt.timedelta(days=1)


def test_a_table_of_another_city_code_is_recomputed_whole(steps):
    line = _incremental_line(steps["recoded"]["logged"])
    rows = len(steps["recoded"]["rows"][METER_DAYS])
    assert line.endswith(f"{rows} row(s) replaced by {rows}")
    assert {r[0] for r in steps["recoded"]["rows"][METER_DAYS]} == {"510700"}


def test_a_late_day_recomputes_from_the_day_before_it(steps):
    # the late day and the days after it; the days before the one before it stay as they were
    line = _incremental_line(steps["late"]["logged"])
    before, after = steps["first"]["rows"][METER_DAYS], steps["late"]["rows"][METER_DAYS]
    kept = [r for r in before if r[2] < LATE_DAY - dt.timedelta(days=1)]
    assert kept and kept == [r for r in after if r[2] < LATE_DAY - dt.timedelta(days=1)]
    replaced = len([r for r in before if r[2] >= LATE_DAY - dt.timedelta(days=1)])
    recomputed = len([r for r in after if r[2] >= LATE_DAY - dt.timedelta(days=1)])
    assert line.endswith(f"{replaced} row(s) replaced by {recomputed}")
    # before, the late day held only the step across its gap (00:00 the day after closes it)
    def intervals(rows: list[tuple]) -> int:
        return sum(r[4] for r in rows if r[2] == LATE_DAY)
    meters = len({r[1] for r in before})
    assert intervals(before) == meters and intervals(after) > 90 * meters


def test_a_build_with_nothing_new_moves_no_row(steps):
    assert _incremental_line(steps["nothing new"]["logged"]).endswith("0 row(s) replaced by 0")
    assert steps["nothing new"]["rows"] == steps["recoded"]["rows"]


# -- the runner's side ---------------------------------------------------------------------------

def test_the_incremental_block_and_this_render_for_each_kind_of_build():
    sql = ("select * from t {% if is_incremental() %}where ts > (select max(ts) from {{ this }})"
           "{% else %}where true{% endif %}")
    assert incremental.render(sql, "marts.m", incremental=True) == (
        "select * from t where ts > (select max(ts) from marts.m)")
    assert incremental.render(sql, "marts.m", incremental=False) == "select * from t where true"
    assert incremental.render("select 1 {%- if is_incremental() -%} where x {%- endif -%}", "m",
                              incremental=False) == "select 1 "


def _project(tmp_path: Path, config: str, select: str = "select id, v from raw.t") -> Path:
    (tmp_path / "marts").mkdir(parents=True, exist_ok=True)
    (tmp_path / "marts" / "m.sql").write_text(f"{{{{ config({config}) }}}}\n{select}\n", encoding="utf-8")
    (tmp_path / "sources.yml").write_text("version: 2\nsources:\n  - name: raw\n    tables:\n"
                                          "      - name: t\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("config, says", [
    ("materialized='incremental', unique_key='id'", "incremental_strategy='delete+insert'"),
    ("materialized='incremental', incremental_strategy='merge', unique_key='id'",
     "incremental_strategy='delete+insert'"),
    ("materialized='incremental', incremental_strategy='delete+insert'", "unique_key="),
])
def test_an_incremental_model_without_its_strategy_or_key_is_refused_in_one_line(tmp_path, config, says):
    con = connect(tmp_path / "w.duckdb")
    try:
        with pytest.raises(ModelError, match="incremental model's config") as raised:
            build_models(con, _project(tmp_path, config))
    finally:
        con.close()
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_new_keys_are_added_changed_ones_replaced_and_a_changed_model_is_rebuilt_whole(tmp_path):
    config = "materialized='incremental', unique_key='id', incremental_strategy='delete+insert'"
    select = ("select id, v from raw.t {% if is_incremental() %}"
              "where id >= (select max(id) from {{ this }}){% endif %}")
    project = _project(tmp_path, config, select)
    con = connect(tmp_path / "w.duckdb")
    try:
        con.execute("create schema raw")
        con.execute("create table raw.t as select * from (values (1, 'a'), (2, 'b')) v(id, v)")
        build_models(con, project)
        con.execute("update raw.t set v = 'changed' where id = 1")  # before the table's newest key
        con.execute("insert into raw.t values (2, 'b2'), (3, 'c')")
        con.execute("delete from raw.t where id = 2 and v = 'b'")
        build_models(con, project)
        assert con.execute("select * from marts.m order by id").fetchall() == [
            (1, "a"), (2, "b2"), (3, "c")]  # 1 is older than the newest key: left as it was
        (project / "marts" / "m.sql").write_text(  # a new column: the table is built whole
            f"{{{{ config({config}) }}}}\nselect id, v, 1 as w from raw.t\n", encoding="utf-8")
        build_models(con, project)
        assert con.execute("select * from marts.m order by id").fetchall() == [
            (1, "changed", 1), (2, "b2", 1), (3, "c", 1)]
        build_models(con, project, full_refresh=True)
        assert con.execute("select count(*) from marts.m").fetchone()[0] == 3
    finally:
        con.close()


@pytest.mark.parametrize("config, key", [
    ("materialized='table', pre_hook='delete from raw.t'", "pre_hook"),
    ("materialized='incremental', unique_key='id', incremental_strategy='delete+insert', "
     "post_hook='select 1'", "post_hook"),
])
def test_a_config_argument_the_runner_would_not_honour_is_refused_not_ignored(tmp_path, config, key):
    con = connect(tmp_path / "w.duckdb")
    try:
        with pytest.raises(ModelError, match=f"argument `{key}` is not understood") as raised:
            build_models(con, _project(tmp_path, config))
    finally:
        con.close()
    assert "\n" not in str(raised.value)


def test_a_pre_hook_runs_before_a_whole_build_too_as_in_dbt(tmp_path):
    config = ("materialized='incremental', unique_key='id', incremental_strategy='delete+insert', "
              'pre_hook="insert into raw.log values (\'{% if is_incremental() %}later{% else %}whole'
              '{% endif %}\')"')
    project = _project(tmp_path, config)
    con = connect(tmp_path / "w.duckdb")
    try:
        con.execute("create schema raw")
        con.execute("create table raw.t as select * from (values (1, 'a')) v(id, v)")
        con.execute("create table raw.log (build varchar)")
        build_models(con, project)
        build_models(con, project)
        build_models(con, project, full_refresh=True)
        assert [b for (b,) in con.execute("select build from raw.log").fetchall()] == [
            "whole", "later", "whole"]
    finally:
        con.close()

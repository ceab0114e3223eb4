"""Day files loaded natively: over real HTTP into a real DuckDB file, checked by the real suite.

The history (first load, a rerun with nothing new, a late day, a re-published day) runs once per
module against one source server; each step leaves a copy of the warehouse that the tests read.
Landing-folder tests write the generator's own day files and then break them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from connectors.day_files import DayFiles
from connectors.errors import SourceRejected
from connectors.http import RetryPolicy
from expectations.gate import Batch
from source_server import meters_data as md
from source_server.meters_feed import MetersFeed
from source_server.server import SourceServer
from tests.helpers import fingerprint
from tests.warehouse.native_support import (
    DEPARTMENT,
    SPEC,
    TABLE,
    History,
    expected_day,
    expected_days,
    fault_free_days,
    fetch_days,
    landing_days,
    load_days,
    stage_and_check,
)
from warehouse.db import connect
from warehouse.load import LoadResult, load_batches
from warehouse.native import current_rows_sql, discard_staged, stage_day_files
from warehouse.raw import ensure_meta

# 4 buildings from 30 January: the first load's 8 days hold every fault the loader handles (see the
# guard in the first test), and 5 February is published 5 days late, after the days that follow it.
BUILDINGS = 4
START = dt.date(2026, 1, 30)
((LATE_DAY, LATE_PUBLISHED),) = md.late_days(START, START + dt.timedelta(days=7))
FIRST_AS_OF = LATE_PUBLISHED - dt.timedelta(days=1)  # the late day is not out yet
REVISED_DAY = dt.date(2026, 2, 7)  # a day with a clashing repeat
CURRENT = "select reading_date, meter_id, ts, reading from ({}) c"


@dataclass
class Step:
    """One run of the history: what was fetched, what loaded, and the warehouse as it stood after."""

    fetched: DayFiles
    result: LoadResult
    warehouse: Path
    download_dir: Path
    requests: int  # requests the source answered during the fetch
    manifest: dict


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    """First load → rerun with nothing new → the late day arrives → one day is re-published."""
    folder = tmp_path_factory.mktemp("native")
    warehouse = folder / "warehouse.duckdb"
    history = History()
    feed = MetersFeed(buildings=BUILDINGS, start=START, as_of=FIRST_AS_OF)
    with SourceServer(meters=feed) as server:

        def run(name: str, as_of: dt.date) -> None:
            downloads = folder / f"downloads-{name}"
            before = server.requests_served
            fetched = fetch_days(server, warehouse, downloads)
            requests = server.requests_served - before
            if fetched.files:
                result, _ = load_days(warehouse, fetched, as_of)
            else:  # as the validate task does: nothing to stage, the load records "unchanged"
                con = connect(warehouse)
                try:
                    (result,) = load_batches(con, [Batch(SPEC, fetched.provenance, pd.DataFrame())])
                finally:
                    con.close()
            copy = folder / f"{name}.duckdb"
            shutil.copyfile(warehouse, copy)
            history.steps[name] = Step(fetched, result, copy, downloads, requests,
                                       server.meters.manifest("csv"))

        run("first", FIRST_AS_OF)
        run("rerun", FIRST_AS_OF)
        server.meters.set(as_of=LATE_PUBLISHED)
        run("late", LATE_PUBLISHED)
        server.meters.set(revisions={REVISED_DAY: 1})
        run("revised", LATE_PUBLISHED)
    return history


def _current(con, day: dt.date | None = None) -> set[tuple]:
    spec_sql = CURRENT.format(current_rows_sql(SPEC))
    if day is None:
        return set(con.execute(spec_sql).fetchall())
    return set(con.execute(spec_sql + " where reading_date = ?", [day]).fetchall())


def _seq(con, load_id: str) -> int:
    """The number a load's rows carry (day-file rows carry no id: meta.load_log maps the two)."""
    return con.execute("select load_seq from meta.load_log where load_id = ?", [load_id]).fetchone()[0]


def _partitions(con) -> dict[dt.date, tuple[str, int]]:
    return {d: (load_id, rows) for d, load_id, rows in con.execute(
        "select partition_day, load_id, rows_loaded from meta.partitions where dataset = ?",
        [TABLE]).fetchall()}


# -- 1. first load -----------------------------------------------------------------------------

def test_the_first_load_keeps_the_generators_rows_minus_repeats_clashes_and_clock_shifts(history):
    step = history.steps["first"]
    days = [START + dt.timedelta(days=k) for k in range((FIRST_AS_OF - START).days)]
    days.remove(LATE_DAY)
    assert [f.day for f in step.fetched.files] == days == [
        dt.date.fromisoformat(f["day"]) for f in step.manifest["files"]]
    expected = expected_days(days, BUILDINGS)
    # the scenario is worth its name: every fault the loader handles is in it
    assert expected.duplicates and expected.clashing and expected.shifted

    con = history.con("first")
    assert _current(con) == expected.kept  # the very values, row for row
    r = step.result
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_duplicate, r.rows_quarantined, r.rows_rejected) == (
        "loaded", expected.rows_in, len(expected.kept), expected.duplicates,
        expected.clashing + expected.shifted, 0)
    logged = con.execute("select load_id, rows_in, rows_loaded, rows_quarantined, rows_duplicate, "
                         "rows_rejected, rows_unchanged from meta.load_log where dataset = ?",
                         [TABLE]).fetchall()
    assert len(logged) == 1
    load_id, rows_in, loaded, quarantined, duplicate, rejected, unchanged = logged[0]
    assert rows_in == loaded + quarantined + duplicate + rejected and unchanged == 0
    assert (load_id, rows_in, loaded) == (r.load_id, expected.rows_in, len(expected.kept))

    reasons = dict(con.execute(
        "select case when failed_checks like 'duplicate key:%' then 'clash' "
        "when failed_checks like '%clock shift%' then 'clock shift' else failed_checks end, count(*) "
        "from meta.quarantine where dataset = ? group by 1", [TABLE]).fetchall())
    assert reasons == {"clash": expected.clashing, "clock shift": expected.shifted}

    partitions = _partitions(con)
    assert sorted(partitions) == days
    for day in days:
        assert partitions[day] == (r.load_id, len(expected_day(day, BUILDINGS).kept))
    # each day file is remembered by its path on the server, with the manifest's sha256
    states = dict(con.execute("select source_key, payload_sha256 from meta.source_state "
                              "where dataset = ? and source_key like '/files/%'", [TABLE]).fetchall())
    assert states == {f["path"]: f["sha256"] for f in step.manifest["files"]}
    # nothing pending is left behind: raw holds exactly the current rows
    assert con.execute(f"select count(*) from raw.{TABLE}").fetchone()[0] == len(expected.kept)
    con.close()


# -- 2. nothing new ----------------------------------------------------------------------------

def test_a_rerun_with_nothing_new_downloads_nothing_and_writes_nothing(history):
    step = history.steps["rerun"]
    assert step.fetched.files == ()
    assert step.fetched.provenance.not_modified
    assert sorted(step.fetched.unchanged) == sorted(f["path"] for f in step.manifest["files"])
    assert step.requests == 1  # the manifest, and no day file
    assert list(step.download_dir.iterdir()) == []
    assert step.result.status == "unchanged" and step.result.rows_in == 0
    before, after = fingerprint(history.steps["first"].warehouse), fingerprint(step.warehouse)
    for table in (f"raw.{TABLE}", "meta.load_log", "meta.partitions", "meta.quarantine"):
        assert after[table] == before[table], table


# -- 3. a late day -----------------------------------------------------------------------------

def test_a_late_day_loads_on_its_own_and_leaves_the_earlier_days_alone(history):
    step = history.steps["late"]
    new_days = sorted(f.day for f in step.fetched.files)
    # the late day, after days that follow it were loaded, and the day published with it
    assert new_days == [LATE_DAY, FIRST_AS_OF]
    assert max(f.day for f in history.steps["first"].fetched.files) > LATE_DAY
    assert step.result.rows_in == sum(expected_day(d, BUILDINGS).rows_in for d in new_days)

    first, late = history.con("first"), history.con("late")
    before, after = _partitions(first), _partitions(late)
    assert {d: after[d] for d in before} == before  # same load, same rows
    assert {after[d][0] for d in new_days} == {step.result.load_id}
    for day in new_days:
        assert _current(late, day) == expected_day(day, BUILDINGS).kept
    assert _current(late) - _current(first) == expected_days(new_days, BUILDINGS).kept
    first_load = _seq(first, history.steps["first"].result.load_id)
    count = f"select count(*) from raw.{TABLE} where _load_seq = ?"
    assert late.execute(count, [first_load]).fetchone() == first.execute(count, [first_load]).fetchone()
    first.close()
    late.close()


# -- 4. a re-published day ---------------------------------------------------------------------

def test_a_republished_day_becomes_a_new_vintage_of_that_day_only(history):
    step = history.steps["revised"]
    assert [f.day for f in step.fetched.files] == [REVISED_DAY]
    before, after = history.con("late"), history.con("revised")
    old, new = _partitions(before), _partitions(after)
    assert new[REVISED_DAY][0] == step.result.load_id != old[REVISED_DAY][0]
    assert {d: v for d, v in new.items() if d != REVISED_DAY} == \
        {d: v for d, v in old.items() if d != REVISED_DAY}

    # the old rows stay in raw as the earlier vintage
    old_vintage = after.execute(f"select count(*) from raw.{TABLE} where _load_seq = ? and "
                                "reading_date = ?", [_seq(after, old[REVISED_DAY][0]), REVISED_DAY]
                                ).fetchone()[0]
    assert old_vintage == old[REVISED_DAY][1] > 0
    # current rows: one vintage per day, the revised values for the revised day, same count
    duplicated = after.execute(f"select count(*) from (select reading_date, meter_id, ts from "
                               f"({current_rows_sql(SPEC)}) group by all having count(*) > 1)"
                               ).fetchone()[0]
    assert duplicated == 0
    revised = expected_day(REVISED_DAY, BUILDINGS, revision=1).kept
    assert _current(after, REVISED_DAY) == revised != _current(before, REVISED_DAY)
    assert len(_current(after)) == len(_current(before))
    assert _current(after) - _current(after, REVISED_DAY) == _current(before) - _current(before, REVISED_DAY)
    before.close()
    after.close()


def test_a_republished_day_quarantines_the_same_records_once(history):
    before, after = history.con("late"), history.con("revised")
    count = "select count(*) from meta.quarantine where dataset = ?"
    lineage = after.execute("select count(*) from meta.quarantine where dataset = ? and "
                            "(raw_values ->> '_load_id') is not null", [TABLE]).fetchone()[0]
    same = after.execute(count, [TABLE]).fetchone() == before.execute(count, [TABLE]).fetchone()
    before.close()
    after.close()
    assert lineage == 0  # a quarantined record is the record as received, without lineage
    assert same  # the clashes of the re-published day were seen before: upserted, not added


def test_no_stage_view_outlives_its_load(history):
    con = history.con("revised")
    views = con.execute("select view_name from duckdb_views() where schema_name = 'stage'").fetchall()
    con.close()
    assert views == []  # stage objects never outlive the check (expectations/gate.py check_batch)


# -- the flow, end to end ----------------------------------------------------------------------

def test_the_ingest_flow_loads_the_day_files_then_skips_them(prefect_harness, tmp_path,
                                                             monkeypatch):
    from flows.ingest import ingest

    warehouse = tmp_path / "warehouse.duckdb"
    start, as_of = dt.date(2026, 2, 20), dt.date(2026, 2, 24)
    with SourceServer(meters=MetersFeed(buildings=2, start=start, as_of=as_of)) as server:
        monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse))
        monkeypatch.setenv("CARBONPEAK_AS_OF", as_of.isoformat())
        monkeypatch.setenv(DEPARTMENT.url_env, server.url)
        monkeypatch.setenv(DEPARTMENT.token_env, server.token)
        # two datasets fill the table: the day files, then the day so far (the API, until noon)
        files, today = [r for r in ingest("buildings") if r.dataset == TABLE]
        again = [r for r in ingest("buildings") if r.dataset == TABLE]
    days = [start + dt.timedelta(days=k) for k in range((as_of - start).days)]
    expected = expected_days(days, 2)
    assert (files.status, files.rows_in, files.rows_loaded) == ("loaded", expected.rows_in,
                                                                 len(expected.kept))
    assert today.status == "loaded" and today.rows_loaded > 0
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    downloads = warehouse.parent / "downloads" / TABLE
    assert list(downloads.iterdir()) == []  # each day file is removed once loaded
    con = connect(warehouse, read_only=True)
    assert {row for row in _current(con) if row[0] < as_of} == expected.kept
    assert con.execute("select count(*) from meta.load_log where dataset = ?", [TABLE]).fetchone()[0] == 2
    assert con.execute("select count(*) from meta.partitions where dataset = ?", [TABLE]).fetchone()[0] \
        == len(days) + 1  # and today, so far
    assert con.execute("select count(*) from meta.pending_loads").fetchone()[0] == 0
    con.close()


# -- landing folders: broken files ---------------------------------------------------------------

CLEAN = fault_free_days(2, 3)  # 2 buildings: 1,920 rows a day, no injected fault


def _land(folder: Path, days: list[dt.date], buildings: int = 2) -> dict[dt.date, Path]:
    """The generator's CSV day files in a landing folder, oldest first by modification time."""
    paths = {}
    for k, day in enumerate(days):
        (path,) = md.write_day_files(day, folder, buildings, formats=("csv",))
        os.utime(path, (1_700_000_000 + k, 1_700_000_000 + k))
        paths[day] = path
    return paths


def _raw_count(warehouse: Path, where: str = "true", params: list | None = None) -> int:
    con = connect(warehouse, read_only=True)
    try:
        return con.execute(f"select count(*) from raw.{TABLE} where {where}", params or []).fetchone()[0]
    finally:
        con.close()


def test_a_row_duckdb_cannot_cast_is_quarantined_with_duckdbs_reason(tmp_path):
    warehouse, day = tmp_path / "w.duckdb", CLEAN[0]
    path = _land(tmp_path / "landing", [day])[day]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    assert header == ["building_id", "meter_id", "ts", "reading", "unit"]
    broken = {11: (3, "abc"), 501: (2, "notatime")}  # line index → (field, what it now says)
    lost = set()
    for index, (column, value) in broken.items():
        fields = lines[index].rstrip("\n").split(",")
        lost.add((day, fields[1], dt.datetime.fromisoformat(fields[2]), float(fields[3])))
        fields[column] = value
        lines[index] = ",".join(fields) + "\n"
    path.write_text("".join(lines), encoding="utf-8")

    result, _ = load_days(warehouse, landing_days(tmp_path / "landing", warehouse), day)
    assert (result.status, result.rows_in, result.rows_loaded, result.rows_quarantined) == (
        "loaded", 1920, 1918, 2)
    con = connect(warehouse, read_only=True)
    quarantined = con.execute("select row_number, failed_checks, raw_values from meta.quarantine "
                              "where dataset = ? order by row_number", [TABLE]).fetchall()
    kept = _current(con)
    con.close()
    assert [n for n, _, _ in quarantined] == [12, 502]  # lines of the file (the header is line 1)
    (_, reading_reason, reading_raw), (_, ts_reason, ts_raw) = quarantined
    assert reading_reason.startswith("cast: ") and "abc" in reading_reason and "DOUBLE" in reading_reason
    assert ts_reason.startswith("cast: ") and "notatime" in ts_reason and "TIMESTAMP" in ts_reason
    assert ",abc," in json.loads(reading_raw)["line"] and ",notatime," in json.loads(ts_raw)["line"]
    expected = expected_day(day, 2).kept
    assert len(lost) == 2 and lost < expected
    assert kept == expected - lost  # the rest of the day loads, values and all


def test_a_quarantine_that_cannot_be_written_raises_its_own_error_and_loads_nothing(tmp_path):
    """A quarantine write that fails reports its own error, not its cleanup's.

    It fails inside the load's transaction (a constraint here; a full disk in life), and the
    cleanup after it cannot run in the aborted transaction.
    """
    warehouse, day = tmp_path / "w.duckdb", CLEAN[0]
    path = _land(tmp_path / "landing", [day])[day]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = lines[7].rstrip("\n").split(",")
    fields[2] = fields[2].replace(":00", ":07", 1)  # 7 minutes off the grid: the gate sets it aside
    lines[7] = ",".join(fields) + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    con = connect(warehouse)
    ensure_meta(con)  # then the same table, but refusing every record
    ddl = con.execute("select sql from duckdb_tables() where schema_name = 'meta' and "
                      "table_name = 'quarantine'").fetchone()[0]
    con.execute("drop table meta.quarantine")
    body = ddl.rstrip().rstrip(";")
    assert body.endswith(")")
    con.execute(body[:-1] + ", check (failed_checks = 'none'))")
    con.close()

    with pytest.raises(duckdb.ConstraintException, match="CHECK constraint failed"):
        load_days(warehouse, landing_days(tmp_path / "landing", warehouse), day)
    con = connect(warehouse)
    try:  # nothing committed: the staged rows wait as a listed pending load, read by no one
        assert con.execute("select count(*) from meta.load_log").fetchone()[0] == 0
        assert con.execute("select count(*) from meta.pending_loads").fetchone()[0] == 1
        assert _current(con) == set()
        con.execute("drop table meta.quarantine")
        con.execute(ddl)  # the disk has room again
    finally:
        con.close()
    result, _ = load_days(warehouse, landing_days(tmp_path / "landing", warehouse), day)
    assert (result.rows_loaded, result.rows_quarantined) == (1919, 1)
    assert _raw_count(warehouse) == 1919  # the failed load's rows are gone, not loaded twice


@pytest.fixture
def renamed_header(tmp_path) -> tuple[Path, dt.date, SourceRejected]:
    """A good day, then a day whose file calls `reading` `value`, staged as the validate task does."""
    warehouse = tmp_path / "w.duckdb"
    good, renamed = CLEAN[0], CLEAN[1]
    paths = _land(tmp_path / "landing", [good, renamed])  # the good day is staged first
    text = paths[renamed].read_text(encoding="utf-8")
    paths[renamed].write_text(text.replace("ts,reading,unit", "ts,value,unit", 1), encoding="utf-8")
    os.utime(paths[renamed], (1_700_000_100, 1_700_000_100))  # still the later file
    con = connect(warehouse)
    try:
        with pytest.raises(SourceRejected) as caught:
            stage_and_check(con, landing_days(tmp_path / "landing", warehouse), renamed)
    finally:
        con.close()
    return warehouse, renamed, caught.value


def test_a_file_without_a_mapped_column_is_refused_in_one_line_and_loads_nothing(renamed_header):
    warehouse, renamed, error = renamed_header
    message = str(error)
    assert "\n" not in message
    assert str(renamed) in message and "`reading`" in message and "value" in message
    con = connect(warehouse, read_only=True)
    assert con.execute("select count(*) from meta.load_log").fetchone()[0] == 0
    assert con.execute("select count(*) from meta.partitions").fetchone()[0] == 0
    assert _current(con) == set()
    con.close()


def test_a_file_without_a_mapped_column_leaves_no_pending_rows(renamed_header):
    warehouse, _, _ = renamed_header
    assert _raw_count(warehouse) == 0  # not even the good day's rows, pending


@pytest.fixture
def wrong_day(tmp_path) -> tuple[Path, LoadResult, dict[dt.date, Path]]:
    """Days A and C, and day A's file sent again under day B's name, loaded from a landing folder."""
    warehouse, landing = tmp_path / "w.duckdb", tmp_path / "landing"
    day_a, day_b, day_c = CLEAN
    paths = _land(landing, [day_a, day_c])
    paths[day_b] = landing / f"meters_{day_b}.csv"
    shutil.copyfile(paths[day_a], paths[day_b])
    result, _ = load_days(warehouse, landing_days(landing, warehouse), day_c)
    return warehouse, result, paths


def test_a_day_file_holding_another_days_readings_is_refused_alone(wrong_day):
    warehouse, result, paths = wrong_day
    day_a, day_b, day_c = CLEAN
    assert result.status == "loaded"
    assert result.detail and result.detail.startswith(f"{day_b} refused") and "another day" in result.detail
    assert str(day_a) not in result.detail and str(day_c) not in result.detail
    assert result.rows_in == 3 * 1920 and result.rows_loaded == 2 * 1920
    assert result.rows_in == (result.rows_loaded + result.rows_quarantined + result.rows_duplicate
                              + result.rows_rejected)
    con = connect(warehouse, read_only=True)
    assert sorted(_partitions(con)) == [day_a, day_c]
    assert _current(con) == expected_day(day_a, 2).kept | expected_day(day_c, 2).kept
    # the refused day's file is not remembered: once replaced, it is read again
    keys = {k for (k,) in con.execute("select source_key from meta.source_state where dataset = ?",
                                      [TABLE]).fetchall() if k.endswith(".csv")}  # not the folder
    assert keys == {str(paths[day_a].resolve()), str(paths[day_c].resolve())}
    con.close()


def test_a_refused_days_rows_are_counted_rejected_not_quarantined(wrong_day):
    warehouse, result, _ = wrong_day
    assert (result.rows_quarantined, result.rows_rejected) == (0, 1920)
    con = connect(warehouse, read_only=True)
    assert con.execute("select count(*) from meta.quarantine").fetchone()[0] == 0
    con.close()


# -- failures after staging -----------------------------------------------------------------------

def test_a_load_that_fails_after_staging_leaves_no_pending_rows(tmp_path, monkeypatch):
    warehouse = tmp_path / "w.duckdb"
    day_a, day_b, _ = CLEAN
    _land(tmp_path / "a", [day_a])
    load_days(warehouse, landing_days(tmp_path / "a", warehouse), day_a)
    _land(tmp_path / "b", [day_b])

    import warehouse.load as load_module

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(load_module, "point_partitions", disk_full)
    con = connect(warehouse)
    try:
        batch = stage_and_check(con, landing_days(tmp_path / "b", warehouse), day_b)
        staged = batch.staged
        assert con.execute(f"select count(*) from raw.{TABLE} where _load_seq = ?",
                           [staged.load_seq]).fetchone()[0] == 1920
        with pytest.raises(OSError, match="No space left"):
            load_batches(con, [batch])
        discard_staged(con, staged)  # as the load task does when load_batches raises
        views = con.execute("select count(*) from duckdb_views() where schema_name = 'stage' "
                            "and view_name = ?", [staged.view.split(".", 1)[1].strip('"')]).fetchone()[0]
    finally:
        con.close()
    assert views == 0
    assert _raw_count(warehouse, "_load_seq = ?", [staged.load_seq]) == 0
    assert _raw_count(warehouse) == 1920  # day A, untouched
    con = connect(warehouse, read_only=True)
    assert sorted(_partitions(con)) == [day_a]
    assert con.execute("select count(*) from meta.load_log").fetchone()[0] == 1
    con.close()


def test_rows_a_killed_run_staged_are_removed_by_the_next_stage(tmp_path):
    warehouse, landing = tmp_path / "w.duckdb", tmp_path / "landing"
    day = CLEAN[0]
    _land(landing, [day])
    con = connect(warehouse)
    killed = stage_day_files(con, landing_days(landing, warehouse))
    con.close()  # the run dies here: no verdict, no commit, no discard
    assert _raw_count(warehouse, "_load_seq = ?", [killed.load_seq]) == 1920

    result, batch = load_days(warehouse, landing_days(landing, warehouse), day)
    assert batch.staged.load_id != killed.load_id
    assert _raw_count(warehouse, "_load_seq = ?", [killed.load_seq]) == 0
    assert _raw_count(warehouse) == result.rows_loaded == 1920
    con = connect(warehouse, read_only=True)
    assert _current(con) == expected_day(day, 2).kept
    con.close()


def test_a_warehouse_whose_day_rows_carry_load_ids_drops_them_on_the_next_load_losing_nothing(tmp_path):
    """Day-file rows used to carry their load's id; the next stage drops the column.

    A committed load keeps its rows and stays current; a killed load listed without a number
    (as it was listed then) gets one from its rows, so the same stage still removes it.
    """
    warehouse, landing = tmp_path / "w.duckdb", tmp_path / "landing"
    day_a, day_b = CLEAN[:2]
    _land(landing, [day_a])
    first, _ = load_days(warehouse, landing_days(landing, warehouse), day_a)
    _land(landing, [day_b])
    con = connect(warehouse)
    killed = stage_day_files(con, landing_days(landing, warehouse))  # then the run dies
    # the layout from before: every row with its load's id, pending loads listed by id alone
    con.execute(f"alter table raw.{TABLE} add column _load_id varchar")
    con.execute(f"""update raw.{TABLE} as r set _load_id = l.load_id
                    from (select load_id, load_seq from meta.load_log union all
                          select load_id, load_seq from meta.pending_loads) as l
                    where l.load_seq = r._load_seq""")
    con.execute("update meta.pending_loads set load_seq = null")
    con.execute("create schema if not exists staging")  # the staging model as it was then
    con.execute(f"create view staging.stg_meters as select r._load_id from raw.{TABLE} as r")
    assert con.execute(f"select count(*) from raw.{TABLE} where _load_id = ?",
                       [killed.load_id]).fetchone()[0] == 1920
    con.close()

    result, _ = load_days(warehouse, landing_days(landing, warehouse), day_b)
    con = connect(warehouse, read_only=True)
    try:
        columns = [c for (c,) in con.execute(f"select column_name from duckdb_columns() where "
                                             f"table_name = '{TABLE}' and schema_name = 'raw'").fetchall()]
        assert "_load_id" not in columns and "_load_seq" in columns
        # a view still selecting the column is dropped (the build re-creates it), not left broken
        assert con.execute("select count(*) from duckdb_views() where view_name = 'stg_meters'"
                           ).fetchone()[0] == 0
        assert con.execute("select count(*) from meta.pending_loads").fetchone()[0] == 0
        orphans = con.execute(f"select count(*) from raw.{TABLE} where _load_seq = ?",
                              [killed.load_seq]).fetchone()[0]
        assert orphans == 0
        assert _current(con) == expected_day(day_a, 2).kept | expected_day(day_b, 2).kept
        # each current row names its load, through meta.partitions
        named = dict(con.execute(f"select reading_date, any_value(_load_id) from "
                                 f"({current_rows_sql(SPEC)}) group by all").fetchall())
        assert named == {day_a: first.load_id, day_b: result.load_id}
    finally:
        con.close()
    assert _raw_count(warehouse) == first.rows_loaded + result.rows_loaded == 2 * 1920

# -- hostile manifests ---------------------------------------------------------------------------

class _Files(ThreadingHTTPServer):
    """A department's server that says whatever the test wants it to: path → (status, body)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.asked: list[str] = []

        files = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, fmt, *args) -> None:
                pass

            def do_GET(self) -> None:
                files.asked.append(self.path)
                body = files.routes.get(self.path)
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json" if self.path.startswith("/api")
                                 else "text/csv; charset=utf-8")
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                self.wfile.write(body or b"")

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def files_server():
    server = _Files()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _serve_manifest(server: _Files, entries: list[dict]) -> None:
    server.routes = {SPEC.path: json.dumps({"files": entries}).encode()}
    server.asked.clear()


@pytest.mark.parametrize("path", ["http://evil/x.csv", "/../etc/passwd", "//evil/x.csv"])
def test_a_manifest_entry_that_leaves_the_server_is_refused(files_server, tmp_path, path):
    from connectors.day_files import fetch_day_files

    ok = {"day": "2026-01-03", "path": "/files/buildings/meters/2026-01-03.csv", "sha256": "a" * 64}
    _serve_manifest(files_server, [ok, {"day": "2026-01-04", "path": path, "sha256": "b" * 64}])
    with pytest.raises(SourceRejected) as caught:
        fetch_day_files(SPEC, files_server.url, "t", RetryPolicy(), {}, tmp_path / "downloads")
    assert "manifest entry 2 (2026-01-04)" in str(caught.value)
    assert path in str(caught.value) and "\n" not in str(caught.value)
    assert files_server.asked == [SPEC.path]  # refused before any file was asked for
    assert list((tmp_path / "downloads").iterdir()) == []


def test_a_file_whose_sha256_differs_from_the_manifests_is_refused_and_removed(files_server,
                                                                            tmp_path):
    from connectors.day_files import fetch_day_files

    day = CLEAN[0]
    (csv,) = md.write_day_files(day, tmp_path / "built", 2, formats=("csv",))
    path = f"/files/buildings/meters/{day}.csv"
    _serve_manifest(files_server, [{"day": str(day), "path": path, "sha256": "0" * 64}])
    files_server.routes[path] = csv.read_bytes()
    downloads = tmp_path / "downloads"
    with pytest.raises(SourceRejected) as caught:
        fetch_day_files(SPEC, files_server.url, "t", RetryPolicy(), {}, downloads)
    assert "sha256" in str(caught.value) and "000000000000" in str(caught.value)
    assert files_server.asked == [SPEC.path, path]
    assert list(downloads.iterdir()) == []  # neither the file nor its .part

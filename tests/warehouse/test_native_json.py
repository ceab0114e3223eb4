"""Today's readings pulled as paged JSON, loaded natively as a provisional vintage of the day.

Over real HTTP (the project's source server) into a real DuckDB file, checked by the real suite.
The history runs once per module: the day so far at noon, a rerun (304), the day so far in the
evening (a new vintage), then the day file of the same day the next morning (another vintage).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pytest

from connectors.day_files import DayFile, DayFiles
from connectors.errors import SourceRejected
from connectors.fetch import fetch_dataset, retry_policy
from connectors.http import RetryPolicy
from connectors.json_pages import fetch_json_day
from connectors.result import Provenance
from connectors.spool import Held
from expectations.gate import Batch
from source_server import meters_data as md
from source_server.meters_feed import MetersFeed
from source_server.server import SourceServer
from tests.warehouse.native_support import (
    DEPARTMENT,
    SPEC,
    TABLE,
    History,
    expected_day,
    fault_free_days,
    fetch_days,
    load_days,
    states,
)
from warehouse.db import connect
from warehouse.load import LoadResult, load_batches
from warehouse.native import current_rows_sql

BUILDINGS = 4
(TODAY_SPEC,) = [s for s in DEPARTMENT.datasets if s.name == "meter_readings_today"]
SMALL_PAGES = replace(TODAY_SPEC, pagination=replace(TODAY_SPEC.pagination, page_size=500))
FAST = RetryPolicy(timeout_read_s=10, max_attempts=3, backoff_s=0.01)
NOON, EVENING = dt.time(12, 0), dt.time(18, 0)
LATE = dt.time(20, 0)  # what a lagging API serves of a day whose file has loaded


def _quiet_day() -> dt.date:
    """A day with no injected fault whose day file comes out the next day (not late)."""
    for day in fault_free_days(BUILDINGS, 10, dt.date(2026, 3, 1)):
        if md.published_on(day) == day + dt.timedelta(days=1):
            return day
    raise AssertionError("no quiet day in March")


DAY = _quiet_day()


def so_far(day: dt.date, now: dt.time) -> set[tuple]:
    """(day, meter_id, ts, reading) of every generated reading of `day` up to `now`."""
    t = md.day_readings(day, BUILDINGS)
    cut = dt.datetime.combine(day, now)
    return {(day, m, ts.item(), float(r)) for m, ts, r in zip(t["meter_id"], t["ts"], t["reading"],
                                                               strict=True) if ts.item() <= cut}


def feed(now: dt.time = NOON) -> MetersFeed:
    return MetersFeed(buildings=BUILDINGS, start=DAY, as_of=DAY, now=now)


def pull(server: SourceServer, warehouse: Path, download_dir: Path, spec=TODAY_SPEC, **kwargs
         ) -> DayFiles:
    return fetch_json_day(spec, server.url, server.token, kwargs.pop("policy", FAST),
                          states(warehouse), download_dir, **kwargs)


def load(warehouse: Path, fetched: DayFiles, as_of: dt.date = DAY) -> LoadResult:
    if fetched.files:
        return load_days(warehouse, fetched, as_of)[0]
    con = connect(warehouse)  # nothing to stage: the load records "unchanged", as the flow does
    try:
        (result,) = load_batches(con, [Batch(fetched.dataset, fetched.provenance, pd.DataFrame())])
        return result
    finally:
        con.close()


def current(con, day: dt.date = DAY) -> list[tuple]:
    return con.execute(f"select reading_date, meter_id, ts, reading from ({current_rows_sql(SPEC)}) c "
                       "where reading_date = ?", [day]).fetchall()


def partition(con, day: dt.date = DAY) -> tuple[str, int, str]:
    return con.execute("select load_id, rows_loaded, source_url from meta.partitions "
                       "where dataset = ? and partition_day = ?", [TABLE, day]).fetchone()


@dataclass
class Step:
    fetched: DayFiles
    result: LoadResult
    warehouse: Path
    requests: int


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    """Noon → rerun (304) → evening → the next morning's day file → a late partial pull."""
    folder = tmp_path_factory.mktemp("json")
    warehouse = folder / "warehouse.duckdb"
    history = History()
    with SourceServer(meters=feed()) as server:

        def run(name: str, fetch) -> None:
            before = server.requests_served
            fetched = fetch(folder / f"downloads-{name}")
            requests = server.requests_served - before
            result = load(warehouse, fetched, server.meters.as_of)
            copy = folder / f"{name}.duckdb"
            shutil.copyfile(warehouse, copy)
            history.steps[name] = Step(fetched, result, copy, requests)

        run("noon", lambda d: pull(server, warehouse, d, SMALL_PAGES))
        run("rerun", lambda d: pull(server, warehouse, d, SMALL_PAGES))
        server.meters.set(now=EVENING)
        run("evening", lambda d: pull(server, warehouse, d, SMALL_PAGES))
        server.meters.set(as_of=DAY + dt.timedelta(days=1))
        run("day file", lambda d: fetch_days(server, warehouse, d))
        # the API lags and serves the same day again, partly: it must not shrink the finished day
        server.meters.set(as_of=DAY, now=LATE)
        run("late pull", lambda d: pull(server, warehouse, d, SMALL_PAGES))
    return history


def test_the_day_so_far_loads_as_the_days_partition_value_by_value(history):
    step = history.steps["noon"]
    (file,) = step.fetched.files
    expected = so_far(DAY, NOON)
    assert file.day == DAY and file.path.suffix == ".ndjson"
    assert step.fetched.provenance.pages == step.requests == -(-len(expected) // 500) > 2
    assert file.state_key == f"{TODAY_SPEC.path}#{DAY}"
    r = step.result
    assert (r.status, r.rows_in, r.rows_loaded, r.rows_quarantined, r.rows_rejected) == (
        "loaded", len(expected), len(expected), 0, 0)
    con = history.con("noon")
    rows = current(con)
    assert len(rows) == len(set(rows)) and set(rows) == expected
    assert max(ts for _, _, ts, _ in rows) == dt.datetime.combine(DAY, NOON)
    load_id, count, url = partition(con)
    assert (load_id, count) == (r.load_id, len(expected)) and "meter_readings_today" in url
    etag = con.execute("select etag from meta.source_state where dataset = ? and source_key = ?",
                       [TABLE, TODAY_SPEC.path]).fetchone()[0]
    assert etag == file.etag
    con.close()


def test_a_rerun_of_an_unchanged_day_is_one_304_and_moves_nothing(history):
    step = history.steps["rerun"]
    assert step.fetched.files == () and step.fetched.provenance.not_modified
    assert step.requests == 1 and step.result.status == "unchanged"
    before, after = history.con("noon"), history.con("rerun")
    for sql in (f"select count(*) from raw.{TABLE}", "select count(*) from meta.load_log",
                "select * from meta.partitions"):
        assert before.execute(sql).fetchall() == after.execute(sql).fetchall(), sql
    before.close()
    after.close()


def test_a_later_pull_replaces_the_partition_with_more_rows_and_no_duplicates(history):
    step = history.steps["evening"]
    expected = so_far(DAY, EVENING)
    assert len(expected) > len(so_far(DAY, NOON))
    con = history.con("evening")
    rows = current(con)
    assert len(rows) == len(set(rows)) and set(rows) == expected
    assert partition(con)[:2] == (step.result.load_id, len(expected))
    assert step.result.load_id != history.steps["noon"].result.load_id
    # the noon pull stays in raw as the previous vintage, named by no partition
    vintages = dict(con.execute(f"select l.load_id, count(*) from raw.{TABLE} r join meta.load_log l "
                                "on l.load_seq = r._load_seq group by 1").fetchall())
    assert vintages == {history.steps["noon"].result.load_id: len(so_far(DAY, NOON)),
                        step.result.load_id: len(expected)}
    con.close()


def test_the_next_mornings_day_file_replaces_the_provisional_vintage(history):
    step = history.steps["day file"]
    (file,) = step.fetched.files
    assert file.day == DAY and file.path.suffix == ".csv"
    full = expected_day(DAY, BUILDINGS)
    con = history.con("day file")
    rows = current(con)
    assert len(rows) == len(set(rows)) == BUILDINGS * 10 * 96 and set(rows) == full.kept
    load_id, count, url = partition(con)
    assert (load_id, count) == (step.result.load_id, len(full.kept)) and url.endswith(".csv")
    assert so_far(DAY, EVENING) < full.kept  # what the day so far said, the day file says too
    con.close()


def test_a_page_that_fails_twice_is_retried(tmp_path):
    with SourceServer(meters=feed()) as server:
        first = pull(server, tmp_path / "w.duckdb", tmp_path / "warm", SMALL_PAGES)
        server.set_faults(fail_next=2, fail_status=503)
        before = server.requests_served
        fetched = pull(server, tmp_path / "w.duckdb", tmp_path / "d", SMALL_PAGES, workers=3)
        assert server.requests_served - before == fetched.provenance.pages + 2
    assert fetched.files[0].sha256 == first.files[0].sha256  # the very same bytes


def test_pages_fetched_side_by_side_come_out_in_page_order(tmp_path):
    with SourceServer(meters=feed()) as server:
        server.set_faults(delay_seconds=0.05, delay_next=0)  # every page slow: all in flight at once
        (file,) = pull(server, tmp_path / "w.duckdb", tmp_path / "d", SMALL_PAGES, workers=8).files
    lines = [json.loads(line) for line in _day_bytes(file)[1].decode().splitlines()]
    t = md.day_readings(DAY, BUILDINGS)
    keep = t["ts"] <= pd.Timestamp(dt.datetime.combine(DAY, NOON)).to_datetime64()
    assert [(r["meter_id"], r["ts"], r["reading"]) for r in lines] == [
        (m, str(ts.item()), float(v)) for m, ts, v in zip(t["meter_id"][keep], t["ts"][keep],
                                                          t["reading"][keep], strict=True)]


def _day_bytes(file: DayFile) -> tuple[DayFile, bytes]:
    """The day's NDJSON, held in memory or spooled to disk, and the file to load it from."""
    if file.chunks is None:
        return file, file.path.read_bytes()
    chunks = file.chunks.take()  # given once: the file to load holds them anew
    return replace(file, chunks=Held(list(chunks))), b"".join(c + b"\n" for c in chunks)


def test_a_day_over_the_memory_bound_is_spooled_to_disk_and_loads_the_same(tmp_path):
    with SourceServer(meters=feed()) as server:
        held = pull(server, tmp_path / "held.duckdb", tmp_path / "held", SMALL_PAGES)
        spooled = pull(server, tmp_path / "spooled.duckdb", tmp_path / "spooled", SMALL_PAGES,
                       memory_bytes=50_000)  # ~400 readings: three of the day's pages
    (in_memory,), (on_disk,) = held.files, spooled.files
    assert in_memory.chunks.count == held.provenance.pages > 3 and not in_memory.path.exists()
    assert on_disk.chunks is None and on_disk.path.exists()
    assert list((tmp_path / "spooled").iterdir()) == [on_disk.path]  # no part file left
    (in_memory, held_bytes), (_, spooled_bytes) = _day_bytes(in_memory), _day_bytes(on_disk)
    assert held_bytes == spooled_bytes and len(held_bytes) == in_memory.size == on_disk.size
    assert in_memory.sha256 == on_disk.sha256 == hashlib.sha256(held_bytes).hexdigest()
    held = replace(held, files=(in_memory,))
    expected = so_far(DAY, NOON)
    for name, fetched in (("held", held), ("spooled", spooled)):
        result = load(tmp_path / f"{name}.duckdb", fetched)
        con = connect(tmp_path / f"{name}.duckdb", read_only=True)
        assert set(current(con)) == expected and result.rows_loaded == len(expected), name
        con.close()
    with pytest.raises(RuntimeError, match="no longer held; pull the day again"):
        in_memory.chunks.take()  # read into the warehouse: freed, not kept for the load's length


class GrowingFeed(MetersFeed):
    """A feed whose day grows by 15 minutes on the given calls of `today()` (a page being served)."""

    def __init__(self, grow_on: set[int]) -> None:
        super().__init__(buildings=BUILDINGS, start=DAY, as_of=DAY, now=NOON)
        self.calls, self.grow_on = 0, grow_on

    def today(self):
        with self._lock:
            self.calls += 1
            if self.calls in self.grow_on:
                later = dt.datetime.combine(DAY, self.now) + dt.timedelta(minutes=15)
                self.set(now=later.time())
            return super().today()


def test_a_day_that_grows_while_paged_is_pulled_again_from_page_1(tmp_path):
    with SourceServer(meters=GrowingFeed(grow_on={3})) as server:  # page 3 sees a later day
        fetched = pull(server, tmp_path / "w.duckdb", tmp_path / "d", SMALL_PAGES, workers=1)
        assert server.meters.now == dt.time(12, 15)
    expected = so_far(DAY, dt.time(12, 15))
    assert fetched.provenance.records == len(expected)
    result = load(tmp_path / "w.duckdb", fetched)
    con = connect(tmp_path / "w.duckdb", read_only=True)
    assert set(current(con)) == expected and result.rows_loaded == len(expected)
    con.close()


def test_a_day_that_keeps_growing_while_paged_is_refused_in_one_line(tmp_path):
    pages = -(-len(so_far(DAY, NOON)) // 500)
    with SourceServer(meters=GrowingFeed(grow_on={3, pages + 3})) as server:  # each attempt's page 3
        with pytest.raises(SourceRejected, match=r"the day changed while it was being paged, 2 "
                           r"times \(page 1 had ETag .*; nothing loaded") as caught:
            pull(server, tmp_path / "w.duckdb", tmp_path / "d", SMALL_PAGES, workers=1)
    assert "\n" not in str(caught.value)
    assert list((tmp_path / "d").iterdir()) == []  # no part file left behind


def test_the_flows_dispatch_pulls_the_day_through_the_department_settings(tmp_path):
    with SourceServer(meters=feed()) as server:
        (fetched,) = fetch_dataset(TODAY_SPEC, DEPARTMENT, server.url, server.token, {},
                                   download_dir=tmp_path)
    assert isinstance(fetched, DayFiles) and fetched.files[0].day == DAY
    assert fetched.provenance.pages == 1  # 10,000 records a page: the whole noon in one
    assert retry_policy(DEPARTMENT).max_attempts >= 2


def _ndjson_day(folder: Path, lines: list[str], held: bool = False) -> DayFiles:
    """The lines as a pulled day: on disk, or held in memory one chunk (page) per line."""
    path = folder / f"{TABLE}__{DAY}.ndjson"
    text = "".join(line + "\n" for line in lines)
    if not held:
        path.write_text(text, encoding="utf-8")
    chunks = Held([line.encode() for line in lines]) if held else None
    file = DayFile(DAY, path, f"{TODAY_SPEC.path}#{DAY}", "http://test/", "0" * 64, len(text.encode()),
                   chunks=chunks)
    provenance = Provenance(TODAY_SPEC.source_name, "http://test/", dt.datetime.now(dt.UTC), "0" * 64,
                            1, len(lines), state_key=TODAY_SPEC.path)
    return DayFiles(TODAY_SPEC, (file,), (), provenance, owns_files=False)


@pytest.mark.parametrize("held", [False, True], ids=["on disk", "in memory"])
def test_a_json_value_that_does_not_fit_its_type_is_quarantined_with_its_line(tmp_path, held):
    good = [json.dumps({"building_id": "MY-B0001", "meter_id": "MY-B0001-E01",
                        "ts": f"{DAY} {h:02d}:00:00", "reading": 100.0 + h, "unit": "kWh"})
            for h in range(3)]
    bad_reading = good[1].replace('"reading": 101.0', '"reading": "n/a"')
    bad_ts = good[2].replace(f'"{DAY} 02:00:00"', '"yesterday"')
    fetched = _ndjson_day(tmp_path, [good[0], bad_reading, bad_ts], held)
    result, _ = load_days(tmp_path / "w.duckdb", fetched, DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    con = connect(tmp_path / "w.duckdb", read_only=True)
    quarantined = con.execute("select row_number, failed_checks, raw_values from meta.quarantine "
                              "where dataset = ? order by row_number", [TABLE]).fetchall()
    con.close()
    assert {checks for _, checks, _ in quarantined} == {"cast: a value does not fit its column's type"}
    assert [(n, json.loads(raw)["reading"], json.loads(raw)["ts"]) for n, _, raw in quarantined] == [
        (2, "n/a", f"{DAY} 01:00:00"), (3, "102.0", "yesterday")]


def test_nan_and_infinity_readings_are_quarantined_not_loaded(tmp_path):
    lines = [json.dumps({"building_id": "MY-B0001", "meter_id": "MY-B0001-E01",
                         "ts": f"{DAY} {h:02d}:00:00", "reading": 100.0 + h, "unit": "kWh"})
             for h in range(4)]
    lines[1] = lines[1].replace('"reading": 101.0', '"reading": NaN')  # what DuckDB's reader takes
    lines[2] = lines[2].replace('"reading": 102.0', '"reading": Infinity')
    result, _ = load_days(tmp_path / "w.duckdb", _ndjson_day(tmp_path, lines, held=True), DAY)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)
    con = connect(tmp_path / "w.duckdb", read_only=True)
    checks = [c for (c,) in con.execute("select failed_checks from meta.quarantine").fetchall()]
    readings = con.execute(f"select reading from raw.{TABLE} order by ts").fetchall()
    con.close()
    assert len(checks) == 2 and all("readings are finite numbers" in c for c in checks), checks
    assert readings == [(100.0,), (103.0,)]


def test_a_reading_off_the_15_minute_grid_by_any_fraction_is_quarantined(tmp_path):
    times = ["00:00:00", "00:15:00.000001", "00:30:30", "00:37:00", "00:45:00", "01:00:00"]
    lines = [json.dumps({"building_id": "MY-B0001", "meter_id": "MY-B0001-E01", "ts": f"{DAY} {t}",
                         "reading": 100.0 + k, "unit": "kWh"}) for k, t in enumerate(times)]
    result, _ = load_days(tmp_path / "w.duckdb", _ndjson_day(tmp_path, lines), DAY)
    con = connect(tmp_path / "w.duckdb", read_only=True)
    aside = con.execute("select raw_values ->> 'ts', failed_checks from meta.quarantine order by 1"
                        ).fetchall()
    kept = con.execute(f"select strftime(ts, '%H:%M:%S') from raw.{TABLE} order by ts").fetchall()
    con.close()
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (6, 3, 3)
    assert [ts.split(" ")[1] for ts, _ in aside] == ["00:15:00.000001", "00:30:30", "00:37:00"]
    assert all("readings on the 15-minute grid" in checks for _, checks in aside), aside
    assert kept == [("00:00:00",), ("00:45:00",), ("01:00:00",)]


def test_a_broken_line_in_a_held_day_names_its_page_and_loads_nothing(tmp_path):
    good = [json.dumps({"building_id": "MY-B0001", "meter_id": "MY-B0001-E01",
                        "ts": f"{DAY} {h:02d}:00:00", "reading": 100.0 + h, "unit": "kWh"})
            for h in range(6)]
    lines = [*good[:4], '{"building_id": "MY-B0001", "meter_id": ', good[5]]  # page 5 cut short
    with pytest.raises(SourceRejected) as caught:
        load_days(tmp_path / "w.duckdb", _ndjson_day(tmp_path, lines, held=True), DAY)
    message = str(caught.value)
    assert "Malformed JSON in page 5 of the pull" in message, message
    assert "held" not in message and "\n" not in message  # not DuckDB's name for it
    con = connect(tmp_path / "w.duckdb", read_only=True)
    assert con.execute(f"select count(*) from raw.{TABLE}").fetchone()[0] == 0
    assert con.execute("select count(*) from meta.pending_loads").fetchone()[0] == 0
    con.close()


def test_a_renamed_json_field_refuses_the_day_naming_it(tmp_path):
    line = json.dumps({"building_id": "MY-B0001", "meter_id": "MY-B0001-E01", "ts": f"{DAY} 00:00:00",
                       "value": 1.0, "unit": "kWh"})
    with pytest.raises(SourceRejected, match=r"lacks `reading` \(column `reading`\)"):
        load_days(tmp_path / "w.duckdb", _ndjson_day(tmp_path, [line]), DAY)


@pytest.mark.parametrize("held", [False, True], ids=["on disk", "in memory"])
def test_a_field_the_first_page_leaves_out_is_not_taken_for_a_renamed_one(tmp_path, held):
    """The fields are read from the first page; one it omits is looked for in the others."""
    lines = [{"building_id": "MY-B0001", "meter_id": "MY-B0001-E01", "ts": f"{DAY} {h:02d}:00:00",
              "reading": 100.0 + h, "unit": "kWh"} for h in range(3)]
    del lines[0]["unit"]  # the first page (one record when held) has no unit at all
    result, _ = load_days(tmp_path / "w.duckdb",
                          _ndjson_day(tmp_path, [json.dumps(line) for line in lines], held), DAY)
    # the record without a unit fails the suite's unit check; the others load
    assert (result.status, result.rows_in, result.rows_loaded, result.rows_quarantined) == (
        "loaded", 3, 2, 1)
    con = connect(tmp_path / "w.duckdb", read_only=True)
    try:
        units = dict(con.execute(f"select ts, unit from raw.{TABLE}").fetchall())
        (checks,) = con.execute("select failed_checks from meta.quarantine").fetchone()
    finally:
        con.close()
    later = {dt.datetime.combine(DAY, dt.time(h)) for h in (1, 2)}
    assert units == dict.fromkeys(later, "kWh")
    assert "unit" in checks and "not_be_null" in checks


def test_both_datasets_fill_one_raw_table_with_one_suite():
    assert TODAY_SPEC.table_name == SPEC.table_name == TABLE
    assert TODAY_SPEC.format == "json_api" and TODAY_SPEC.partitions.column == "reading_date"
    assert [c.name for c in TODAY_SPEC.columns] == [c.name for c in SPEC.columns]
    assert [c.type for c in TODAY_SPEC.columns] == [c.type for c in SPEC.columns]


@pytest.mark.parametrize("layout", [{"indent": 2}, {"separators": (",", ":")}])
@pytest.mark.parametrize("tricky", [False, True])
def test_a_page_is_cut_into_lines_whatever_its_layout(layout, tricky):
    from connectors.http import FileResponse
    from connectors.json_pages import _to_lines

    records = [{"meter_id": "M-1" + ("},{" if tricky else ""), "reading": 1.5},
               {"meter_id": "M-2", "reading": None}, {"meter_id": "米", "reading": 3}]
    body = json.dumps({"day": str(DAY), "page_size": 10, "total": 3, "data": records},
                      ensure_ascii=False, **layout).encode()
    page = _to_lines(TODAY_SPEC, FileResponse("http://test/", body, '"e"', None), 1, None)
    assert page.records == 3 and page.etag == '"e"' and page.envelope["day"] == str(DAY)
    assert [json.loads(line) for line in page.lines.decode().splitlines()] == records


def test_without_an_etag_the_same_records_move_nothing(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    with SourceServer(meters=feed()) as server:
        load(warehouse, pull(server, warehouse, tmp_path / "d"))
        con = connect(warehouse)
        con.execute("update meta.source_state set etag = null where dataset = ?", [TABLE])
        con.close()
        again = pull(server, warehouse, tmp_path / "d2")  # asked for whole: no ETag to send
    assert again.files == () and again.provenance.not_modified
    assert again.unchanged == (f"{TODAY_SPEC.path}#{DAY}",)
    assert list((tmp_path / "d2").iterdir()) == []
    assert load(warehouse, again).status == "unchanged"


def test_a_late_partial_pull_never_replaces_the_day_file(history):
    step, day_file = history.steps["late pull"], history.steps["day file"]
    assert step.result.status == "loaded" and step.result.rows_loaded == len(so_far(DAY, LATE))
    assert f"not current: {DAY} already held complete (its day file)" in step.result.detail
    con = history.con("late pull")
    assert partition(con)[:2] == (day_file.result.load_id, BUILDINGS * 10 * 96)
    assert set(current(con)) == expected_day(DAY, BUILDINGS).kept
    assert con.execute("select provisional from meta.partitions").fetchall() == [(False,)]
    con.close()


def test_the_day_so_far_is_not_a_day_short_of_readings(history):
    # a pull at noon holds half a day by design: the whole-day warnings (96 readings a day, a
    # counter still all day) are for day files, not for it; the other checks still run
    con = history.con("noon")
    load_id = history.steps["noon"].result.load_id
    checks = dict(con.execute("select expectation, success from meta.validation_results "
                              "where load_id = ?", [load_id]).fetchall())
    con.close()
    whole_day = {e: ok for e, ok in checks.items() if "96 readings a day" in e or "stuck all day" in e}
    assert len(whole_day) == 2 and all(whole_day.values())
    assert len(checks) > 10


def test_a_record_quarantined_before_the_hash_moved_to_duckdb_stays_one_row_when_seen_again(tmp_path):
    """A warehouse from before: day-file rows carry load ids, quarantine hashes Python's JSON.

    Its next load drops the ids and rehashes; the same bad record published again then updates
    its quarantine row, as before, instead of adding a second one.
    """
    warehouse = tmp_path / "w.duckdb"
    lines = [json.dumps({"building_id": "MY-B0001", "meter_id": "MY-B0001-E01",
                         "ts": f"{DAY} {h:02d}:00:00", "reading": 100.0 + h, "unit": "kWh"})
             for h in range(4)]
    lines[1] = lines[1].replace('"reading": 101.0', '"reading": NaN')
    (tmp_path / "a").mkdir()
    load_days(warehouse, _ndjson_day(tmp_path / "a", lines), DAY)
    con = connect(warehouse)
    con.execute(f"alter table raw.{TABLE} add column _load_id varchar")
    (raw, first_seen) = con.execute("select raw_values::varchar, first_seen_at from meta.quarantine"
                                    ).fetchone()
    python_json = json.dumps(json.loads(raw), ensure_ascii=False, sort_keys=True)
    con.execute("update meta.quarantine set row_hash = ?", [hashlib.md5(python_json.encode()).hexdigest()])
    con.close()

    republished = [*lines, lines[3].replace("03:00:00", "04:00:00").replace("103.0", "104.0")]
    (tmp_path / "b").mkdir()
    result, _ = load_days(warehouse, _ndjson_day(tmp_path / "b", republished), DAY)
    con = connect(warehouse, read_only=True)
    rows = con.execute("select row_hash, md5(json(raw_values)::varchar), first_seen_at, last_seen_at "
                       "from meta.quarantine").fetchall()
    con.close()
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (5, 4, 1)
    assert len(rows) == 1, rows
    row_hash, duckdb_hash, first, last = rows[0]
    assert row_hash == duckdb_hash and first == first_seen < last

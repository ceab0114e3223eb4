"""Checks that read "the reading before" without sorting give the sorted answer (warehouse/in_key_order.py).

The meters' repeat check (warehouse/native.py) and their `steps` table (the counter and plausible
load checks of expectations/buildings__meter_readings.json) take a reading's stored predecessor
when its meter-day is stored as one run of rising times, and sort only the other meter-days.
Here the same day file is loaded twice, once as exported (meter by meter, in time order) and once
with its rows shuffled, so that nearly every meter-day takes the sorted way: the two loads must
agree on everything, and on the faults planted in the file.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import numpy as np
import pytest

from connectors.spec import load_sources
from flows.settings import PROJECT_ROOT
from source_server import meters_data as md
from source_server.meters_feed import MetersFeed
from source_server.server import SourceServer
from tests.helpers import datasets_of, fetch_and_check_on
from tests.warehouse.native_support import TABLE, landing_days, load_days
from warehouse.db import connect
from warehouse.in_key_order import out_of_order_groups
from warehouse.load import load_batches

REGISTER = datasets_of(load_sources(PROJECT_ROOT / "config" / "mianyang" / "sources.yml"), "buildings",
                       lambda d: d.name == "monitored_buildings")
DAY = dt.date(2026, 2, 3)
BUILDINGS = 60
BACKWARDS = ("MY-B0007-E01", 40)  # a counter that falls to half its value: an error, quarantined
JUMP = ("MY-B0011-E03", 50)  # a counter that jumps by 10⁶ kWh in 15 minutes: a warning
# the smallest building's step of 0.13 kWh per m² in 15 minutes (just over 0.5 kW/m²): a warning,
# at the edge of what the unsorted scan keeps (steps over 0.5 kW/m² of the smallest floor area)
SMALLEST = min(md.building_register(BUILDINGS), key=lambda b: b["floor_area_m2"])
EDGE = (f"{SMALLEST['building_id']}-E01", 60)
FRACTION = ("MY-B0013-E01", 30)  # half a second off the grid: `extract(second)` would not see it


# -- the scan alone ----------------------------------------------------------------------------

def _groups(rows: list[tuple], group: list[str]) -> set[tuple]:
    con = duckdb.connect()
    con.execute("create table t (day varchar, meter varchar, ts integer)")
    con.executemany("insert into t values (?, ?, ?)", rows)  # stored in this order
    found = con.execute(out_of_order_groups("t", "true", group, "ts")).fetchall()
    return {row[:-1] for row in found}  # the last column is the count of runs


def test_only_groups_not_stored_as_one_rising_run_are_out_of_order():
    rows = [("d", "in order", 1), ("d", "in order", 2), ("d", "in order", 3),
            ("d", "falls back", 1), ("d", "falls back", 3), ("d", "falls back", 2),
            ("d", "repeated", 1), ("d", "repeated", 1),
            ("d", "split", 1), ("d", "between", 1), ("d", "between", 2), ("d", "split", 2),
            ("d", "null time", 1), ("d", "null time", None),
            ("d", "alone", 5),
            ("d", None, 1), ("d", None, 2),  # a null meter is one group, as in `group by`
            ("e", "in order", 1), ("e", "in order", 2)]  # the same meter on another day
    assert _groups(rows, ["day", "meter"]) == {
        ("d", "falls back"), ("d", "repeated"), ("d", "split"), ("d", "null time")}


def test_with_no_group_columns_the_whole_selection_is_one_group():
    assert _groups([("d", "m", 1), ("d", "m", 2), ("d", "m", 3)], []) == set()
    assert _groups([("d", "m", 1), ("d", "m", 3), ("d", "m", 2)], []) == {()}


# -- a day file, as exported and shuffled ------------------------------------------------------

def _planted_day() -> dict[str, np.ndarray]:
    """The generator's day (with its repeats, clashes, gaps, resets) plus two planted faults."""
    table = {k: v.copy() for k, v in md.day_readings(DAY, BUILDINGS).items()}
    edge = 0.13 * SMALLEST["floor_area_m2"]
    for (meter, interval), change in ((BACKWARDS, lambda r: np.round(r * 0.5, 3)),
                                      (JUMP, lambda r: r + 1e6), (EDGE, lambda r: r + edge)):
        rows = np.flatnonzero(table["meter_id"] == meter)
        assert len(rows) == 96 and set(table["unit"][rows]) == {"kWh"}  # a whole electric meter-day
        target = rows[interval:interval + 1] if meter == BACKWARDS[0] else rows[interval:]
        table["reading"][target] = change(table["reading"][target])
    table["ts"] = table["ts"].copy()
    table["ts"][np.flatnonzero(table["meter_id"] == FRACTION[0])[FRACTION[1]]] += np.timedelta64(500, "ms")
    return table


def _load(folder: Path, table: dict[str, np.ndarray], server: SourceServer) -> Path:
    warehouse = folder / "warehouse.duckdb"
    con = connect(warehouse)
    try:  # the building register first, over HTTP as the flow fetches it: floor areas for kW/m²
        load_batches(con, fetch_and_check_on(con, REGISTER, server.url, server.token,
                                             folder / "downloads"))
    finally:
        con.close()
    md.write_day_files(DAY, folder / "landing", BUILDINGS, formats=("csv",), readings=table)
    load_days(warehouse, landing_days(folder / "landing", warehouse), DAY + dt.timedelta(days=1))
    return warehouse


@pytest.fixture(scope="module")
def loads(tmp_path_factory) -> dict[str, Path]:
    planted = _planted_day()
    rng = np.random.default_rng(13)
    meters = np.unique(planted["meter_id"], return_inverse=True)[1]
    orders = {"exported": np.arange(len(meters)),
              "shuffled": rng.permutation(len(meters)),
              # each meter's readings together, but not in time order
              "times shuffled": np.lexsort((rng.random(len(meters)), meters))}
    feed = MetersFeed(buildings=BUILDINGS, start=DAY, as_of=DAY + dt.timedelta(days=1))
    with SourceServer(meters=feed) as server:
        return {name: _load(tmp_path_factory.mktemp(name.replace(" ", "_")),
                            {k: v[order] for k, v in planted.items()}, server)
                for name, order in orders.items()}


def _outcome(warehouse: Path) -> dict:
    con = connect(warehouse, read_only=True)
    try:
        load = con.execute("select rows_in, rows_loaded, rows_quarantined, rows_duplicate, "
                           "rows_rejected from meta.load_log where dataset = ?", [TABLE]).fetchall()
        load_seq = con.execute("select load_seq from meta.partitions where dataset = ?", [TABLE]
                               ).fetchone()[0]
        return {
            "load": load,
            "rows": set(con.execute(f"select reading_date, meter_id, ts, reading from raw.{TABLE} "
                                    "where _load_seq = ?", [load_seq]).fetchall()),
            "quarantine": sorted(con.execute(
                "select failed_checks, raw_values::varchar from meta.quarantine where dataset = ?",
                [TABLE]).fetchall()),
            "checks": sorted(con.execute(
                "select check_kind, success, unexpected_count from meta.validation_results "
                "where dataset = ?", [TABLE]).fetchall()),
            "out_of_order": len(con.execute(out_of_order_groups(
                f"raw.{TABLE}", f"_load_seq = {load_seq}", ["reading_date", "meter_id"], "ts")
            ).fetchall()),
            "meter_days": con.execute(f"select count(distinct meter_id) from raw.{TABLE}").fetchone()[0],
        }
    finally:
        con.close()


def test_an_exported_file_takes_the_unsorted_way_and_a_shuffled_one_the_sorted_way(loads):
    exported = _outcome(loads["exported"])
    assert exported["out_of_order"] < 0.05 * exported["meter_days"]
    for way in ("shuffled", "times shuffled"):
        shuffled = _outcome(loads[way])
        assert shuffled["out_of_order"] > 0.9 * shuffled["meter_days"], way


@pytest.mark.parametrize("way", ["shuffled", "times shuffled"])
def test_both_ways_load_quarantine_and_judge_the_same(loads, way):
    exported, shuffled = _outcome(loads["exported"]), _outcome(loads[way])
    for part in ("load", "rows", "quarantine", "checks"):
        assert exported[part] == shuffled[part], part
    (rows_in, loaded, quarantined, duplicate, rejected), = exported["load"]
    assert duplicate > 0 and quarantined > 0 and rejected == 0  # the generator's repeats and clashes


@pytest.mark.parametrize("way", ["exported", "shuffled", "times shuffled"])
def test_the_planted_backward_counter_is_quarantined_and_the_jump_warned(loads, way):
    con = connect(loads[way], read_only=True)
    try:
        counter = con.execute(
            "select raw_values->>'meter_id', raw_values->>'ts' from meta.quarantine "
            "where failed_checks like '%non-negative deltas%'").fetchall()
        off_grid = con.execute(
            "select raw_values->>'meter_id', raw_values->>'ts' from meta.quarantine "
            "where failed_checks like '%15-minute grid%'").fetchall()
        checks = {kind: (count, detail) for kind, count, detail in con.execute(
            "select check_kind, unexpected_count, detail from meta.validation_results "
            "where check_kind in ('counter', 'plausible_load', 'interval_grid')").fetchall()}
    finally:
        con.close()
    at = dt.datetime.combine(DAY, dt.time()) + dt.timedelta(minutes=15 * BACKWARDS[1])
    assert counter == [(BACKWARDS[0], at.isoformat(sep=" "))]
    off = dt.datetime.combine(DAY, dt.time()) + dt.timedelta(minutes=15 * FRACTION[1], milliseconds=500)
    assert checks["interval_grid"] == (1, "1 row(s) failed")
    assert off_grid == [(FRACTION[0], f"{off:%Y-%m-%d %H:%M:%S}.5")]
    assert checks["counter"] == (1, "1 row(s) failed")
    # the jump and the edge; the backward meter's climb back (1,200 kWh) is 0.15 kW/m² of 31,010 m²
    count, detail = checks["plausible_load"]
    assert count == 2 and f"meter_id={JUMP[0]}" in detail and f"meter_id={EDGE[0]}" in detail

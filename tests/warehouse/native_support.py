"""Helpers for the day-file tests: load as the flows do (minus Prefect), and what should have loaded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from connectors.day_files import DayFiles, fetch_day_files, landing_day_files
from connectors.fetch import retry_policy
from connectors.spec import DepartmentSpec, load_sources
from expectations.gate import Batch, check_fetched
from flows.settings import PROJECT_ROOT
from source_server import meters_data as md
from source_server.meters_feed import revise
from tests.helpers import MIANYANG_CITY
from warehouse.db import connect
from warehouse.load import LoadResult, load_batches
from warehouse.models import ensure_declared_sources
from warehouse.state import read_source_states, states_of

TABLE = "buildings__meter_readings"
LANDING_MAX_BYTES = 50 * 2**20


DEPARTMENT: DepartmentSpec = load_sources(
    PROJECT_ROOT / "config" / "mianyang" / "sources.yml").department("buildings")
(SPEC,) = [s for s in DEPARTMENT.datasets if s.table_name == TABLE and s.name == "meter_readings"]


def states(warehouse: Path) -> dict:
    """What the warehouse remembers of the day files (meta.source_state), by source key."""
    con = connect(warehouse)
    try:
        return states_of(read_source_states(con), TABLE)
    finally:
        con.close()


def fetch_days(server, warehouse: Path, download_dir: Path) -> DayFiles:
    """The new or changed days on `server`, downloaded into `download_dir`, as the extract task does."""
    return fetch_day_files(SPEC, server.url, server.token, retry_policy(DEPARTMENT), states(warehouse),
                           download_dir)


def landing_days(folder: Path, warehouse: Path) -> DayFiles:
    """The day files waiting in a landing folder that are new or changed since the last load."""
    return landing_day_files(SPEC, folder, states(warehouse), LANDING_MAX_BYTES)


def stage_and_check(con, fetched: DayFiles, as_of: dt.date) -> Batch:
    """Stage the days as a pending load and run the suite on them, as the validate task does."""
    ensure_declared_sources(con, PROJECT_ROOT / "dbt_like_sql")
    return check_fetched(fetched, con, MIANYANG_CITY, as_of)


def load_days(warehouse: Path, fetched: DayFiles, as_of: dt.date) -> tuple[LoadResult, Batch]:
    """Stage, check and load one dataset's day files (the validate and load tasks, minus Prefect)."""
    con = connect(warehouse)
    try:
        batch = stage_and_check(con, fetched, as_of)
        (result,) = load_batches(con, [batch])
        return result, batch
    finally:
        con.close()


@dataclass(frozen=True)
class Expected:
    """What a day file should leave, from the generator's own fault bookkeeping."""

    rows_in: int
    kept: set[tuple]  # (day, meter_id, ts, reading) of every row that loads
    duplicates: int  # exact repeats: dropped and counted
    clashing: int  # rows of a key published twice with different values: all quarantined
    shifted: int  # rows of clock-shifted meter-days: all quarantined


def expected_day(day: dt.date, buildings: int, revision: int = 0) -> Expected:
    """Rows of `day` that load: the file minus exact repeats, clashing keys and clock-shifted meters.

    Repeats and clashes are told from the rows themselves (a revision may re-read one copy of an
    exact repeat); with no revision they must agree with the generator's `FaultLog`.
    """
    built = md.build_day(day, buildings)
    t, log = revise(built.table, day, revision), built.faults
    rows = [(day, m, ts.item(), float(r)) for m, ts, r in zip(t["meter_id"], t["ts"], t["reading"],
                                                               strict=True)]
    assert len(rows) == log.expected_rows
    copies: dict[tuple, set[float]] = {}
    for _, meter, ts, reading in rows:
        copies.setdefault((meter, ts), set()).add(reading)
    kept, duplicates, clashing, shifted = set(), 0, 0, 0
    for row in rows:
        if row[1] in log.clock_shifts:
            shifted += 1
        elif len(copies[row[1:3]]) > 1:
            clashing += 1
        elif row in kept:
            duplicates += 1
        else:
            kept.add(row)
    if revision == 0:
        assert duplicates == sum(same for *_, same in log.duplicates)
        assert clashing == 2 * sum(not same for *_, same in log.duplicates)
    return Expected(len(rows), kept, duplicates, clashing, shifted)


def expected_days(days: list[dt.date], buildings: int) -> Expected:
    """`expected_day` summed over `days`."""
    parts = [expected_day(d, buildings) for d in days]
    return Expected(sum(p.rows_in for p in parts), set().union(*(p.kept for p in parts)),
                    sum(p.duplicates for p in parts), sum(p.clashing for p in parts),
                    sum(p.shifted for p in parts))


def fault_free_days(buildings: int, count: int, start: dt.date = dt.date(2026, 1, 1)) -> list[dt.date]:
    """The first `count` days from `start` with no injected fault: every meter 96 readings, once."""
    days, day = [], start
    while len(days) < count:
        log = md.build_day(day, buildings).faults
        if log.expected_rows == log.meters * 96 and not (log.duplicates or log.clock_shifts
                                                         or log.stuck or log.resets):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


@dataclass
class History:
    """Warehouse copies saved after each step of a module's scenario, by step name."""

    steps: dict = field(default_factory=dict)  # name -> a step with a `.warehouse` copy

    def con(self, step: str):
        return connect(self.steps[step].warehouse, read_only=True)

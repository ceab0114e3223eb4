"""A platform that stops publishing day files is late by the day, like a department by the year."""

from __future__ import annotations

import datetime as dt

from connectors.spec import load_sources
from flows.settings import PROJECT_ROOT
from source_server import meters_data as md
from tests.helpers import build
from tests.warehouse.native_support import landing_days, load_days
from warehouse.db import as_dicts, connect

TABLE = "buildings__meter_readings"
DAYS = [dt.date(2026, 2, 20), dt.date(2026, 2, 21)]


def _age(warehouse, as_of: dt.date) -> list[dict]:
    config = load_sources(PROJECT_ROOT / "config" / "mianyang" / "sources.yml")
    con = connect(warehouse)
    try:
        build(con, config, as_of=as_of)
        return as_dicts(con.execute("select * from kpi.kpi_data_age where dataset = ?", [TABLE]))
    finally:
        con.close()


def test_day_files_are_judged_by_the_day(tmp_path):
    warehouse, folder = tmp_path / "w.duckdb", tmp_path / "landing"
    for day in DAYS:
        md.write_day_files(day, folder, buildings=2, faults=md.NO_FAULTS, formats=("csv",))
    result, _ = load_days(warehouse, landing_days(folder, warehouse), DAYS[-1])
    assert result.status == "loaded"

    # the 22nd's file is due 2 days after the day: late from the 24th, as a year is from its due date
    (on_time,) = _age(warehouse, dt.date(2026, 2, 23))
    assert (on_time["grain"], on_time["latest_period"], on_time["is_late"]) == ("day", "2026-02-21", False)

    (late,) = _age(warehouse, dt.date(2026, 2, 26))  # the 22nd, 23rd and 24th are overdue
    assert (late["is_late"], late["periods_overdue"], late["next_period"]) == (True, 3, "2026-02-22")
    assert late["next_due"] == dt.date(2026, 2, 24)
    assert "逐日数据应在期末后2天内发布" in late["age_reason_zh"]
    assert late["age_reason_en"].startswith(
        f"no new data from buildings ({TABLE}) since 2026-02-21: daily periods are due 2 days")

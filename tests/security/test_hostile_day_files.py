"""Hostile day files: names, headers and values that try to become SQL or markup stay data."""

from __future__ import annotations

import datetime as dt

import duckdb

from source_server import meters_data as md
from tests.warehouse.native_support import landing_days, load_days
from warehouse.db import connect

DAY = dt.date(2026, 2, 3)
AS_OF = dt.date(2026, 2, 5)


def _write_day(folder, name: str, rows: list[str]) -> None:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("building_id,meter_id,ts,reading,unit\n" + "\n".join(rows) + "\n",
                               encoding="utf-8")


def _tables(warehouse) -> set[str]:
    con = connect(warehouse, read_only=True)
    try:
        return {f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables()").fetchall()}
    finally:
        con.close()


def test_a_file_name_holding_sql_is_only_a_name(tmp_path):
    """The landing file's name reaches DuckDB only as a quoted literal (read_csv's path)."""
    warehouse, folder = tmp_path / "w.duckdb", tmp_path / "landing"
    name = f"meters_{DAY}'); drop table meta.load_log; --.csv"
    _write_day(folder, name, [f"B1,B1-E01,{DAY} 00:{m:02d}:00,{100 + m},kWh" for m in (0, 15, 30, 45)])
    result, _ = load_days(warehouse, landing_days(folder, warehouse), AS_OF)
    assert (result.status, result.rows_in, result.rows_loaded) == ("loaded", 4, 4)
    assert "meta.load_log" in _tables(warehouse)
    con = connect(warehouse, read_only=True)
    try:
        assert con.execute("select source_url from meta.partitions").fetchone()[0].endswith(name)
    finally:
        con.close()


def test_values_holding_sql_and_script_are_stored_as_text(tmp_path):
    warehouse, folder = tmp_path / "w.duckdb", tmp_path / "landing"
    evil_meter = "x'); drop table raw.buildings__meter_readings; --"
    script = "<script>alert(1)</script>"
    _write_day(folder, f"meters_{DAY}.csv", [
        f"{script},\"{evil_meter}\",{DAY} 00:00:00,1.0,kWh",
        f"{script},\"{evil_meter}\",{DAY} 00:15:00,2.0,kWh",
    ])
    result, _ = load_days(warehouse, landing_days(folder, warehouse), AS_OF)
    assert result.rows_loaded == 2
    con = connect(warehouse, read_only=True)
    try:
        assert con.execute("select distinct building_id, meter_id from raw.buildings__meter_readings"
                           ).fetchall() == [(script, evil_meter)]
    finally:
        con.close()


def test_a_header_holding_sql_refuses_the_file_in_one_line(tmp_path):
    """A renamed header is named in the refusal, as text: it never reaches a query unquoted."""
    warehouse, folder = tmp_path / "w.duckdb", tmp_path / "landing"
    folder.mkdir()
    (folder / f"meters_{DAY}.csv").write_text(
        "building_id,meter_id,ts,\"reading\"\"); drop table meta.load_log; --\",unit\n"
        f"B1,B1-E01,{DAY} 00:00:00,1.0,kWh\n", encoding="utf-8")
    try:
        load_days(warehouse, landing_days(folder, warehouse), AS_OF)
    except Exception as exc:  # noqa: BLE001 - the type is checked below
        message = str(exc)
        assert type(exc).__name__ == "SourceRejected"
    else:
        raise AssertionError("a file without the `reading` column must be refused")
    assert "\n" not in message and "`reading` (column `reading`)" in message and str(DAY) in message
    assert "meta.load_log" in _tables(warehouse)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:  # nothing pending was left behind
        assert con.execute("select count(*) from raw.buildings__meter_readings").fetchone()[0] == 0
    finally:
        con.close()


def test_a_generated_day_with_every_fault_loads_with_the_faults_set_aside(tmp_path):
    """The generator's faults are the hostile values a real platform sends: none is loaded as is."""
    warehouse, folder = tmp_path / "w.duckdb", tmp_path / "landing"
    day = md.build_day(DAY, buildings=100)  # 4 clock-shifted meter-days, 7 repeated readings
    assert len(day.faults.clock_shifts) == 4 and len(day.faults.duplicates) == 7
    md.write_day_files(DAY, folder, buildings=100, formats=("csv",))
    result, _ = load_days(warehouse, landing_days(folder, warehouse), AS_OF)
    assert result.rows_in == day.faults.expected_rows
    assert result.rows_in == result.rows_loaded + result.rows_quarantined + result.rows_duplicate
    same = sum(1 for *_, same_value in day.faults.duplicates if same_value)
    clashing = 2 * (len(day.faults.duplicates) - same)  # both copies of a re-read interval
    # a shifted meter-day has no gap and no repeat (the generator keeps faults apart): 96 rows
    assert result.rows_duplicate == same
    assert result.rows_quarantined == 4 * md.INTERVALS + clashing


def test_a_line_with_two_bad_cells_is_one_rejected_row_and_twin_lines_are_two(tmp_path):
    warehouse, folder = tmp_path / "w.duckdb", tmp_path / "landing"
    good = [f"B1,B1-E01,{DAY} 00:{m:02d}:00,{100 + m},kWh" for m in (0, 15, 30)]
    _write_day(folder, f"meters_{DAY}.csv", [*good, "B1,B1-E01,nottime,abc,kWh",
                                             "B1,B1-E02,nottime,abc,kWh", "B1,B1-E02,nottime,abc,kWh"])
    result, _ = load_days(warehouse, landing_days(folder, warehouse), AS_OF)
    assert (result.rows_in, result.rows_loaded, result.rows_quarantined) == (6, 3, 3)
    con = connect(warehouse, read_only=True)
    try:
        reasons = [r for (r,) in con.execute("select failed_checks from meta.quarantine order by row_number")
                   .fetchall()]
    finally:
        con.close()
    assert len(reasons) == 3  # the twin lines are kept apart by their line numbers
    assert all('"ts"' in r and '"reading"' in r for r in reasons)  # both cells, in one reason


def test_a_file_duckdb_cannot_read_is_refused_in_one_line(tmp_path):
    warehouse, folder = tmp_path / "w.duckdb", tmp_path / "landing"
    folder.mkdir()
    (folder / f"meters_{DAY}.csv").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    try:
        load_days(warehouse, landing_days(folder, warehouse), AS_OF)
    except Exception as exc:  # noqa: BLE001 - the type is checked below
        assert type(exc).__name__ == "SourceRejected", repr(exc)
        assert "\n" not in str(exc) and f"the {DAY} file cannot be read as csv" in str(exc)
    else:
        raise AssertionError("a binary file must be refused")
    con = connect(warehouse, read_only=True)
    try:
        assert con.execute("select count(*) from raw.buildings__meter_readings").fetchone()[0] == 0
        assert con.execute("select count(*) from meta.pending_loads").fetchone()[0] == 0
    finally:
        con.close()

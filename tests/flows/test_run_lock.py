"""A busy warehouse is not a failed department: overlapping runs and open sessions page no one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

from tests.helpers import fingerprint
from warehouse.db import connect


@pytest.fixture
def copy_env(warehouse_copy, source_server, mianyang_sources, monkeypatch):
    """The default warehouse (copied), every department pointed at the live source."""
    for department in mianyang_sources.departments:
        monkeypatch.setenv(department.url_env, source_server.url)
        monkeypatch.setenv(department.token_env, source_server.token)
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse_copy))
    monkeypatch.setenv("CARBONPEAK_AS_OF", "2026-03-01")
    monkeypatch.setenv("CARBONPEAK_LOCK_WAIT_S", "1")
    return warehouse_copy


def hold(script: str) -> subprocess.Popen:
    """Another process doing `script`, then waiting; returns once it printed `ready`."""
    process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    return process


def test_a_second_run_waits_then_stops_naming_the_first_and_records_nothing(prefect_harness, copy_env):
    from flows.run_all import run_all

    before = fingerprint(copy_env)
    other = hold(f"""
        from pathlib import Path
        from flows.run_lock import run_lock
        with run_lock(Path({str(copy_env)!r}), "run-all", 0):
            print("ready", flush=True)
            input()
    """)
    try:
        started = time.monotonic()
        state = run_all(return_state=True)
        waited = time.monotonic() - started
    finally:
        other.kill()
        other.wait()
    assert state.is_failed()
    assert f"warehouse `{copy_env}` is busy: `run-all` (Prefect flow run -, pid {other.pid}" in state.message
    assert "waited 1 s (CARBONPEAK_LOCK_WAIT_S)" in state.message
    assert "analyst" in state.message and "Nothing was recorded against any department" in state.message
    assert waited >= 1
    assert fingerprint(copy_env) == before  # no source failed, no alert recorded, nothing moved


def test_an_open_session_on_the_warehouse_fails_no_department(prefect_harness, copy_env):
    from flows.run_all import run_all

    before = fingerprint(copy_env)
    other = hold(f"""
        import duckdb
        con = duckdb.connect({str(copy_env)!r})  # an analyst's DBeaver, say, on the writer's file
        print("ready", flush=True)
        input()
    """)
    try:
        state = run_all(return_state=True)
    finally:
        other.kill()
        other.wait()
    assert state.is_failed()
    assert "is open in another process" in state.message
    assert "analysts should open the read-only snapshot" in state.message
    assert fingerprint(copy_env) == before  # meta.source_health untouched, no [Source failure]


def test_stage_leftovers_are_cleared_and_never_reach_the_snapshot(prefect_harness, copy_env):
    from flows.build import build_warehouse

    con = connect(copy_env)
    con.execute("create schema if not exists stage")
    con.execute("create table stage.energy__gdp__killed as select 1 as year")  # a run killed mid-validation
    con.close()
    assert build_warehouse(return_state=True).is_completed()
    for path in (copy_env, copy_env.parent / "analyst" / copy_env.name):
        con = connect(path, read_only=True)
        try:
            schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        finally:
            con.close()
        assert "stage" not in schemas, path


def test_the_snapshot_drops_stage_even_if_the_warehouse_has_it(copy_env, tmp_path):
    from warehouse.snapshot import publish_snapshot

    con = connect(copy_env)
    con.execute("create schema if not exists stage")
    con.execute("create table stage.x as select 1 as a")
    con.close()
    snapshot = publish_snapshot(copy_env, tmp_path / "analyst" / "w.duckdb")
    con = connect(snapshot, read_only=True)
    try:
        assert con.execute("select count(*) from duckdb_tables() where schema_name = 'stage'"
                           ).fetchone()[0] == 0
    finally:
        con.close()


def test_read_commands_read_the_snapshot_while_a_writer_holds_the_warehouse(copy_env, tmp_path, capsys):
    from cli.main import main
    from warehouse.snapshot import publish_snapshot

    publish_snapshot(copy_env, copy_env.parent / "analyst" / copy_env.name)
    other = hold(f"""
        import duckdb
        con = duckdb.connect({str(copy_env)!r})  # a run writing
        print("ready", flush=True)
        input()
    """)
    try:
        assert main(["kpi", "status", "--kpi", "clean_power_capacity"]) == 0
        assert "清洁能源电力总装机容量" in capsys.readouterr().out
        assert main(["sql", "select count(*) as n from kpi.kpi_status"]) == 0
        assert main(["report", "--out", str(tmp_path / "r.html")]) == 0
        # the writer's own file, asked for explicitly, is busy: one line naming the snapshot
        assert main(["kpi", "status", "--warehouse", str(copy_env)]) == 1
        assert "analysts should open the read-only snapshot" in capsys.readouterr().err
    finally:
        other.kill()
        other.wait()

"""The flows and the CLI on a DuckLake: `CARBONPEAK_WAREHOUSE=…/warehouse.lake`.

The warehouse setting stays a path; a `.lake` file names the lake (`carbonpeak lake init` writes
the writer's and, under analyst/, the analysts' read-only one). `run-all` ingests, builds and
evaluates into the lake; read commands read it through the read-only role, no copy made.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lake.catalog import create_catalog, grant_reads
from warehouse.lake import LakePointer, connect_lake, write_pointer

BIN = Path(sys.executable).parent


@pytest.fixture
def lake_warehouse(lake, tmp_path):
    """A database of its own on the session's server (the other lake tests keep theirs)."""
    writer, analyst = create_catalog(lake.folder, dbname="flows_lake")
    connect_lake(writer.conninfo, tmp_path / "parquet").close()
    grant_reads(lake.folder, "flows_lake")
    pointer = write_pointer(tmp_path / "warehouse.lake", LakePointer(writer.conninfo))
    write_pointer(tmp_path / "analyst" / "warehouse.lake", LakePointer(analyst.conninfo, read_only=True))
    return pointer


def test_run_all_fills_the_lake_and_read_commands_read_it_read_only(
        prefect_harness, lake_warehouse, source_server, mianyang_sources, monkeypatch):
    from flows.run_all import run_all

    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONPEAK_")}
    env |= {"CARBONPEAK_WAREHOUSE": str(lake_warehouse), "CARBONPEAK_AS_OF": "2026-03-01"}
    for department in mianyang_sources.departments:
        env[department.url_env], env[department.token_env] = source_server.url, source_server.token
    for key, value in env.items():
        if key.startswith("CARBONPEAK_"):
            monkeypatch.setenv(key, value)
    state = run_all(departments=["forestry"], return_state=True)  # one department: the rest is tested
    assert state.is_completed(), state.message
    assert not (lake_warehouse.parent / "analyst" / "warehouse.duckdb").exists()  # no copy: the lake

    def cli(*args):
        return subprocess.run([str(BIN / "carbonpeak"), *args], env=env, capture_output=True, text=True,
                              timeout=300)

    shown = cli("kpi", "status", "--kpi", "forest_coverage")
    assert shown.returncode == 0, shown.stderr
    assert "森林覆盖率 forest coverage" in shown.stdout and "56.13 (2024)" in shown.stdout
    # the analysts' pointer is the read-only role: a write is refused in one line, nothing changes
    refused = cli("sql", "create table meta.x as select 1 as a")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
    counted = cli("sql", "select count(*) as n from kpi.kpi_status")
    assert counted.returncode == 0 and "41" in counted.stdout

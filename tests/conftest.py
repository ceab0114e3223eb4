"""Shared fixtures: a live departmental source on 127.0.0.1, real DuckDB files, real Prefect runs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Before Prefect is imported anywhere: a private PREFECT_HOME (its task cache must not leak
# between test sessions), no telemetry, and room for a fresh database on a slow CI machine.
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="carbonpeak-prefect-")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
for key in [k for k in os.environ if k.startswith("CARBONPEAK_")] + ["PREFECT_API_URL"]:
    os.environ.pop(key, None)

import pytest  # noqa: E402

from connectors.spec import SourcesConfig, load_sources  # noqa: E402
from flows.settings import PROJECT_ROOT  # noqa: E402
from source_server import SNAPSHOT_DATE  # noqa: E402
from source_server.server import SourceServer  # noqa: E402
from tests.helpers import small_meters  # noqa: E402

MIANYANG = PROJECT_ROOT / "config" / "mianyang"

# The modules of the longest tests (20 s to 2.5 min each, end-to-end runs), longest first. They
# start the session so that the two workers (`--dist worksteal`, bootstrap.sh) end together: one
# started last kept one worker busy for a minute or two after the other had finished. Only the
# order changes; a module missing from here merely runs in its usual place.
RUN_FIRST = ("lake/test_lake_workers.py", "flows/test_cli.py", "flows/test_pipeline.py",
             "lake/test_lake_pipeline.py", "flows/test_schedules.py",
             "warehouse/test_energy_reconciliation.py", "warehouse/test_snapshot.py",
             "alerts/test_alert_owed.py", "warehouse/test_dbt_compat.py", "lake/test_lake_kill.py")


def pytest_collection_modifyitems(config, items) -> None:
    """The RUN_FIRST modules first, each whole (a module's fixtures are built once)."""
    tests = Path(__file__).parent
    rank = {tests / name: k for k, name in enumerate(RUN_FIRST)}
    items.sort(key=lambda item: rank.get(Path(item.fspath), len(rank)))  # stable: the rest as collected


@pytest.fixture
def source_server():
    server = SourceServer(meters=small_meters()).start()
    yield server
    try:
        server.stop()
    except OSError:  # a test may have taken it down already
        pass


@pytest.fixture(scope="session")
def mianyang_sources() -> SourcesConfig:
    return load_sources(MIANYANG / "sources.yml")


@pytest.fixture
def sources_env(source_server, mianyang_sources, tmp_path, monkeypatch) -> Path:
    """Point every department at the live source and the flows at a fresh warehouse file."""
    warehouse = tmp_path / "warehouse.duckdb"
    for department in mianyang_sources.departments:
        monkeypatch.setenv(department.url_env, source_server.url)
        monkeypatch.setenv(department.token_env, source_server.token)
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(warehouse))
    # the embedded data is a snapshot: judge its freshness on its own date, as `carbonpeak run` does
    monkeypatch.setenv("CARBONPEAK_AS_OF", SNAPSHOT_DATE.isoformat())
    return warehouse


@pytest.fixture(scope="session")
def prefect_harness():
    """A real Prefect API for the session, with the per-run heartbeat thread off (1 s per run)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            yield


@pytest.fixture(scope="session")
def default_warehouse(tmp_path_factory, mianyang_sources) -> Path:
    """The default scenario, ingested and built once per session.

    Read it (read-only) or copy it with `warehouse_copy`; never write to it.
    """
    from tests.helpers import ingest_and_build

    warehouse = tmp_path_factory.mktemp("default") / "warehouse.duckdb"
    with SourceServer(meters=small_meters()) as server:
        ingest_and_build(mianyang_sources, server.url, server.token, warehouse)
    return warehouse


# The yearly energy statistics 2025 not published yet (they appear in the spring after): what
# the warehouse holds on 1 March 2026 in a real year, while the monthly table runs to December.
YEARLY_ENERGY_TABLES = ("energy__balance", "energy__gdp", "energy__raw_coal_by_sector")


@pytest.fixture(scope="session")
def warning_warehouse(default_warehouse, tmp_path_factory, mianyang_sources) -> Path:
    """The default scenario without the yearly energy figures of 2025, rebuilt.

    The year-to-date early warning of 2025 is then current (January–December) for raw coal,
    energy per unit GDP and the non-fossil share. Read it or copy it; never write to it.
    """
    import shutil

    from tests.helpers import build
    from warehouse.db import connect

    warehouse = tmp_path_factory.mktemp("warning") / "warehouse.duckdb"
    shutil.copyfile(default_warehouse, warehouse)
    con = connect(warehouse)
    try:
        for table in YEARLY_ENERGY_TABLES:
            con.execute(f"delete from raw.{table} where year = 2025")
        build(con, mianyang_sources)
    finally:
        con.close()
    return warehouse


@pytest.fixture
def warehouse_copy(default_warehouse, tmp_path) -> Path:
    """A private, writable copy of the default scenario's warehouse."""
    import shutil

    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(default_warehouse, copy)
    return copy

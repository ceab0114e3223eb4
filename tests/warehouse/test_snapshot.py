"""The analyst snapshot: published atomically, readable while flows write, never half-written."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
import yaml

from flows.settings import PROJECT_ROOT, Settings
from source_server import SNAPSHOT_DATE
from warehouse.db import connect
from warehouse.errors import WarehouseError
from warehouse.snapshot import publish_snapshot, read_snapshot_info

BIN = Path(sys.executable).parent
MIANYANG = PROJECT_ROOT / "config" / "mianyang"
logger = logging.getLogger(__name__)


def duckdb_cli(database: Path, sql: str) -> subprocess.CompletedProcess:
    """The DuckDB command-line client, read-only, as an analyst runs it."""
    return subprocess.run([str(BIN / "duckdb"), "-readonly", "-csv", "-noheader", str(database), sql],
                          capture_output=True, text=True, timeout=60)


def leftovers(snapshot: Path) -> list[str]:
    return sorted(p.name for p in snapshot.parent.iterdir() if p.name != snapshot.name)


def test_snapshot_path_follows_the_warehouse_unless_set(monkeypatch, tmp_path):
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(tmp_path / "w" / "city.duckdb"))
    assert Settings.from_env().snapshot == tmp_path / "w" / "analyst" / "city.duckdb"
    monkeypatch.setenv("CARBONPEAK_SNAPSHOT", str(tmp_path / "share" / "carbon.duckdb"))
    assert Settings.from_env().snapshot == tmp_path / "share" / "carbon.duckdb"
    monkeypatch.delenv("CARBONPEAK_WAREHOUSE")
    monkeypatch.delenv("CARBONPEAK_SNAPSHOT")
    assert Settings.from_env().snapshot == Path("data/analyst/warehouse.duckdb")


def test_an_open_session_keeps_its_snapshot_while_a_new_one_is_published(warehouse_copy):
    snapshot = warehouse_copy.parent / "analyst" / "warehouse.duckdb"
    assert publish_snapshot(warehouse_copy, snapshot, build_id="build-1") == snapshot
    assert read_snapshot_info(snapshot)["build_id"] == "build-1"
    assert leftovers(snapshot) == []
    assert os.stat(snapshot).st_mode & 0o222 == 0  # nobody writes to it, not even by mistake

    # Two analysts: a Python session and an interactive DuckDB CLI session, both left open.
    reader = duckdb.connect(str(snapshot), read_only=True)
    query = "select (select build_id from meta.snapshot_info), count(*) from meta.lineage"
    first = reader.execute(query).fetchall()
    kpi_first = reader.execute("select * from kpi.kpi_status order by all").fetchall()
    assert first[0][0] == "build-1" and first[0][1] > 100 and len(kpi_first) == 41
    cli = subprocess.Popen([str(BIN / "duckdb"), "-readonly", "-csv", "-noheader", str(snapshot)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    try:
        cli.stdin.write(query + ";\n")
        cli.stdin.flush()
        assert cli.stdout.readline().strip() == f"build-1,{first[0][1]}"

        # The next build changes the warehouse and publishes over the open sessions.
        con = connect(warehouse_copy)
        con.execute("delete from meta.lineage")
        con.close()
        publish_snapshot(warehouse_copy, snapshot, build_id="build-2")

        assert reader.execute(query).fetchall() == first  # still the snapshot it opened
        assert reader.execute("select * from kpi.kpi_status order by all").fetchall() == kpi_first
        cli.stdin.write(query + ";\n")
        cli.stdin.flush()
        assert cli.stdout.readline().strip() == f"build-1,{first[0][1]}"
    finally:
        cli.stdin.close()
        cli.wait(timeout=30)
        reader.close()
    assert cli.returncode == 0, cli.stderr.read()

    fresh = duckdb_cli(snapshot, query)  # a new session opens the new snapshot
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.strip() == "build-2,0"
    assert leftovers(snapshot) == []


def test_the_snapshot_is_readable_while_a_flow_holds_the_warehouse(warehouse_copy, tmp_path):
    snapshot = tmp_path / "analyst" / "warehouse.duckdb"
    publish_snapshot(warehouse_copy, snapshot)
    writer = connect(warehouse_copy)  # a flow at work: DuckDB's write lock on the warehouse
    try:
        locked = duckdb_cli(warehouse_copy, "select count(*) from kpi.kpi_status")
        assert locked.returncode != 0 and "Could not set lock" in locked.stderr  # the problem

        answer = duckdb_cli(snapshot, "select status from kpi.kpi_status "
                                      "where kpi_id = 'raw_coal_consumption'")
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.split() == ["off_track"]
        reader = duckdb.connect(str(snapshot), read_only=True)
        assert reader.execute("select count(*) from kpi.kpi_status").fetchone() == (41,)
        reader.close()
        info = read_snapshot_info(snapshot)
        assert info["warehouse"] == str(warehouse_copy.resolve())
        assert info["published_at"] > info["data_loaded_at"]
        assert info["sources_checked_at"] is not None
    finally:
        writer.close()


def test_a_failed_copy_leaves_the_previous_snapshot_intact(warehouse_copy, tmp_path, monkeypatch):
    snapshot = tmp_path / "analyst" / "warehouse.duckdb"
    publish_snapshot(warehouse_copy, snapshot, build_id="good")
    before = snapshot.read_bytes()

    def disk_full(src, dst):  # half the file written, then the disk is full
        with open(src, "rb") as s, open(dst, "wb") as d:
            d.write(s.read(os.path.getsize(src) // 2))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", disk_full)
    with pytest.raises(WarehouseError, match="No space left on device; the previous snapshot is "
                                             "unchanged"):
        publish_snapshot(warehouse_copy, snapshot, build_id="bad")
    assert snapshot.read_bytes() == before
    assert leftovers(snapshot) == []
    assert read_snapshot_info(snapshot)["build_id"] == "good"


def test_leftovers_of_a_crashed_publish_are_cleaned_up(warehouse_copy, tmp_path):
    snapshot = tmp_path / "analyst" / "warehouse.duckdb"
    publish_snapshot(warehouse_copy, snapshot, build_id="one")
    # a publish killed mid-copy, and a read-write session on the old snapshot that crashed
    (snapshot.parent / ".warehouse.duckdb.k3j9x.tmp").write_bytes(b"half a database")
    (snapshot.parent / ".warehouse.duckdb.k3j9x.tmp.wal").write_bytes(b"its log")
    (snapshot.parent / "warehouse.duckdb.wal").write_bytes(b"would be replayed onto the new file")
    (snapshot.parent / "notes.txt").write_text("not ours")
    publish_snapshot(warehouse_copy, snapshot, build_id="two")
    assert leftovers(snapshot) == ["notes.txt"]
    answer = duckdb_cli(snapshot, "select build_id from meta.snapshot_info")
    assert answer.returncode == 0 and answer.stdout.strip() == "two", answer.stderr


def test_the_warehouse_itself_is_no_snapshot(warehouse_copy, tmp_path):
    with pytest.raises(WarehouseError, match="is the warehouse itself"):
        publish_snapshot(warehouse_copy, warehouse_copy)
    with pytest.raises(WarehouseError, match="does not exist yet"):
        publish_snapshot(tmp_path / "none.duckdb", tmp_path / "analyst" / "none.duckdb")


def one_department_config(folder: Path, department: str) -> Path:
    """Mianyang's configuration with only `department` in sources.yml (KPIs and city unchanged)."""
    folder.mkdir()
    for name in ("kpis.yml", "city.yml"):
        shutil.copyfile(MIANYANG / name, folder / name)
    sources = yaml.safe_load((MIANYANG / "sources.yml").read_text(encoding="utf-8"))
    sources["departments"] = {department: sources["departments"][department]}
    (folder / "sources.yml").write_text(yaml.safe_dump(sources, allow_unicode=True), encoding="utf-8")
    return folder


# Issue #5 asked for ten runs: that is `pytest -m slow` (~170 s on two loaded cores); the suite
# runs the same test with three, which still swaps the snapshot under the queries three times.
@pytest.mark.parametrize("run_count", [
    pytest.param(3, id="three-runs"),
    pytest.param(10, id="ten-runs", marks=pytest.mark.slow),
])
def test_analyst_queries_never_fail_while_ten_runs_rewrite_the_warehouse(
        prefect_harness, source_server, warehouse_copy, tmp_path, run_count):
    """Issue #5's acceptance: 10 `carbonpeak run`s while DuckDB CLI queries hit the snapshot.

    A loop of runs, and a loop of queries beside it; every query answers 41 rows.

    Kept fast but real. Each run is the real `carbonpeak run` process (ingest → validate → load →
    build all 76 models → publish → evaluate) on the full Mianyang warehouse, but:
    - it uses the session's Prefect API instead of starting a temporary server (~8 s a run);
    - it reruns on the default warehouse against the live source, so sources answer 304;
    - its sources.yml lists one department (forestry), not eleven. The ten others would each
      answer 304 and write nothing, yet cost ~1.4 s a flow (a run took 23 s instead of 8.5 s on
      the loaded 2-core machine); they touch neither the build nor the snapshot. The rebuild
      still reads every raw table, so `kpi.kpi_status` keeps its 41 checkpoints.
    """
    from prefect.settings import PREFECT_API_URL

    snapshot = warehouse_copy.parent / "analyst" / "warehouse.duckdb"  # the default place
    publish_snapshot(warehouse_copy, snapshot, build_id="before")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARBONPEAK_")}
    env.update(CARBONPEAK_WAREHOUSE=str(warehouse_copy), CARBONPEAK_AS_OF=SNAPSHOT_DATE.isoformat(),
               CARBONPEAK_CONFIG_DIR=str(one_department_config(tmp_path / "config", "forestry")),
               CARBONPEAK_FORESTRY_URL=source_server.url,
               CARBONPEAK_FORESTRY_TOKEN=source_server.token,
               PREFECT_API_URL=PREFECT_API_URL.value())

    done = threading.Event()
    answers: list[subprocess.CompletedProcess] = []

    def analyst() -> None:
        # A short pause between queries: back to back they take a core of the two CI has and
        # slow the runs by half; paced, there are still a few per second, across every swap.
        while not done.wait(0.2):
            answers.append(duckdb_cli(snapshot, "select count(*), any_value((select build_id "
                                                "from meta.snapshot_info)) from kpi.kpi_status"))

    thread = threading.Thread(target=analyst)
    thread.start()
    started = time.perf_counter()
    try:
        runs = [subprocess.run([str(BIN / "carbonpeak"), "run"], env=env, capture_output=True,
                               text=True, timeout=300) for _ in range(run_count)]
    finally:
        done.set()
        thread.join(timeout=120)
    logger.info("%d runs in %.1f s, %d snapshot queries", run_count, time.perf_counter() - started,
                len(answers))

    for run in runs:
        assert run.returncode == 0, run.stderr[-3000:]
        assert "41 checkpoint(s) shown" in run.stdout
    failed = [a for a in answers if a.returncode != 0 or not a.stdout.startswith("41,")]
    assert not failed, f"{len(failed)} of {len(answers)} queries failed, e.g. {failed[0]}"
    assert len(answers) >= 20
    builds = {a.stdout.strip().split(",")[1] for a in answers}
    assert "before" in builds and len(builds) >= 3  # the queries ran across several swaps
    info = read_snapshot_info(snapshot)
    assert info["build_id"] not in ("before", None)  # the last run's build-warehouse flow run
    assert leftovers(snapshot) == []

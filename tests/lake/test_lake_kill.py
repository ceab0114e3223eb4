"""A writer killed with SIGKILL in the middle of a load: the lake stays whole, the rerun is exact.

The writer is a real process loading the buildings department (register, meters, day files of
readings, the day so far) into a lake. A reader on the analysts' role watches the catalog and
kills the writer the moment a load of readings is pending: its rows are in raw (step 1 of
warehouse/native.py commits them, named by no day) and its verdict is not committed. PostgreSQL
rolls the dead connection's open transaction back; DuckLake's snapshots hold what was committed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time

from source_server.server import SourceServer
from tests.helpers import small_meters
from tests.lake.catalogs import ready_catalog
from tests.lake.compare import raw_tables, rows
from tests.lake.parallel_worker import start
from warehouse.db import connect
from warehouse.lake import connect_lake

DEPARTMENT = "buildings"


def kill_when_pending(process: subprocess.Popen, reader) -> tuple[str, int]:
    """SIGKILL the writer once a pending load's rows are in raw (the gate then runs); its id and number.

    The load is listed before its rows are inserted, so the kill waits for the rows: the rerun
    must then remove them, which is what this test is about.
    """
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        pending = reader.execute("""
            select l.load_id, l.load_seq from meta.pending_loads l
            where exists (select 1 from raw.buildings__meter_readings r where r._load_seq = l.load_seq)
            """).fetchall()
        if pending:
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=60)
            return pending[0]
        time.sleep(0.01)
    process.kill()
    _, err = process.communicate(timeout=60)
    raise AssertionError(f"the writer ended (exit {process.returncode}) before any load was pending; "
                         f"nothing was killed mid-load: {err[-1000:]}")


def test_a_writer_killed_mid_load_leaves_the_lake_whole_and_the_rerun_exact(
        lake, tmp_path_factory, default_warehouse, mianyang_sources):
    written, analyst = ready_catalog(lake.folder, "killed_lake", tmp_path_factory.mktemp("killed-parquet"))
    downloads = tmp_path_factory.mktemp("killed-downloads")
    reader = connect_lake(analyst.conninfo, read_only=True)
    try:
        with SourceServer(meters=small_meters()) as server:
            writer = start(written.conninfo, DEPARTMENT, server, downloads)
            killed, killed_seq = kill_when_pending(writer, reader)

            # the lake as the kill left it: the load still pending with its rows in raw (not
            # committed in the instant before the kill), readable, and no reader sees the load
            assert reader.execute("select count(*) from meta.pending_loads where load_id = ?",
                                  [killed]).fetchone()[0] == 1, "the load committed before the kill"
            assert reader.execute("select count(*) from raw.buildings__meter_readings where _load_seq = ?",
                                  [killed_seq]).fetchone()[0] > 0
            assert reader.execute("select count(*) from meta.load_log where load_id = ?",
                                  [killed]).fetchone()[0] == 0
            assert reader.execute("select count(*) from meta.partitions where load_id = ?",
                                  [killed]).fetchone()[0] == 0
            # a load that is logged is whole: each accepted day points at as many rows as it says
            for load_id, day, loaded, held in reader.execute("""
                    select p.load_id, p.partition_day, p.rows_loaded,
                           (select count(*) from raw.buildings__meter_readings r
                            where r._load_seq = p.load_seq and r.reading_date = p.partition_day)
                    from meta.partitions p""").fetchall():
                assert held == loaded, (load_id, day)

            rerun = start(written.conninfo, DEPARTMENT, server, downloads)
            out, err = rerun.communicate(timeout=600)
        assert rerun.returncode == 0, err[-2000:]
        assert {status for _, status, _ in json.loads(out.strip().splitlines()[-1])} <= {
            "loaded", "unchanged"}
    finally:
        reader.close()

    con = connect_lake(written.conninfo)
    file = connect(default_warehouse, read_only=True)
    try:
        assert con.execute("select count(*) from meta.pending_loads").fetchone()[0] == 0
        # the killed load's rows are gone, and the rerun loaded each day exactly once
        assert con.execute("select count(*) from raw.buildings__meter_readings where _load_seq = ?",
                           [killed_seq]).fetchone()[0] == 0
        for relation in raw_tables(mianyang_sources, [DEPARTMENT]):
            assert rows(con, relation) == rows(file, relation), relation
    finally:
        file.close()
        con.close()

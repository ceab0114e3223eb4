"""`maintain-lake`: old snapshots expire, small files merge, what nobody needs goes; no row moves."""

from __future__ import annotations

import os
import shutil
import time

import pytest

from lake.catalog import create_catalog
from warehouse.db import connect
from warehouse.db import relations as db_relations
from warehouse.errors import WarehouseError
from warehouse.lake import LakePointer, connect_lake, lake_engine, write_pointer

CODES = ("510700", "519901")


def test_maintenance_deletes_only_what_no_reader_or_writer_needs(lake, tmp_path, prefect_harness,
                                                                 monkeypatch):
    from flows.maintenance import maintain_lake

    writer, _ = create_catalog(lake.folder, dbname="maintained_lake")
    files = tmp_path / "files"
    connect_lake(writer.conninfo, files).close()  # as `lake init` does: a lake at the root, in `public`
    pointer = write_pointer(tmp_path / "warehouse.lake", LakePointer(writer.conninfo, str(files)))
    held = {}
    for code in CODES:
        con = connect(pointer, city_code=code)
        con.execute("create schema raw")
        con.execute("create table raw.t (x integer)")
        for load in range(5):  # five loads: five small files, five snapshots
            con.execute(f"insert into raw.t select range + {load * 100} from range(100)")
        for rows in (40, 50):  # a model rebuilt: the first table's file is no longer referenced
            con.execute(f"create or replace table raw.u as select range as a from range({rows})")
        held[code] = con.execute("select (select count(*) || ':' || sum(x) from raw.t), "
                                 "(select count(*) from raw.u)").fetchone()
        con.close()
    # a killed run's stage table and view, three days old, and a running check's, just made
    con = connect(pointer, city_code=CODES[0])
    con.execute("create schema stage")
    for made in ("table stage.energy__monthly__0badc0de (x integer)",
                 "view stage.meters__readings__deadbeef as select 1 as x",
                 "table stage.energy__monthly__feedf00d (x integer)"):
        con.execute(f"create {made}")
    leftovers = [r[0] for r in con.execute(
        "select snapshot_id from ducklake_snapshots('lake') where list_contains(changes['tables_created'], "
        "'stage.energy__monthly__0badc0de') or list_contains(changes['views_created'], "
        "'stage.meters__readings__deadbeef')").fetchall()]
    con.close()
    assert len(leftovers) == 2
    age_snapshots(writer.conninfo, f"snapshot_id in ({', '.join(map(str, leftovers))})")
    table = files / "city_510700" / "raw" / "t"
    some = next(table.glob("*.parquet"))
    killed, running = table / "ducklake-killed-writer.parquet", table / "ducklake-running-writer.parquet"
    shutil.copy(some, killed)  # a file no snapshot references: a writer killed three days ago
    os.utime(killed, (time.time() - 3 * 86400,) * 2)
    for file in files.rglob("*.parquet"):  # every city's files are days old: none is an orphan
        os.utime(file, (time.time() - 3 * 86400,) * 2)
    shutil.copy(some, running)  # and one a writer that has not committed yet just wrote

    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(pointer))
    done = {d["namespace"]: d for d in maintain_lake(keep_days=0, grace_hours=0, orphan_hours=24)}

    # every city's namespace, and not the root's: its data path holds theirs, all "orphans" to it
    assert set(done) == {f"city_{code}" for code in CODES}
    for code in CODES:
        result = done[f"city_{code}"]
        assert result["snapshots_expired"] >= 8 and result["files_merged"] == 5
        assert result["files_deleted"] >= 6  # the five merged away, the replaced table's
        assert result["orphans_deleted"] == (1 if code == "510700" else 0)
        assert result["stage_dropped"] == (2 if code == "510700" else 0)
        con = connect(pointer, city_code=code, read_only=True)
        try:  # no row lost, none doubled
            assert con.execute("select (select count(*) || ':' || sum(x) from raw.t), "
                               "(select count(*) from raw.u)").fetchone() == held[code] == ("500:124750", 50)
            assert con.execute("select count(*) from ducklake_snapshots('lake')").fetchone()[0] <= 2
            stage = db_relations(con, "stage")
            assert stage == (["energy__monthly__feedf00d"] if code == "510700" else [])  # the running one
        finally:
            con.close()
    assert not killed.exists() and running.exists()  # the running writer's file is left alone
    assert len(list(table.glob("*.parquet"))) == 2  # the merged file, and the running writer's

    # the running check was killed too, and the snapshot that made its table has expired since:
    # once the oldest snapshot kept is three days old, the table is older still, and goes
    con = connect(pointer, city_code=CODES[0], read_only=True)
    assert con.execute("select count(*) from ducklake_snapshots('lake') where list_contains("
                       "changes['tables_created'], 'stage.energy__monthly__feedf00d')").fetchone()[0] == 0
    con.close()
    age_snapshots(writer.conninfo, "true")
    again = {d["namespace"]: d["stage_dropped"] for d in maintain_lake(orphan_hours=24)}
    assert again == {"city_510700": 1, "city_519901": 0}
    con = connect(pointer, city_code=CODES[0], read_only=True)
    assert db_relations(con, "stage") == []
    con.close()

    # asked wrongly: one line each, nothing done
    for kwargs, problem in (({"orphan_hours": 5}, "at least 6"), ({"keep_days": -1}, "0 or more")):
        with pytest.raises(WarehouseError, match=problem):
            maintain_lake(**kwargs)
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(write_pointer(
        tmp_path / "analyst" / "warehouse.lake", LakePointer(writer.conninfo, read_only=True))))
    with pytest.raises(WarehouseError, match="read-only pointer"):
        maintain_lake()
    monkeypatch.setenv("CARBONPEAK_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    with pytest.raises(WarehouseError, match="not a lake"):
        maintain_lake()


def age_snapshots(conninfo: str, which: str) -> None:
    """Move Mianyang's snapshots `which` (SQL over ducklake_snapshot) three days back."""
    catalog = lake_engine()
    try:
        catalog.execute(f"attach '{conninfo}' as pg (type postgres)")
        catalog.execute("call postgres_execute('pg', 'update city_510700.ducklake_snapshot set "
                        f"snapshot_time = snapshot_time - interval ''3 days'' where {which}')")
    finally:
        catalog.close()

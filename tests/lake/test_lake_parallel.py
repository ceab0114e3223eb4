"""Departments ingested into one lake by parallel writer processes, while readers read.

Each department is its own process, all at once (DuckLake: snapshot isolation, commits retried;
a load that conflicts with another writer's is rerun whole, warehouse/load.py). The result, built
once, must equal the DuckDB file's row for row; readers must never see half a load.
"""

from __future__ import annotations

import json
import time

import duckdb
import pytest

from lake.catalog import create_catalog
from source_server.server import SourceServer
from tests.helpers import build, small_meters
from tests.lake.catalogs import ready_catalog
from tests.lake.compare import COMPARED, raw_tables, rows
from tests.lake.parallel_worker import start
from tests.lake.readers import reading
from warehouse import backend
from warehouse.backend import retry_on_conflict
from warehouse.db import connect, transaction
from warehouse.errors import WarehouseBusy
from warehouse.lake import connect_lake

READERS = 4  # the reader loops, beside the writer processes


# Both forms are `pytest -m slow` (each writer process loads GX and pandas, ~5 s on two cores):
# the suite runs departments side by side on two Prefect workers instead, with the same readers
# (test_lake_workers.py). Every department at once is built and compared whole.
@pytest.mark.parametrize("chosen", [
    pytest.param(("energy", "forestry", "waste"), id="three-departments", marks=pytest.mark.slow),
    pytest.param(None, id="every-department", marks=pytest.mark.slow),
])
def test_parallel_department_writers_give_the_file_s_result(lake, tmp_path_factory, mianyang_sources,
                                                             default_warehouse, chosen):
    departments = [d for d in mianyang_sources.departments if chosen is None or d.name in chosen]
    database = "parallel_lake" if chosen is None else "parallel_lake_" + "_".join(chosen)
    writer, analyst = ready_catalog(lake.folder, database, tmp_path_factory.mktemp("parallel-parquet"))
    downloads = tmp_path_factory.mktemp("parallel-downloads")

    with (SourceServer(meters=small_meters()) as server,
          reading(analyst.conninfo, READERS) as (seen, problems)):
        writers = [start(writer.conninfo, d.name, server, downloads / d.name) for d in departments]
        outputs = [w.communicate(timeout=600) for w in writers]
    assert len(writers) == (3 if chosen else len(mianyang_sources.departments))
    for w, (_, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0, err[-2000:]
    loaded = [r for out, _ in outputs for r in json.loads(out.strip().splitlines()[-1])]
    assert {status for _, status, _ in loaded} == {"loaded"}
    assert not problems, problems[:3]
    assert len(seen) > READERS  # the readers read while the writers wrote

    con = connect_lake(writer.conninfo)
    file = connect(default_warehouse, read_only=True)
    try:
        tables = raw_tables(mianyang_sources, [d.name for d in departments])
        if chosen is None:  # every department: the whole build too
            build(con, mianyang_sources)
            tables += list(COMPARED)
        for relation in dict.fromkeys(tables):
            assert rows(con, relation) == rows(file, relation), relation
        # no keys on a lake: nothing the MERGEs keep once is there twice after the concurrent loads
        assert con.execute("select count(*) - count(distinct (dataset, source_key)) from meta.source_state"
                           ).fetchone()[0] == 0
        assert con.execute("select count(*) from meta.load_log").fetchone()[0] == len(loaded)
    finally:
        file.close()
        con.close()


# The bounded run: 8 writer processes for a minute beside 4 reader loops (~2.5 min), the
# rounds after the first writing bookkeeping beside the other writers. `-m slow` only: one round
# alone took 53 s, and 67 s beside the rest of the suite, whose other tests it slowed (eight
# processes loading GX and pandas on two cores) by as much again (650 s in all).
@pytest.mark.slow
def test_eight_writers_and_four_readers_for_a_minute(lake, tmp_path_factory, mianyang_sources,
                                                     default_warehouse):
    departments = [d.name for d in mianyang_sources.departments][:8]
    writer, analyst = ready_catalog(lake.folder, "eight_writers_lake",
                                    tmp_path_factory.mktemp("eight-parquet"))
    downloads = tmp_path_factory.mktemp("eight-downloads")
    until = time.time() + 60
    with (SourceServer(meters=small_meters()) as server,
          reading(analyst.conninfo, READERS) as (seen, problems)):
        writers = [start(writer.conninfo, name, server, downloads / name, until) for name in departments]
        outputs = [w.communicate(timeout=600) for w in writers]
    for w, (_, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0, err[-2000:]  # 0 errors
    results = [r for out, _ in outputs for r in json.loads(out.strip().splitlines()[-1])]
    # every dataset of the eight departments loaded; rounds after the first find nothing new
    assert {status for _, status, _ in results} == {"loaded", "unchanged"}
    assert {dataset for dataset, status, _ in results if status == "loaded"} == {
        spec.table_name for name in departments for spec in mianyang_sources.department(name).datasets}
    assert not problems, problems[:3]  # no reader saw half a load
    assert len(seen) > READERS

    con = connect_lake(writer.conninfo)
    file = connect(default_warehouse, read_only=True)
    try:  # 0 lost and 0 duplicate rows: every raw table as the file holds it
        for relation in raw_tables(mianyang_sources, departments):
            assert rows(con, relation) == rows(file, relation), relation
        assert con.execute("select count(*) - count(distinct (dataset, source_key)) from meta.source_state"
                           ).fetchone()[0] == 0
        assert con.execute("select count(*) from meta.load_log").fetchone()[0] == sum(
            status == "loaded" for _, status, _ in results)
    finally:
        file.close()
        con.close()


def test_a_conflicting_write_is_run_again_whole(lake, tmp_path_factory):
    writer, _ = create_catalog(lake.folder, dbname="conflict_lake")
    first = connect_lake(writer.conninfo, tmp_path_factory.mktemp("conflict-parquet"))
    other = connect_lake(writer.conninfo)
    try:
        first.execute("create table main.health (dataset varchar, status varchar)")
        first.execute("insert into main.health values ('a', 'failed')")  # the MERGE updates it
        attempts = []

        def write() -> None:  # the shape of record_health: a MERGE in one transaction
            attempts.append(1)
            with transaction(first):
                first.execute("merge into main.health t using (select 'a' as dataset, 'ok' as status) s "
                              "on t.dataset = s.dataset when matched then update set status = s.status "
                              "when not matched then insert values (s.dataset, s.status)")
                if len(attempts) == 1:  # another writer commits to the same table meanwhile
                    other.execute("insert into main.health values ('b', 'ok')")

        retry_on_conflict(first, write, "recording the health of `test`")
        assert len(attempts) == 2  # the first commit conflicted (per table), the rerun went through
        assert sorted(first.execute("select * from main.health").fetchall()) == [("a", "ok"), ("b", "ok")]
    finally:
        first.close()
        other.close()


def test_a_lake_that_stays_busy_is_one_line_and_no_department_s_fault(lake, monkeypatch, tmp_path):
    monkeypatch.setattr(backend, "CONFLICT_ATTEMPTS", 3)
    monkeypatch.setattr(backend.time, "sleep", lambda s: None)

    def write() -> None:
        raise duckdb.TransactionException("TransactionContext Error: Transaction conflict: another writer")

    con = connect_lake(lake.writer.conninfo)
    try:
        with pytest.raises(WarehouseBusy) as err:
            retry_on_conflict(con, write, "loading energy.balance")
    finally:
        con.close()
    assert str(err.value).startswith("the lake stayed busy with other writers through 3 attempts at "
                                     "loading energy.balance") and "\n" not in str(err.value)
    file = connect(tmp_path / "w.duckdb")  # one writer on a file: a conflict is a bug, raised at once
    try:
        with pytest.raises(duckdb.TransactionException):
            retry_on_conflict(file, write, "loading energy.balance")
    finally:
        file.close()

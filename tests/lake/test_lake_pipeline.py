"""The pipeline on a DuckLake: the same fetch, gate, load and build as on the DuckDB file.

One load interface for both warehouses (warehouse/backend.py): the bookkeeping sheds keys and
sequences on a lake and every keyed write is a MERGE. The lake's result must equal the file's,
row for row, and a rerun must move nothing.
"""

from __future__ import annotations

import logging

import pytest

from source_server.server import SourceServer
from tests.helpers import build, fetch_and_check_on, small_meters
from tests.lake.compare import COMPARED, rows
from warehouse.db import connect
from warehouse.lake import connect_lake
from warehouse.load import load_batches


@pytest.fixture(scope="module")
def lake_run(lake, tmp_path_factory, mianyang_sources):
    """The default scenario ingested and built into the lake, then ingested again (with the file)."""
    downloads = tmp_path_factory.mktemp("lake-downloads")
    con = connect_lake(lake.writer.conninfo)
    try:
        with SourceServer(meters=small_meters()) as server:
            first = load_batches(con, fetch_and_check_on(con, mianyang_sources, server.url, server.token,
                                                         downloads))
            build(con, mianyang_sources)
            again = load_batches(con, fetch_and_check_on(con, mianyang_sources, server.url, server.token,
                                                         downloads))
        yield con, first, again
    finally:
        con.close()


def test_the_lake_holds_what_the_file_holds_row_for_row(lake_run, default_warehouse):
    con, first, _ = lake_run
    assert con.execute("select type from duckdb_databases() where database_name = current_database()"
                       ).fetchone()[0] == "ducklake"
    file = connect(default_warehouse, read_only=True)
    try:
        for relation in COMPARED:
            assert rows(con, relation) == rows(file, relation), relation
        loaded = {}
        for r in first:  # the day files and the day so far fill one raw table
            loaded[r.dataset] = loaded.get(r.dataset, 0) + r.rows_loaded
        assert loaded == dict(file.execute("select dataset, sum(rows_loaded) from meta.load_log "
                                           "group by dataset").fetchall())
    finally:
        file.close()
    statuses = dict(con.execute("select status, count(*) from kpi.kpi_status group by all").fetchall())
    assert statuses == {"achieved": 17, "on_track": 7, "at_risk": 5, "off_track": 12}


def test_a_rerun_on_the_lake_moves_nothing(lake_run):
    con, first, again = lake_run
    assert {r.status for r in again} == {"unchanged"} and len(again) == len(first)
    assert con.execute("select count(*) from meta.load_log").fetchone()[0] == len(first)
    # no keys on a lake: the bookkeeping's MERGEs must not have doubled anything
    for table, key in (("meta.source_state", "dataset, source_key"),
                       ("meta.partitions", "dataset, partition_day"), ("meta.source_health", "dataset")):
        twice = con.execute(f"select count(*) - count(distinct ({key})) from {table}").fetchone()[0]
        assert twice == 0, table


def test_a_second_build_on_the_lake_is_incremental_and_keeps_the_files_rows(lake_run, default_warehouse,
                                                                               mianyang_sources, caplog):
    # the incremental model's delete+insert runs on DuckLake too (no keys: a delete using a join)
    con, _, _ = lake_run
    relation = "marts.mart_buildings__meter_energy_daily"
    with caplog.at_level(logging.INFO, logger="warehouse.models"):
        build(con, mianyang_sources, select=f"+{relation.split('.')[1]}")
    assert f"{relation}: incremental, 0 row(s) replaced by 0" in caplog.messages
    file = connect(default_warehouse, read_only=True)
    try:
        assert rows(con, relation) == rows(file, relation) and rows(con, relation)
    finally:
        file.close()

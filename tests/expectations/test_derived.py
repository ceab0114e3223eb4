"""A suite's derived tables (`meta.prepare`) are built side by side, each after what it reads."""

from __future__ import annotations

import duckdb
import pytest

from expectations.derived import build_derived
from warehouse.db import connect


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "w.duckdb")
    con.execute("create schema if not exists stage")
    con.execute("create table stage.batch as select range as n, range % 7 as k from range(200000)")
    yield con
    con.close()


def test_each_table_is_built_from_the_batch_and_after_the_tables_it_reads(con):
    prepared = (
        ("stage.b__per_k", "select k, count(*) as rows, sum(n) as total from {batch} group by k"),
        ("stage.b__big", "select n from {batch} where n >= 199990"),
        # reads the first table: built after it, whichever thread gets there first
        ("stage.b__busiest", "select k from stage.b__per_k order by rows desc, k limit 1"),
    )
    build_derived(con, prepared, "stage.batch")
    assert con.execute("select sum(rows), sum(total) from stage.b__per_k").fetchone() == (
        200000, sum(range(200000)))
    assert con.execute("select count(*) from stage.b__big").fetchone()[0] == 10
    assert con.execute("select k from stage.b__busiest").fetchall() == [(0,)]


def test_a_table_that_fails_raises_its_own_error_and_its_readers_are_not_built(con):
    prepared = (
        ("stage.b__bad", "select cast('x' || n as integer) as y from {batch}"),
        ("stage.b__fine", "select count(*) as rows from {batch}"),
        ("stage.b__reader", "select * from stage.b__bad"),
    )
    with pytest.raises(duckdb.ConversionException, match="Could not convert string 'x"):
        build_derived(con, prepared, "stage.batch")
    tables = {t for (t,) in con.execute("select table_name from duckdb_tables() "
                                        "where schema_name = 'stage'").fetchall()}
    assert tables == {"batch", "b__fine"}  # the independent one finished; nothing half-built

"""Chunks held in memory, read by DuckDB as files of their own (warehouse/held_files.py)."""

from __future__ import annotations

import duckdb
import pytest

from warehouse.held_files import held_files


def test_chunks_are_read_in_order_and_gone_after_the_block():
    con = duckdb.connect()
    chunks = [b'{"n": 1}\n{"n": 2}', b'{"n": 3}', b'{"n": 4}\n{"n": 5}']
    with held_files(con, chunks, ".ndjson") as names:
        rows = con.execute(f"select n, row_number() over () from read_json({names}, "
                           "format = 'newline_delimited')").fetchall()
        registered = con.list_filesystems()
    assert rows == [(n, n) for n in range(1, 6)]  # lines numbered across the chunks, in order
    assert any(name.startswith("held") for name in registered)
    assert not any(name.startswith("held") for name in con.list_filesystems())
    with pytest.raises(duckdb.Error):
        con.execute(f"select * from read_json({names})").fetchall()


def test_two_held_days_on_one_connection_read_only_their_own():
    con = duckdb.connect()
    with held_files(con, [b'{"n": 1}'], ".ndjson") as first, \
            held_files(con, [b'{"n": 2}', b'{"n": 3}'], ".ndjson") as second:
        assert con.execute(f"select sum(n) from read_json({first})").fetchone()[0] == 1
        assert con.execute(f"select sum(n) from read_json({second})").fetchone()[0] == 5


def test_thousands_of_pages_are_read_whole():
    con = duckdb.connect()
    chunks = [f'{{"n": {n}}}'.encode() for n in range(5000)]
    with held_files(con, chunks, ".ndjson") as names:
        assert con.execute(f"select count(*), sum(n) from read_json({names})").fetchone() == (
            5000, sum(range(5000)))

"""What differs between the two warehouses: a DuckDB file and a DuckLake (issue 14).

The SQL is the same on both, with the exceptions handled here, so the loader has one code path:
- DuckLake has no PRIMARY KEY, UNIQUE or CHECK constraints and no sequences. The bookkeeping's
  DDL keeps them for the file (they catch bugs there) and sheds them on a lake (`portable_ddl`);
  every write that relied on a key is a MERGE, which both run alike.
- A load's sequence number (`next_load_seq`): the file's sequence; on a lake, where writers of
  different cities load at once and there is no sequence, the clock in microseconds, never below
  the highest number already used. It orders the vintages of one dataset, which one run writes.
- Other writers (`retry_on_conflict`): a lake's transaction that conflicts with another writer's
  is run again whole; on a file there are no other writers.
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import time
from collections.abc import Callable
from typing import TypeVar

import duckdb

from warehouse.errors import WarehouseBusy

log = logging.getLogger(__name__)
T = TypeVar("T")

# A lake detects conflicts per table: two writers that both MERGE into meta.source_state conflict
# even on different keys, and DuckLake's own retry count does not help; rerunning the whole
# transaction did (docs/research/ducklake-findings.md §4). Our writes are idempotent, so a rerun is safe.
CONFLICT_ATTEMPTS = 30

_SEQUENCE = re.compile(r"^\s*create sequence[^;]*;\s*$", re.IGNORECASE | re.MULTILINE)
_COLUMN_KEY = re.compile(r"\s+primary key(?=\s*[,\n])", re.IGNORECASE)
# a table constraint on its own line, with the comma that ends the line before it
_TABLE_CONSTRAINT = re.compile(r",(\s*--[^\n]*)?\n\s*(primary key|unique|check)\s*\([^\n]*\)(?=\s*\n\s*\))",
                               re.IGNORECASE)


def is_lake(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the connection's current database is a DuckLake."""
    row = con.execute("select type from duckdb_databases() where database_name = current_database()"
                      ).fetchone()
    return row is not None and row[0] == "ducklake"


def portable_ddl(con: duckdb.DuckDBPyConnection, ddl: str) -> str:
    """`ddl` as the connection's warehouse takes it: on a lake without keys, checks and sequences."""
    if not is_lake(con):
        return ddl
    ddl = _SEQUENCE.sub("", ddl)
    ddl = _TABLE_CONSTRAINT.sub(lambda m: m.group(1) or "", ddl)
    return _COLUMN_KEY.sub("", ddl)


def next_load_seq(con: duckdb.DuckDBPyConnection) -> int:
    """The next load's sequence number (see the module's docstring)."""
    if not is_lake(con):
        return con.execute("select nextval('meta.load_seq')").fetchone()[0]
    used = con.execute("select coalesce(max(load_seq), 0) from meta.load_log").fetchone()[0]
    return max(time.time_ns() // 1000, used + 1)


def retry_on_conflict(con: duckdb.DuckDBPyConnection, write: Callable[[], T], what: str) -> T:
    """`write()` (one whole transaction), run again while another writer of the lake conflicts.

    After CONFLICT_ATTEMPTS the lake is busy, which is nobody's data: one line, nothing written.
    """
    for attempt in range(1, CONFLICT_ATTEMPTS):
        try:
            return write()
        except duckdb.TransactionException as exc:
            if not is_lake(con):  # a file has one writer: a conflict there is a bug
                raise
            with contextlib.suppress(duckdb.Error):  # DuckDB has rolled back already, as a rule
                con.execute("rollback")
            log.info("%s conflicted with another writer of the lake (%s); attempt %d of %d", what,
                     _first_line(exc), attempt + 1, CONFLICT_ATTEMPTS)
            time.sleep(random.uniform(0.05, 0.3) * attempt)
    try:
        return write()
    except duckdb.TransactionException as exc:
        if not is_lake(con):
            raise
        raise WarehouseBusy(f"the lake stayed busy with other writers through {CONFLICT_ATTEMPTS} "
                            f"attempts at {what} ({_first_line(exc)}); nothing of it was written: run "
                            "again") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:160]

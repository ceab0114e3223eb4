"""Great Expectations' SQL data source on the warehouse's own DuckDB connection.

Two things make GX 1.24.1 work on DuckDB here (see ../shared/notes/integration-facts.md, 2b):

- GX runs each metric query in `with engine.connect():` and fetches after the connection has
  closed; duckdb-engine drops a pending result when its connection closes, so every metric comes
  back empty ("list index out of range"). GX already keeps one connection open for SQLite and a
  few others (`_PERSISTED_CONNECTION_DIALECTS`); `persist_duckdb_connection()` adds DuckDB.
  This patches a private name, so great_expectations is pinned and a test covers the patch.
- DuckDB refuses a second connection to the same file with another configuration, and
  duckdb-engine adds its own user agent to the configuration. So GX is handed a cursor of the
  connection the flow already holds (`creator=`), not a connection string: same database, same
  process, no lock conflict, and GX sees exactly what the flow committed.
"""

from __future__ import annotations

import contextlib
import enum
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:
    from great_expectations.datasource.fluent.interfaces import Batch


class _DuckDBDialect(enum.StrEnum):
    # A str enum: GX compares the engine's dialect *name* (a str) against this tuple, and reads
    # `.value` of each member when it matches connection strings.
    DUCKDB = "duckdb"


def engine_module():
    """GX's SQLAlchemy execution engine module, which holds the list being patched."""
    from great_expectations.execution_engine import sqlalchemy_execution_engine

    return sqlalchemy_execution_engine


def persist_duckdb_connection() -> None:
    """Make GX keep one open connection for DuckDB (idempotent)."""
    engine = engine_module()
    if _DuckDBDialect.DUCKDB not in engine._PERSISTED_CONNECTION_DIALECTS:
        engine._PERSISTED_CONNECTION_DIALECTS = (*engine._PERSISTED_CONNECTION_DIALECTS,
                                                 _DuckDBDialect.DUCKDB)


def same_database_cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of `con` in the database `con` uses.

    A cursor starts in the instance's default database: on a DuckLake connection (`USE lake`)
    that is the in-memory one, where none of the warehouse's schemas are.
    """
    database = con.execute("select current_database()").fetchone()[0]
    cursor = con.cursor()
    cursor.execute('use "' + database.replace('"', '""') + '"')
    return cursor


@contextlib.contextmanager
def table_batch(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> Iterator[Batch]:
    """A GX batch over `schema.table`, read through a cursor of `con`, closed on exit."""
    import great_expectations as gx
    from duckdb_engine import ConnectionWrapper
    from great_expectations.data_context.types.base import ProgressBarsConfig

    persist_duckdb_connection()
    # GX logs every ephemeral context it makes at INFO, and warns that it has no DuckDB dialect
    # module (it falls back to SQLAlchemy's generic types, which is fine for our checks).
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    cursor = same_database_cursor(con)
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    source = context.data_sources.add_sql(
        name="warehouse", connection_string="duckdb:///:memory:",
        kwargs={"creator": lambda: ConnectionWrapper(cursor)})
    batch = (source.add_table_asset(name=table, table_name=table, schema_name=schema)
             .add_batch_definition_whole_table("whole").get_batch())
    try:
        yield batch
    finally:
        # Hand the persisted connection back and dispose of the engine while the cursor is still
        # open; the other way round SQLAlchemy logs a failed rollback on a closed connection.
        engine = batch.data.execution_engine
        if engine._connection is not None:
            engine._connection.close()
        engine.engine.dispose()
        cursor.close()

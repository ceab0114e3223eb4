"""Opening the warehouse file: one writer at a time, offline, with a clear error when locked."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseBusy, WarehouseError
from warehouse.lake import city_namespace, connect_pointer, is_pointer

SCHEMAS = ("raw", "staging", "marts", "kpi", "meta", "config")


def connect(path: Path, read_only: bool = False, *, city_code: str | None = None
            ) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; never downloads an extension (this must work offline).

    A `.lake` path is a pointer to a DuckLake (`carbonpeak lake init` writes it) that many cities
    share: the namespace of `city_code` (city.yml's `code`) is attached instead, read-only when
    asked. A file holds one city and ignores the code.
    """
    if is_pointer(path):
        if city_code is None:
            raise WarehouseError(f"`{path}` is a lake that many cities share, and this city's city.yml "
                                 "has no `code:`: add its six-digit administrative division code, "
                                 "e.g. `code: \"510700\"` for Mianyang")
        con = connect_pointer(path, city_namespace(city_code), read_only=read_only)
    else:
        con = _connect_file(path, read_only)
    # DuckDB 1.5.5's top-N window rewrite fails `row_number() = 1` over kpi_status ("Type mismatch
    # for SET OPERATION"); analysts get the same advice in the README
    con.execute("set disabled_optimizers = 'top_n_window_elimination'")
    return con


def _connect_file(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only and not path.exists():
        raise WarehouseError(f"warehouse `{path}` does not exist yet; run `carbonpeak run` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"warehouse `{path}` is open in another process (DuckDB allows one writer); "
                "wait for the running flow to finish, or close the other session — analysts "
                f"should open the read-only snapshot `{path.parent / 'analyst' / path.name}`"
            ) from None
        raise WarehouseError(f"cannot open warehouse `{path}`: {exc}") from None


def clear_stage(con: duckdb.DuckDBPyConnection) -> int:
    """Drop batches a killed run left in `stage` (validation's scratch space); returns how many."""
    leftovers = con.execute("select count(*) from duckdb_tables() where schema_name = 'stage' "
                            "and database_name = current_database()").fetchone()[0]
    con.execute("drop schema if exists stage cascade")
    return leftovers


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    for schema in SCHEMAS:
        con.execute(f"create schema if not exists {schema}")


def replace_table(con: duckdb.DuckDBPyConnection, relation: str, frame: object, select: str = "*") -> None:
    """Replace `relation` (schema.table, a name of ours) with the rows of a pandas frame.

    `select` may reshape the frame's columns on the way in (e.g. `* replace (...)`).
    """
    ensure_schemas(con)
    con.register("_replacing", frame)
    try:
        con.execute(f"create or replace table {relation} as select {select} from _replacing")
    finally:
        con.unregister("_replacing")


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every base table, by `schema.table`."""
    tables = con.execute("select schema_name, table_name from duckdb_tables() "
                         "where database_name = current_database() order by 1, 2").fetchall()
    return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0]
            for s, t in tables}


def quote_ident(name: str) -> str:
    """An identifier for SQL, always quoted as DuckDB quotes: `"` around it, inner `"` doubled.

    Names from `sources.yml` are refused unless they are plain identifiers when the file is read
    (connectors/safety.py); quoting them too means a name that slipped through stays a name.
    """
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A SQL string literal, for the few statements (COMMENT ON) that take no parameters."""
    return "'" + text.replace("'", "''") + "'"


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, database: str | None = None) -> bool:
    """Whether `schema.table` (a table or a view) exists in the warehouse `con` is open on.

    `database` names another attached one (the province reads its cities' lakes).
    """
    return table in relations(con, schema, database)


def relations(con: duckdb.DuckDBPyConnection, schema: str, database: str | None = None) -> list[str]:
    """The tables and views of `schema` in the warehouse `con` is open on (or in `database`)."""
    return [r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = $schema and database_name = "
        "coalesce($database, current_database()) union select view_name from duckdb_views() where "
        "schema_name = $schema and database_name = coalesce($database, current_database())",
        {"schema": schema, "database": database}).fetchall()]


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All of the block's statements, or none of them."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        # On a full disk the rollback can fail too; its error must not mask the first one.
        with contextlib.suppress(duckdb.Error):
            con.execute("rollback")
        raise
    con.execute("commit")


# What the OS says when the warehouse cannot be written, whoever's data it was.
_DISK_PROBLEMS = {"no space left on device": "no space left on device",
                  "disk quota exceeded": "disk quota exceeded",
                  "read-only file system": "the file system is read-only",
                  "permission denied": "permission denied"}


def warehouse_problem(exc: BaseException, path: Path) -> WarehouseError | None:
    """A DuckDB error that is the disk's, not the data's, as one true line (else None)."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
        text = os.strerror(exc.errno).lower()
    elif isinstance(exc, duckdb.Error):
        text = str(exc).lower()
    else:
        return None
    elsewhere = getattr(exc, "filename", None)
    for needle, words in _DISK_PROBLEMS.items():
        if needle in text and elsewhere and Path(elsewhere).resolve() != Path(path).resolve():
            # a file of the run's own beside the warehouse (a download): still no department's fault
            return WarehouseError(f"{words} writing `{elsewhere}` on the platform's own disk (the "
                                  f"warehouse is `{path}`); nothing was loaded from it and the warehouse "
                                  "is unchanged by it: free space (or fix the permissions) and run again")
        if needle in text:
            return WarehouseError(f"{words} writing the warehouse `{path}`; the write was rolled back, "
                                  "so the previous warehouse is unchanged (departments loaded earlier in "
                                  "this run stay loaded): free space (or fix the permissions) and run again")
    return None


def as_dicts(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    """The rows of an executed query as dicts keyed by column name."""
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
